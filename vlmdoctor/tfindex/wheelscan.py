"""Read one transformers wheel as a zip file with ``ast`` (never importing it).

Gives the ``model_type``s its auto-config mapping registers and, per indexed module, the
names a user can import from it: module-level definitions, assignments and imports (which
Python re-exports), ``__all__`` entries and the names a lazy ``import_structure`` declares.
Used only by the maintainer script ``scripts/build_transformers_index.py``.
"""

from __future__ import annotations

import ast
import hashlib
import re
import zipfile
from pathlib import Path
from typing import Union

from vlmdoctor.tfindex.astnames import (
    config_mapping_keys,
    dunder_all,
    import_structure,
    parse,
    top_level_names,
    uses_define_import_structure,
)

PARSER_VERSION = 2
_PKG = "transformers/"
# Model-directory files people import from; TF/Flax variants and conversion scripts left out.
_MODEL_FILE = re.compile(
    r"transformers/models/(?:deprecated/)?\w+/"
    r"(?:modeling_(?!tf_|flax_)\w+|configuration_\w+|processing_\w+|image_processing_\w+"
    r"|tokenization_\w+|__init__)\.py")
_SKIP_TOP = ("transformers/commands/", "transformers/cli/", "transformers/onnx/",
             "transformers/benchmark/", "transformers/models/", "transformers/kernels/",
             "transformers/sagemaker/")
_AUTO_FILES = ("transformers/models/auto/configuration_auto.py",
               "transformers/models/auto/auto_mappings.py")

Scanned = dict[str, Union[list[str], dict[str, list[str]]]]


def indexed(path: str) -> bool:
    if not path.endswith(".py") or not path.startswith(_PKG):
        return False
    if path.startswith("transformers/models/"):
        return _MODEL_FILE.fullmatch(path) is not None
    return not path.startswith(_SKIP_TOP) and "_tf_" not in path and "_flax_" not in path


def module_name(path: str) -> str:
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


FileFacts = tuple[frozenset[str], tuple[str, ...], bool, frozenset[str]]


def scan_wheel(wheel: Path, memo: dict[bytes, FileFacts] | None = None) -> Scanned:
    """``{"model_types": [...], "modules": {module: [names]}}``, all sorted.

    ``memo`` maps a file's bytes to what was read from it, so a run over many releases
    (keyed by their SHA-1) parses each distinct file once (most files are unchanged between releases).
    """
    with zipfile.ZipFile(wheel) as zf:
        sources = {n: zf.read(n) for n in zf.namelist() if indexed(n) or n in _AUTO_FILES}
    return add_lazy_exports(scan_sources(sources, {} if memo is None else memo), wheel)


_ALL_LIST = re.compile(r"^__all__\s*=\s*(\[.*?\])", re.S | re.M)
_LAZY_FILE = re.compile(r"transformers/models/(?:[\w/]+/)?(?!convert_|modular_|__init__)\w+\.py")


def add_lazy_exports(scan: Scanned, wheel: Path) -> Scanned:
    """Add the ``__all__`` names of the model files this index does not list itself (TF/Flax
    modeling, feature extractors, ...) to the lazy packages that export them: the top level
    and ``models.X`` whose ``__init__`` uses ``define_import_structure`` (which reads
    ``__all__`` from every file but ``convert_*``/``modular_*``)."""
    modules = scan["modules"]
    assert isinstance(modules, dict)
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(zf.namelist())
        lazy_inits = {n[: -len("__init__.py")] for n in names
                      if n.startswith("transformers/") and n.endswith("/__init__.py")
                      and (n == "transformers/__init__.py" or n.startswith("transformers/models/"))
                      and uses_define_import_structure(parse(zf.read(n).decode("utf-8", "replace")))}
        extra: dict[str, set[str]] = {}
        for name in names:
            if indexed(name) or not _LAZY_FILE.fullmatch(name):
                continue
            listed = _all_of(zf.read(name).decode("utf-8", "replace"))
            folder = name.rsplit("/", 1)[0] + "/"
            for init in (folder, "transformers/"):
                if init in lazy_inits and listed:
                    extra.setdefault(module_name(init + "__init__.py"), set()).update(listed)
    for module, added in extra.items():
        if module in modules:
            modules[module] = sorted(set(modules[module]) | added)
    return scan


def _all_of(text: str) -> list[str]:
    if "__all__" not in text:
        return []
    match = _ALL_LIST.search(text)
    if match is not None:
        try:
            value = ast.literal_eval(match.group(1))
            return [v for v in value if isinstance(v, str)]
        except (ValueError, SyntaxError):
            pass
    return list(dunder_all(parse(text)))


def scan_sources(sources: dict[str, bytes], memo: dict[bytes, FileFacts]) -> Scanned:
    facts: dict[str, FileFacts] = {}
    for path, data in sources.items():
        key = hashlib.sha1(data).digest()
        if key not in memo:
            memo[key] = _file_facts(data)
        facts[path] = memo[key]
    all_lists = {path: f[1] for path, f in facts.items()}
    modules: dict[str, set[str]] = {}
    types: set[str] = set()
    for path, (names, _, uses_define, mapping_keys) in facts.items():
        if path in _AUTO_FILES:
            types |= mapping_keys
        if not indexed(path):
            continue
        found = set(names)
        if path.endswith("__init__.py") and uses_define:
            found |= _all_below(path, all_lists, whole_models=path == "transformers/__init__.py")
        modules[module_name(path)] = found
    return {"model_types": sorted(types),
            "modules": {m: sorted(n) for m, n in sorted(modules.items())}}


def _file_facts(data: bytes) -> FileFacts:
    tree = parse(data.decode("utf-8", "replace"))
    listed = tuple(dunder_all(tree))
    names = frozenset(top_level_names(tree)) | frozenset(listed) | import_structure(tree)
    return names, listed, uses_define_import_structure(tree), frozenset(config_mapping_keys(tree))


def _all_below(init_path: str, all_lists: dict[str, tuple[str, ...]], *,
               whole_models: bool) -> set[str]:
    folder = init_path[: -len("__init__.py")]
    prefix = "transformers/models/" if whole_models else folder
    names: set[str] = set()
    for path, listed in all_lists.items():
        if path != init_path and path.startswith(prefix) and (
                whole_models or "/" not in path[len(prefix):]):
            names |= set(listed)
    return names
