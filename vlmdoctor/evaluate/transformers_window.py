"""One transformers verdict per model: the card's curated windows and the release index together.

The card's windows carry what the index cannot know (behaviour changes, the authors' tested
pin); the index adds what the model's files demand (a ``model_type`` registered only from
some release, names the model's code imports that exist only in a range). The result is a
single record (or none): every window the install misses, the combined specifier, and one
pip command that satisfies all of them.
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


def combine(reqs: Sequence[PackageRequirement], found: str, parts: Sequence[dict[str, Any]],
            index: TransformersIndex | None) -> list[dict[str, Any]]:
    errors = [r for r in reqs if r.severity == "error"]
    warnings = [r for r in reqs if r.severity != "error"]
    unmet_err = [r for r in errors if not _contains(r.spec, found)]
    unmet_warn = [r for r in warnings if not _contains(r.spec, found)]
    if not (unmet_err or unmet_warn or parts):
        return []
    severity = "error" if unmet_err or parts else "warning"
    hard = _clauses([r.spec for r in errors] + [p["spec"] for p in parts if p.get("spec")])
    soft = _clauses([r.spec for r in unmet_warn])
    spec = ",".join(hard) if severity == "error" else ",".join(soft)
    whys = [p["why"] for p in parts] + [r.why for r in unmet_err]
    if unmet_warn:
        lead = "Also: " if severity == "error" else ""
        whys.append(lead + " ".join(r.why for r in unmet_warn))
    refs = [ref for p in parts for ref in p.get("references", [])]
    refs += [ref for r in unmet_err + unmet_warn for ref in r.references]
    candidates = [f for r in unmet_err + unmet_warn + errors for f in r.fix]
    if index is not None and not any(all(_contains(c, r) for c in hard) for r in index.releases):
        whys.append(f"No indexed transformers release satisfies all of {','.join(hard)}: "
                    "the model's code and its card disagree; the card's fix is shown.")
        hard = [c for r in errors for c in _clauses([r.spec])]
    return [{"package": "transformers", "spec": spec, "found": found, "why": " ".join(whys),
             "severity": severity, "references": _dedupe(refs),
             "fix": [_choose_fix(candidates, hard, soft, index)]}]


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _clauses(specs: Sequence[str]) -> list[str]:
    return _dedupe([c.strip() for spec in specs for c in spec.split(",") if c.strip()])


def _choose_fix(candidates: Sequence[str], hard: Sequence[str], soft: Sequence[str],
                index: TransformersIndex | None) -> str:
    """The first curated fix whose versions all satisfy every window, else one built from them."""
    for specs in ([*hard, *soft], list(hard)):
        for fix in candidates:
            match = _FIX_SPEC.search(fix)
            if match and _fits(match.group(1), specs, index):
                return fix
    if index is not None:
        from vlmdoctor.modelcode.tfcheck import spans_to_spec

        allowed = {i for i, r in enumerate(index.releases) if all(_contains(s, r) for s in hard)}
        window = spans_to_spec(index, allowed)
        if window is not None:
            return f"pip install {arg(f'transformers{window}')}"
    return f"pip install {arg('transformers' + ','.join(hard))}"


def _fits(fix_spec: str, specs: Sequence[str], index: TransformersIndex | None) -> bool:
    pin = fix_spec[2:] if fix_spec.startswith("==") else None
    if pin is not None and "*" not in pin:
        return all(_contains(s, pin) for s in specs)
    if index is None:
        return False
    chosen = [r for r in index.releases if _contains(fix_spec, r)]
    return bool(chosen) and all(_contains(s, r) for r in chosen for s in specs)

