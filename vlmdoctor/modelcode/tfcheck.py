"""What the transformers release index says about a model: its model_type and its code's imports.

Pure functions of (model types / code scans, the transformers version, the index). A version
older than the index gives no requirement rather than a guess; a version newer than the
index is read as the newest indexed release, and the record says so. Windows are sets of
releases (a release that lacks a name is a hole, not the end of the window).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.version import Version

from vlmdoctor.modelcode.scan import CodeScan, ImportSite
from vlmdoctor.tfindex.index import Span, TransformersIndex
from vlmdoctor.tfindex.releases import Placement, release_of


def positions(spans: Iterable[Span]) -> set[int]:
    return {p for a, b in spans for p in range(a, b + 1)}


def spans_to_spec(index: TransformersIndex, present: set[int]) -> str | None:
    """The pip specifier for a set of release positions (``TransformersIndex.window_spec``)."""
    return index.window_spec(present)


def read_as(placed: Placement, newest: str) -> str:
    """The assumption made for a version newer than the index, in words ("" otherwise)."""
    if not placed.newer:
        return ""
    return (f" (transformers {placed.version} is newer than the release index, whose newest "
            f"release is {newest}: read as {placed.read_as}.)")


def _first(index: TransformersIndex, present: set[int]) -> str:
    finals = [p for p in index.finals() if p in present]
    return index.releases[finals[0] if finals else min(present)]


def model_type_needs(index: TransformersIndex, types: Iterable[str],
                     version: str) -> list[dict[str, Any]]:
    """One record per model_type the installed release does not register."""
    placed = index.place(version)
    out: list[dict[str, Any]] = []
    if placed is None:
        return out
    ahead = release_ahead(index, version)
    for model_type in sorted(set(types)):
        present = positions(index.model_type_spans(model_type))
        if not present or placed.pos in present:
            continue
        spans = index.model_type_spans(model_type)
        first = _first(index, present)
        if ahead is not None and ahead in present:
            # A build on the way to a release that has it: which side it is on is unknown.
            out.append({"model_type": model_type, "spec": index.window_spec(present),
                        "first": first, "uncertain": True,
                        "why": f"transformers {version} is a pre-release build on the way to "
                               f"{index.releases[ahead]}, which registers model_type "
                               f"'{model_type}' (first in {first}); a build from before support "
                               f"landed does not know it (KeyError / 'does not recognize this "
                               f"architecture' at load). The release {index.releases[ahead]} "
                               f"settles it."})
            continue
        out.append({"model_type": model_type, "spec": index.window_spec(present), "first": first,
                    "why": f"model_type '{model_type}' is registered by transformers "
                           f"{index.span_text(spans)} (first in {first}); transformers "
                           f"{version} does not know it (KeyError / 'does not recognize "
                           f"this architecture' at load).{read_as(placed, index.newest)}"})
    return out


def release_ahead(index: TransformersIndex, version: str) -> int | None:
    """For a pre-release or ``.dev`` build the index does not list, the position of the
    final release it leads to (``4.45.0.dev0`` -> 4.45.0), when the index has that release."""
    release = release_of(version)
    if release is None or Version(version).public in index.releases:
        return None
    return next((i for i in index.finals() if index.releases[i] == release), None)


def _needed(site: ImportSite) -> list[tuple[str, str]]:
    """(module, name) pairs an unguarded transformers import needs; name "" = the module."""
    if site.names:
        return [(site.module, n) for n in site.names if n != "*"] or [(site.module, "")]
    return [(site.module, "")]


def _present_spans(index: TransformersIndex, module: str, name: str) -> list[Span]:
    if not name:
        return index.module_spans(module)
    return index.name_spans(module, name) + index.module_spans(f"{module}.{name}")


def _dynamic(index: TransformersIndex, module: str, pos: int) -> bool:
    """The module answers unknown names itself (a module-level ``__getattr__``)."""
    return any(a <= pos <= b for a, b in index.name_spans(module, "__getattr__"))


def code_name_problems(index: TransformersIndex, scans: Iterable[CodeScan],
                       version: str) -> dict[str, Any] | None:
    """Names the code imports from transformers that ``version`` lacks, and the window of all."""
    placed = index.place(version)
    if placed is None:
        return None
    pos = placed.pos
    missing: list[dict[str, Any]] = []
    common = set(range(len(index.releases)))
    for scan in scans:
        for site in scan.imports:
            if site.top != "transformers" or site.guard:
                continue
            for module, name in _needed(site):
                spans = _present_spans(index, module, name)
                if not spans or (name and _dynamic(index, module, pos)):
                    continue  # not indexed (or answered dynamically): no claim either way
                common &= positions(spans)
                if not any(a <= pos <= b for a, b in spans):
                    dotted = f"{module}.{name}" if name else module
                    missing.append({"where": f"{site.file}:{site.line}", "name": dotted,
                                    "present": index.span_text(spans)})
    if not missing:
        return None
    spec = index.window_spec(common)
    listed = "; ".join(f"{m['where']} imports {m['name']} (in transformers {m['present']})"
                       for m in missing[:6])
    more = f"; +{len(missing) - 6} more" if len(missing) > 6 else ""
    why = (f"The model's code imports names transformers {version} does not have: "
           f"{listed}{more}. ImportError at load.{read_as(placed, index.newest)}")
    if spec is None:
        why += " No indexed transformers release has all of them."
    return {"spec": spec, "missing": missing, "why": why}
