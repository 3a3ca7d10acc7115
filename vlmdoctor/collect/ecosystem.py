"""Installed packages that build on transformers: what ``import PKG`` imports from it.

For every distribution whose metadata requires transformers (peft, trl, accelerate's
neighbours, vLLM, SGLang, LMDeploy, DeepSpeed, LLaMA-Factory, ms-swift, xtuner,
VLMEvalKit, …; read from the snapshot's ``requirements``), follow its import graph from
``PKG/__init__.py`` through the package's own modules, and record every *unconditional*
module-level ``import``/``from … import`` of transformers and torch: the names that must
exist for ``import PKG`` to succeed. Imports inside ``try``, ``if`` (version and
availability checks), functions and classes are left out: they cannot fail an import of
the package on their own.

Read with ``ast``, never imported; bounded per package (files, bytes, time); cached per
(distribution, RECORD size and mtime) under the user cache, so the gate pays for a scan
once. The result goes into the snapshot (``ecosystem``), so ``--from-report`` replays it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vlmdoctor.collect.packages import Distribution
from vlmdoctor.collect.requirements import requirement_name

TARGETS = ("transformers", "torch")  # the packages whose names are checked
MAX_FILES = 400
MAX_FILE_BYTES = 2_000_000
BUDGET_SECONDS = 5.0  # per package, on a cold cache: a safety net, never reached in practice
MAX_PACKAGES = 40
_TAG = "ecosystem-v1"


def dependents(requirements: Mapping[str, Iterable[str]] | None) -> list[str]:
    """Installed distributions that declare a requirement on transformers (any marker)."""
    return sorted(name for name, reqs in (requirements or {}).items()
                  if name != "transformers"
                  and any(requirement_name(r) == "transformers" for r in reqs))[:MAX_PACKAGES]


def _import_names(dist: Distribution) -> list[str]:
    info = Path(dist.path)
    try:
        tops = (info / "top_level.txt").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        tops = []
    stem = info.name.split("-")[0]
    return [t for t in dict.fromkeys([*tops, stem, stem.lower()]) if t.isidentifier()]


def _package_dir(dist: Distribution, paths: Iterable[str]) -> tuple[str, Path] | None:
    site = Path(dist.path).parent
    for name in _import_names(dist):
        for entry in (site, *(Path(p) for p in paths)):
            if (entry / name / "__init__.py").is_file():
                return name, entry / name
    return None


def _resolve(node: Any, here: str, is_package: bool) -> str:
    """The absolute module of an ``ast.ImportFrom`` in module ``here``."""
    if node.level == 0:
        return node.module or ""
    base = here.split(".")
    drop = node.level - 1 if is_package else node.level
    if drop > len(base):
        return ""
    parts = base[: len(base) - drop] + ([node.module] if node.module else [])
    return ".".join(parts)


def _file_of(module: str, root: Path, package: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != package:
        return None
    target = root.joinpath(*parts[1:])
    for candidate in (target / "__init__.py", target.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


class OutOfTime(Exception):
    """A scan ran past its time budget: its result depends on the machine, so it is not kept."""


def scan_package(root: Path, package: str) -> dict[str, Any]:
    """Follow ``import package`` through its own modules; the transformers/torch imports.
    Bounded by a file count (deterministic: the result is cached) and a time budget
    (OutOfTime)."""
    import ast  # only a cold cache scans: the gate imports it no more than needed

    start = time.perf_counter()
    queue, seen = [root / "__init__.py"], {root / "__init__.py"}
    sites: list[dict[str, Any]] = []
    complete = True
    while queue:
        if len(seen) > MAX_FILES:
            complete = False
            break
        if time.perf_counter() - start > BUDGET_SECONDS:
            raise OutOfTime(package)
        path = queue.pop(0)
        label = path.relative_to(root.parent).as_posix()
        here = label[: -len(".py")].replace("/", ".").removesuffix(".__init__")
        is_package = path.name == "__init__.py"
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            tree = ast.parse(path.read_bytes(), filename=label)
        except (OSError, ValueError, SyntaxError, RecursionError, MemoryError):
            continue
        for node in tree.body:  # module level, unconditional: not in try, if, def or class
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.Import):
                pairs = [(a.name, "") for a in node.names]
            else:
                module = _resolve(node, here, is_package)
                pairs = [(module, a.name) for a in node.names]
            for module, name in pairs:
                top = module.split(".")[0]
                if top in TARGETS:
                    sites.append({"file": label, "line": node.lineno, "module": module,
                                  "names": [name] if name and name != "*" else []})
                    continue
                for dotted in (f"{module}.{name}" if name else module, module):
                    found = _file_of(dotted, root, package) if dotted else None
                    if found is not None and found not in seen:
                        seen.add(found)
                        queue.append(found)
                        break
    return {"package": package, "files": len(seen), "complete": complete, "imports": sites}


def read_ecosystem(dists: Mapping[str, Distribution],
                   requirements: Mapping[str, Iterable[str]] | None,
                   paths: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per dependent distribution: its version, import name and unconditional imports."""
    from vlmdoctor.yamlio import load_derived

    search = list(sys.path if paths is None else paths)
    out: dict[str, dict[str, Any]] = {}
    for name in dependents(requirements):
        dist = dists.get(name)
        found = _package_dir(dist, search) if dist is not None else None
        if dist is None or found is None:
            continue
        package, root = found
        keys = [p for p in (Path(dist.path) / "RECORD", root / "__init__.py") if p.is_file()]
        try:
            scanned = load_derived(keys, f"{_TAG}-{name}",
                                   lambda root=root, package=package: scan_package(root, package))
        except OutOfTime:
            scanned = {"package": package, "files": 0, "complete": False, "imports": []}
        out[name] = {"version": dist.version, **scanned}
    return out
