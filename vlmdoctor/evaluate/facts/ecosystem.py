"""Installed packages that build on transformers vs the installed transformers: does every
name that ``import PKG`` imports from transformers exist in that release? Answered from the
transformers release index for any package and any name (the snapshot's ``ecosystem``)."""

from __future__ import annotations

from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.code import index_or_none
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.shell import arg, word


def _scan(name: str, entry: Any, top: str = "transformers") -> Any:
    from vlmdoctor.modelcode.scan import CodeScan, ImportSite

    sites = tuple(ImportSite(file=str(i["file"]), line=int(i["line"]), module=str(i["module"]),
                             names=tuple(i["names"]), local=False, guard="")
                  for i in entry.get("imports", ()) if str(i["module"]).split(".")[0] == top)
    return CodeScan(origin=f"package {name}", files=(), imports=sites)


def _check_all(ecosystem: Any, found: str) -> list[dict[str, Any]] | None:
    """Every package's missing names (None: the index cannot be read)."""
    index = index_or_none()
    if index is None:
        return None
    from vlmdoctor.modelcode.tfcheck import code_name_problems

    out = []
    for name, entry in sorted(ecosystem.items()):
        problem = code_name_problems(index, [_scan(name, entry)], found)
        if problem is None:
            continue
        listed = "; ".join(f"{m['where']} imports {m['name']} (in transformers {m['present']})"
                           for m in problem["missing"][:4])
        more = len(problem["missing"]) - 4
        spec = problem["spec"]
        version = entry.get("version", "")
        out.append({
            "requirer": name, "requirer_version": version, "package": "transformers",
            "found": found, "spec": spec or "", "severity": "error",
            "where": listed + (f"; +{more} more" if more > 0 else ""),
            "why": (f"`import {entry.get('package') or name}` stops with ImportError: "
                    f"transformers {found} lacks names it imports unconditionally."
                    + ("" if spec else " No indexed transformers release has all of them.")),
            "fix": ([f"pip install {arg('transformers' + spec)}   # the releases that have "
                     "every name it imports"] if spec else [])
                   + [f"# or install a {word(name)} release built for transformers {found} "
                      f"(its metadata pins the transformers it needs)"],
        })
    return out


def _cached(ecosystem: Any, found: str) -> list[dict[str, Any]] | None:
    """The check is a pure function of (the imports, the release, the index): the gate keeps
    its answer in the user cache, keyed by the index files, instead of loading the names
    index on every run."""
    import json
    import zlib

    from vlmdoctor.knowledge import default_rules_dir
    from vlmdoctor.yamlio import load_derived

    data = default_rules_dir() / "data"
    files = [p for p in (data / "transformers-index.json.gz", data / "transformers-names.json.gz")
             if p.is_file()]
    wanted = {n: e.get("imports", ()) for n, e in ecosystem.items()}
    digest = zlib.crc32(json.dumps([found, wanted], sort_keys=True, default=str).encode())
    try:
        result: list[dict[str, Any]] | None = load_derived(
            files, f"ecosystem-check-{digest:08x}", lambda: _check_all(ecosystem, found))
    except InputError:  # the names file is unreadable: transformers-index-coverage says so
        return None
    return result


@fact("stack.ecosystem_imports_missing", "records",
      "Installed packages whose `import` needs transformers names the installed transformers lacks")
def _missing(ctx: Context, _: str) -> Any:
    ecosystem = ctx.snapshot.ecosystem
    if ecosystem is None or ctx.section_unknown("packages"):
        return UNKNOWN
    found = ctx.snapshot.packages.get("transformers")
    if not found or not any(str(i.get("module", "")).startswith("transformers")
                            for e in ecosystem.values() for i in e.get("imports", ())):
        return []
    result = _cached(ecosystem, str(found))
    return UNKNOWN if result is None else result


def _check_torch(ecosystem: Any, found: str) -> list[dict[str, Any]] | None:
    """Every package's torch names that the installed torch lacks (None: no torch index)."""
    from vlmdoctor.modelcode.torchcheck import torch_import_problems
    from vlmdoctor.torchindex.index import load_index

    try:
        index = load_index()
    except InputError:
        return None
    out = []
    for name, entry in sorted(ecosystem.items()):
        problem = torch_import_problems(index, [_scan(name, entry, "torch")], found)
        if problem is None:
            continue
        listed = "; ".join(f"{m['where']} imports {m['import']} ({m['change']})"
                           for m in problem["missing"][:4])
        more = len(problem["missing"]) - 4
        out.append({
            "requirer": name, "requirer_version": entry.get("version", ""), "package": "torch",
            "found": found, "spec": problem["spec"] or "", "severity": "error",
            "where": listed + (f"; +{more} more" if more > 0 else ""),
            "why": (f"`import {entry.get('package') or name}` stops with ImportError: torch "
                    f"{found} lacks names it imports unconditionally."),
            "fix": [f"# install a {word(name)} release built for torch {found} (its metadata pins "
                    "the torch it needs)"]
                   + ([f"# or a torch in {problem['spec']} (keep its CUDA build: vlmdoctor check "
                       "names the index URL for this driver)"] if problem["spec"] else []),
        })
    return out


@fact("stack.ecosystem_torch_missing", "records",
      "Installed packages whose `import` needs torch names the installed torch lacks")
def _torch_missing(ctx: Context, _: str) -> Any:
    ecosystem = ctx.snapshot.ecosystem
    if ecosystem is None or ctx.section_unknown("packages") or ctx.section_unknown("torch"):
        return UNKNOWN
    torch = ctx.snapshot.torch
    found = torch.version if torch is not None else None
    if not found or not any(str(i.get("module", "")).split(".")[0] == "torch"
                            for e in ecosystem.values() for i in e.get("imports", ())):
        return []
    import json
    import zlib

    from vlmdoctor.knowledge import default_rules_dir
    from vlmdoctor.yamlio import load_derived

    data = default_rules_dir() / "data"
    files = [p for p in (data / "torch-index.json.gz", data / "torch-names.json.gz") if p.is_file()]
    wanted = {n: e.get("imports", ()) for n, e in ecosystem.items()}
    digest = zlib.crc32(json.dumps([found, wanted], sort_keys=True, default=str).encode())
    try:
        result: list[dict[str, Any]] | None = load_derived(
            files, f"ecosystem-torch-{digest:08x}", lambda: _check_torch(ecosystem, str(found)))
    except InputError:
        return UNKNOWN
    return UNKNOWN if result is None else result
