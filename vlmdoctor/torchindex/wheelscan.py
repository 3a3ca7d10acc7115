"""Read one torch wheel as a zip file with ``ast`` (never importing it).

Gives every module the wheel ships (``.py`` files, and the ``.pyi`` stubs of the compiled
``torch._C`` modules) and, for the modules that model code and the packages built on torch
import from, the names a user can import: module-level definitions, assignments and
imports, ``__all__`` entries, what a star import inside torch brings in, the names a
module-level ``__getattr__`` answers, and for ``torch`` itself the functions it copies from
``torch._C._VariableFunctions``. Used only by ``scripts/build_torch_index.py``.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Union

from vlmdoctor.tfindex.astnames import parse
from vlmdoctor.torchindex.astfacts import FileFacts, file_facts, private_ops

PARSER_VERSION = 4
# Internals nobody outside torch imports names from: their modules are indexed (so that
# "No module named" is answered), their names are not (so the names file stays small).
NAMES_SKIPPED = ("torch/testing/_internal/", "torch/_inductor/", "torch/_decomp/",
                 "torch/_refs/", "torch/_prims/", "torch/_prims_common/", "torch/onnx/_internal/",
                 "torch/_export/", "torch/_functorch/", "torch/_higher_order_ops/",
                 "torch/fx/experimental/", "torch/utils/benchmark/", "torch/utils/hipify/",
                 "torch/_numpy/", "torch/_strobelight/", "torch/_dynamo/", "torch/_lazy/",
                 "torch/include/", "torch/share/", "torch/_vendor/", "torch/distributed/_tools/",
                 "torch/ao/pruning/", "torch/_library/", "torch/_subclasses/",
                 "torch/distributed/elastic/", "torch/distributed/pipelining/",
                 "torch/utils/_sympy/", "torch/csrc/", "torch/_logging/", "torch/_custom_op/",
                 "torch/nativert/", "torch/_native/", "torch/onnx/symbolic_",
                 "torch/_meta_registrations.py", "torch/_C/")
STUBS = "torch/_C/"
VARIABLE_FUNCTIONS = "torch._C._VariableFunctions"

Scanned = dict[str, Union[list[str], dict[str, list[str]]]]


def module_of(path: str) -> str | None:
    """The dotted module a wheel member is, or None when it is not an importable module."""
    if not path.startswith("torch/"):
        return None
    if path.endswith(".py"):
        stem = path[: -len(".py")]
    elif path.endswith(".pyi") and path.startswith(STUBS):
        stem = path[: -len(".pyi")]
    else:
        return None
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def names_indexed(path: str) -> bool:
    """Whether a module's names are kept. The stubs of ``torch._C`` are not: they describe
    the compiled module only roughly (the names ``torch`` copies from them are kept)."""
    if path.startswith(STUBS):
        return False
    return not path.startswith(NAMES_SKIPPED) or path.endswith("/__init__.py")


def scan_wheel(wheel: Path, memo: dict[bytes, FileFacts] | None = None) -> Scanned:
    """``{"modules": {module: [names]}, "bare": [module, ...], "star": {module: [names]}}``,
    all sorted: ``bare`` modules exist in this release but their names are not indexed;
    ``star`` is what a star import gives from the modules that define ``__all__``."""
    with zipfile.ZipFile(wheel) as zf:
        sources = {n: zf.read(n) for n in zf.namelist() if module_of(n) is not None}
    return scan_sources(sources, {} if memo is None else memo)


def scan_sources(sources: dict[str, bytes], memo: dict[bytes, FileFacts]) -> Scanned:
    facts: dict[str, FileFacts] = {}
    paths: dict[str, str] = {}
    for path, data in sorted(sources.items()):
        module = module_of(path)
        if module is None or (module in paths and path.endswith(".pyi")):
            continue  # a .py wins over a stub of the same module
        stub = path.endswith(".pyi")
        key = hashlib.sha1(data + (b"\0stub" if stub else b"")).digest()
        if key not in memo:
            memo[key] = file_facts(data, stub=stub)
        facts[module] = memo[key]
        paths[module] = path
    resolver = _Stars(facts, paths)
    modules: dict[str, list[str]] = {}
    star: dict[str, list[str]] = {}  # what ``from module import *`` gives, where __all__ says
    bare: list[str] = []
    for module, path in sorted(paths.items()):
        if not names_indexed(path):
            bare.append(module)
            continue
        names = set(facts[module][0]) | resolver.brought_in(module)
        if module == "torch" and VARIABLE_FUNCTIONS in facts:
            private = private_ops(parse(sources[path].decode("utf-8", "replace")))
            names |= {n for n in facts[VARIABLE_FUNCTIONS][0]
                      if not n.startswith("__") and n not in private}
        modules[module] = sorted(names)
        listed = facts[module][1]
        if listed is not None:
            star[module] = sorted(set(listed) | _copied_into_all(module, facts))
    return {"modules": modules, "bare": bare, "star": star}


def _copied_into_all(module: str, facts: dict[str, FileFacts]) -> set[str]:
    """``torch`` appends the public names of ``torch._C`` and its ``_VariableFunctions`` to
    ``__all__`` in loops."""
    if module != "torch":
        return set()
    return {n for stub in ("torch._C", VARIABLE_FUNCTIONS) if stub in facts
            for n in facts[stub][0] if not n.startswith("_")}


class _Stars:
    """What ``from X import *`` inside torch brings into a module (transitively)."""

    def __init__(self, facts: dict[str, FileFacts], paths: dict[str, str]) -> None:
        self.facts = facts
        self.paths = paths
        self._exports: dict[str, frozenset[str]] = {}

    def brought_in(self, module: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        for level, target in self.facts[module][2]:
            source = self._absolute(module, level, target)
            if source in self.facts and source not in seen:
                found |= self.exports(source, seen | {module})
        return found

    def exports(self, module: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if module not in self._exports:
            names, listed, _ = self.facts[module]
            if listed is not None:
                out = frozenset(listed)
            else:
                out = frozenset(n for n in names | self.brought_in(module, seen)
                                if not n.startswith("_"))
            self._exports[module] = out
        return self._exports[module]

    def _absolute(self, module: str, level: int, target: str) -> str:
        if level == 0:
            return target
        package = module.split(".") if self.paths[module].endswith(
            ("/__init__.py", "/__init__.pyi")) else module.split(".")[:-1]
        base = package[: len(package) - (level - 1)]
        return ".".join(base + ([target] if target else []))
