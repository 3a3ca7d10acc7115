"""What a serving engine's release artefact says, read with ``ast`` (never imported).

Each engine keeps a registry of the model architectures it serves (the ``architectures``
of a checkpoint's ``config.json``):

- vLLM: module-level dicts of ``"Arch": ("module", "Class")`` in
  ``vllm/model_executor/models/registry.py`` (from 0.6), ``models/__init__.py`` (0.3-0.5)
  or ``model_executor/model_loader.py`` (0.2, values are classes); dicts of archs that are
  *no longer* served (``_PREVIOUSLY_SUPPORTED_MODELS``), out-of-tree plugins and ROCm notes
  are not registrations.
- SGLang: ``EntryClass = Class`` or ``[Class, ...]`` in each ``sglang/srt/models/*.py``.
- LMDeploy: ``MODULE_MAP`` entries of ``lmdeploy/pytorch/models/module_map.py`` (PyTorch
  engine), ``SUPPORTED_ARCHS`` of ``lmdeploy/turbomind/supported_models.py`` (TurboMind),
  and the ``_arch`` of each vision model in ``lmdeploy/vl/model/*.py``.

The artefact's own metadata (``PKG-INFO`` / ``METADATA``) gives its pins on torch and
transformers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

ARCH = re.compile(r"^[A-Z][A-Za-z0-9_]{2,100}$")
_NOT_REGISTRATIONS = ("PREVIOUSLY", "OOT", "ROCM", "REMOVED", "DEVICE", "ASCEND", "MACA", "CAMB")
_PINNED = ("torch", "transformers")
_REQ = re.compile(r"^Requires-Dist:\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*\(?([^;()]*)\)?\s*(;.*)?$")


def _parse(source: bytes, name: str) -> ast.Module | None:
    try:
        return ast.parse(source, name)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _target(node: ast.stmt) -> tuple[str, ast.expr] | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and node.value is not None:
        target = node.targets[0]
        return (target.id, node.value) if isinstance(target, ast.Name) else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return node.target.id, node.value
    return None


def _is_class_ref(value: ast.expr) -> bool:
    if isinstance(value, ast.Name):
        return True
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == 2:
        return all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts)
    return False


def _dict_keys(value: ast.expr) -> list[str] | None:
    """The string keys of a dict literal or ``dict(...)`` call, or None when it is neither."""
    if isinstance(value, ast.Dict):
        keys = [k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        return keys
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        return [k.arg for k in value.keywords if k.arg]
    return None


def vllm_archs(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in tree.body:
        target = _target(node)
        if target is None or any(w in target[0].upper() for w in _NOT_REGISTRATIONS):
            continue
        value = target[1]
        if (isinstance(value, ast.Dict) and value.keys
                and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys)
                and all(_is_class_ref(v) for v in value.values)):
            found.update(str(k.value) for k in value.keys if isinstance(k, ast.Constant))
    return {a for a in found if ARCH.match(a)}


def sglang_archs(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in tree.body:
        target = _target(node)
        if target is None or target[0] != "EntryClass":
            continue
        items = target[1].elts if isinstance(target[1], (ast.List, ast.Tuple)) else [target[1]]
        for item in items:
            if isinstance(item, ast.Name):
                found.add(item.id)
            elif isinstance(item, ast.Attribute):
                found.add(item.attr)
    return {a for a in found if ARCH.match(a)}


def lmdeploy_archs(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "update" and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in ("MODULE_MAP", "SUPPORTED_ARCHS") and node.args:
            found.update(_dict_keys(node.args[0]) or ())
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = _target(node)
            if target is None:
                continue
            name, value = target
            if name in ("MODULE_MAP", "SUPPORTED_ARCHS"):
                found.update(_dict_keys(value) or ())
            elif name == "_arch":
                items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
                found.update(i.value for i in items
                             if isinstance(i, ast.Constant) and isinstance(i.value, str))
    return {a for a in found if ARCH.match(a)}


# engine -> (path patterns inside the package, reader)
ENGINES = {
    "vllm": (re.compile(r"(^|/)vllm/model_executor/(models/registry\.py|models/__init__\.py"
                        r"|model_loader\.py)$"), vllm_archs),
    "sglang": (re.compile(r"(^|/)sglang/srt/models/[A-Za-z0-9_]+\.py$"), sglang_archs),
    "lmdeploy": (re.compile(r"(^|/)lmdeploy/(pytorch/models/module_map\.py"
                            r"|turbomind/supported_models\.py|vl/model/[A-Za-z0-9_]+\.py)$"),
                 lmdeploy_archs),
}


def wanted(engine: str, path: str) -> bool:
    return bool(ENGINES[engine][0].search(path))


def archs(engine: str, files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Every architecture the engine's files register, sorted."""
    reader = ENGINES[engine][1]
    found: set[str] = set()
    for name, source in files:
        tree = _parse(source, name)
        if tree is not None:
            found |= reader(tree)
    return sorted(found)


def _requirements(metadata: str) -> Iterator[tuple[str, str]]:
    for line in metadata.splitlines():
        if not line.strip():
            break  # the header ends at the first blank line
        match = _REQ.match(line.strip())
        if match and not (match.group(4) and "extra" in match.group(4)):
            yield match.group(1).lower().replace("_", "-"), match.group(3).replace(" ", "")


def pins(metadata: str) -> dict[str, str]:
    """The unconditional Requires-Dist specifiers on torch and transformers."""
    return {name: spec for name, spec in _requirements(metadata) if name in _PINNED}
