"""One transformers verdict per model: the card's curated windows and the release index together.

The card's windows carry what the index cannot know (behaviour changes, the authors' tested
pin); the index adds what the model's files demand (a ``model_type`` registered only from
some release, names the model's code imports that exist only in some releases). The result
is a single record (or none): every window the install misses, the combined specifier, and
one pip command that satisfies all of them. Its severity is the highest severity among the
missed windows (an unmet ``info`` alone stays ``info``). A fix never names a yanked release
or a pre-release, nor one a card window of any severity excludes when another fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion

from vlmdoctor.knowledge.cards import PackageRequirement
from vlmdoctor.shell import arg

if TYPE_CHECKING:  # annotations only: neither loads unless there is code or a model type
    from vlmdoctor.modelcode.scan import CodeScan
    from vlmdoctor.tfindex.index import TransformersIndex

_FIX_SPEC = re.compile(r"'transformers([<>=!~][^']*)'")
_TAG = "https://github.com/huggingface/transformers/blob/v{}/src/transformers/{}"
_LEVELS = ("error", "warning", "info")


def _contains(spec: str, version: str) -> bool:
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True  # cannot judge: no claim


def index_parts(index: TransformersIndex | None, found: str, types: Sequence[str],
                scans: Sequence[CodeScan]) -> list[dict[str, Any]]:
    if index is None:
        return []
    from vlmdoctor.modelcode.tfcheck import code_name_problems, model_type_needs

    parts = []
    for need in model_type_needs(index, types, found):
        need["references"] = [_TAG.format(need["first"], "models/auto/configuration_auto.py")]
        parts.append(need)
    names = code_name_problems(index, scans, found)
    if names is not None:
        names["references"] = ["https://pypi.org/project/transformers/#history"]
        parts.append(names)
    return parts


def _level(req: PackageRequirement) -> str:
    return req.severity if req.severity in _LEVELS else "warning"


def combine(reqs: Sequence[PackageRequirement], found: str, parts: Sequence[dict[str, Any]],
            index: TransformersIndex | None) -> list[dict[str, Any]]:
    by = {level: [r for r in reqs if _level(r) == level] for level in _LEVELS}
    unmet = {level: [r for r in by[level] if not _contains(r.spec, found)] for level in _LEVELS}
    if not (parts or any(unmet.values())):
        return []
    # A development build or release candidate of a release that meets the window may
    # already have what that release brings: it cannot be called broken, only unproven.
    from vlmdoctor.tfindex.releases import release_of  # only with a window missed

    ahead = release_of(found)
    sure = [p for p in parts if not p.get("uncertain")]
    sure_errors = [r for r in unmet["error"] if ahead is None or not _contains(r.spec, ahead)]
    severity = "error" if sure or sure_errors else (
        "warning" if parts or unmet["error"] or unmet["warning"] else "info")
    hard = _clauses([r.spec for r in by["error"]] + [p["spec"] for p in parts if p.get("spec")])
    soft = _clauses([r.spec for r in unmet["warning"]])
    tested = _clauses([r.spec for r in unmet["info"]])
    spec = ",".join({"error": hard, "warning": soft, "info": tested}[severity])
    whys = [p["why"] for p in parts] + [r.why for r in unmet["error"]]
    for level in ("warning", "info"):
        if unmet[level]:
            lead = "Also: " if level != severity else ""
            whys.append(lead + " ".join(r.why for r in unmet[level]))
    misses = unmet["error"] + unmet["warning"] + unmet["info"]
    refs = [ref for p in parts for ref in p.get("references", [])]
    refs += [ref for r in misses for ref in r.references]
    candidates = [f for r in [*misses, *by["error"]] for f in r.fix]
    if index is not None and not _allowed(index, hard):
        whys.append(f"No indexed transformers release satisfies all of {','.join(hard)}: "
                    "the model's code and its card disagree; the card's fix is shown.")
        hard = [c for r in by["error"] for c in _clauses([r.spec])]
    # Every card window, whatever its severity, marks releases the fix should avoid.
    avoid = _clauses([r.spec for r in by["warning"]])
    return [{"package": "transformers", "spec": spec, "found": found, "why": " ".join(whys),
             "severity": severity, "references": _dedupe(refs),
             "fix": [_choose_fix(candidates, hard, [*soft, *avoid], tested, index)]}]


def _allowed(index: TransformersIndex, specs: Sequence[str]) -> set[int]:
    """Recommendable indexed releases (finals, not yanked) inside every one of ``specs``."""
    return {i for i in index.recommendable() if all(_contains(s, index.releases[i]) for s in specs)}


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _clauses(specs: Sequence[str]) -> list[str]:
    return _dedupe([c.strip() for spec in specs for c in spec.split(",") if c.strip()])


def _choose_fix(candidates: Sequence[str], hard: Sequence[str], soft: Sequence[str],
                tested: Sequence[str], index: TransformersIndex | None) -> str:
    """The first curated fix whose versions all satisfy every window, else one built from
    the index: the releases inside every window (the card's warning windows too, where that
    leaves any), written as a specifier."""
    tiers = ([*hard, *soft, *tested], [*hard, *soft], list(hard))
    for specs in tiers:
        for fix in candidates:
            match = _FIX_SPEC.search(fix)
            if match and _fits(match.group(1), specs, index):
                return fix
    if index is not None:
        for specs in tiers[1:]:
            window = index.window_spec(_allowed(index, specs))
            if window is not None:
                return f"pip install {arg(f'transformers{window}')}"
    return f"pip install {arg('transformers' + ','.join(hard))}"


def _fits(fix_spec: str, specs: Sequence[str], index: TransformersIndex | None) -> bool:
    pin = fix_spec[2:] if fix_spec.startswith("==") else None
    if pin is not None and "*" not in pin:
        if index is not None and pin in index.yanked:
            return False  # a yanked release installs only when pinned: never recommend one
        return all(_contains(s, pin) for s in specs)
    if index is None:
        return False
    chosen = [index.releases[i] for i in index.recommendable()
              if _contains(fix_spec, index.releases[i])]
    return bool(chosen) and all(_contains(s, r) for r in chosen for s in specs)
