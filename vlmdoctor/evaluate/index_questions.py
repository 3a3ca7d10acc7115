"""`explain` asks the release indexes: which releases have the name an error says is missing.

The questions an error text asks (linear-time patterns, like the failure table's):
``cannot import name 'X' from 'transformers…'/'torch…'``, ``No module named 'transformers…'/
'torch…'``, ``module 'transformers…' has no attribute 'X'``, ``model type `Z` … does not
recognize this architecture`` and ``KeyError: 'Z'`` (only for a ``Z`` the index knows as a
model type). Each answer names the releases that have it, how the installed release relates
(added/removed when), and the fix for this snapshot. What the indexes do not know
(members of classes, keyword arguments) is left to the curated failure table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge.patterns import compile_linear

if TYPE_CHECKING:
    from vlmdoctor.knowledge.tables import CudaTables
    from vlmdoctor.snapshot import Snapshot

_PKG = r"((?:transformers|torch)(?=[.'])[\w.]{0,200})"
PATTERNS = {
    "name": r"cannot import name '(\w{1,150})' from '" + _PKG + "'",
    "attribute": r"module '" + _PKG + r"' has no attribute '(\w{1,150})'",
    "module": r"No module named '" + _PKG + "'",
    "model_type": r"model type `?(\w{1,100})`? but Transformers does not recognize",
    "key": r"KeyError: '(\w{1,100})'",
    "member": r"'(\w{1,120})' object has no attribute '(\w{1,120})'",
    "keyword": r"(\w{1,120})\.(\w{1,120})\(\) got an unexpected keyword argument '(\w{1,120})'",
}
_COMPILED = {kind: compile_linear(p, f"index question {kind}") for kind, p in PATTERNS.items()}
MAX_QUESTIONS = 12
SKIPPED = "explain's release-index answers for {} were not given"


def questions(text: str) -> list[tuple[str, str, str]]:
    """(kind, package, dotted name or model type) in order of appearance, without repeats."""
    found: list[tuple[int, tuple[str, str, str]]] = []
    for kind, pattern in _COMPILED.items():
        for match in pattern.finditer(text):
            found.append((match.start(), _question(kind, match)))
            if len(found) > 4 * MAX_QUESTIONS:
                break
    out: list[tuple[str, str, str]] = []
    for _, q in sorted(found):
        if q not in out:
            out.append(q)
    return out[:MAX_QUESTIONS]


def _question(kind: str, match: re.Match[str]) -> tuple[str, str, str]:
    if kind == "name":
        return "name", _top(match.group(2)), f"{match.group(2)}.{match.group(1)}"
    if kind == "attribute":
        return "name", _top(match.group(1)), f"{match.group(1)}.{match.group(2)}"
    if kind == "module":
        return "module", _top(match.group(1)), match.group(1)
    if kind == "member":  # answered only for transformers classes the members index has
        return "member", "transformers", f"{match.group(1)}.{match.group(2)}"
    if kind == "keyword":
        return "keyword", "transformers", f"{match.group(1)}.{match.group(2)}:{match.group(3)}"
    return "model_type", "transformers", match.group(1)


def _top(module: str) -> str:
    return module.split(".")[0]


def _load(package: str, kind: str = "") -> Any:
    if kind in ("member", "keyword"):
        from vlmdoctor.tfmembers.index import load_members

        return load_members()
    if package == "torch":
        from vlmdoctor.evaluate.facts.indexes import torch_index

        found, problem = torch_index()
        if found is None:
            raise InputError(problem or "torch index: unavailable")
        return found
    from vlmdoctor.tfindex.index import load_index

    index = load_index()
    index.names("transformers")  # a broken names file is said here, not half-way
    return index


def unavailable_for_text(text: str) -> list[dict[str, Any]]:
    out = []
    for kind, package in dict.fromkeys(
            ("members" if k in ("member", "keyword") else "", p) for k, p, _ in questions(text)):
        try:
            _load(package, "member" if kind else "")
        except InputError as exc:
            what = f"{package} {kind}".strip()
            out.append({"package": package, "why": str(exc), "skipped": SKIPPED.format(what)})
    return out


def answers(text: str, snapshot: Snapshot, tables: CudaTables) -> list[dict[str, Any]]:
    out = []
    for kind, package, name in questions(text):
        try:
            index = _load(package, kind)
        except InputError:
            continue  # said by index-unavailable
        spans = _spans(index, kind, name)
        if spans is None or (kind == "model_type" and not spans):
            continue  # the index cannot tell (or a KeyError that is no model type)
        out.append(_answer(index, kind, package, name, spans, snapshot, tables))
    return out


def _member_spans(index: Any, kind: str, name: str) -> list[tuple[int, int]] | None:
    """Releases whose class (with its indexed bases) has the member, or whose method takes
    the keyword; None when the class is not indexed or no release has it (no claim: the
    members index keeps methods and attributes set in them, not everything)."""
    from vlmdoctor.tfindex.ranges import decode_ranges, encode_ranges

    dotted, _, keyword = name.partition(":")
    cls, _, member = dotted.partition(".")
    if cls not in index.classes:
        return None
    found = set()
    for pos, members in enumerate(index.history([cls])):
        sig = members.get(member)
        if sig is None:
            continue
        params = {p.rstrip("=") for p in sig.split(",")}
        if kind == "member" or keyword in params:  # ``**kwargs`` passes it on: no answer
            found.add(pos)
    return decode_ranges(encode_ranges(found)) if found else None


def _spans(index: Any, kind: str, name: str) -> list[tuple[int, int]] | None:
    from vlmdoctor.torchindex.spans import merge

    if kind in ("member", "keyword"):
        return _member_spans(index, kind, name)
    if kind == "model_type":
        return list(index.model_type_spans(name))
    if kind == "module":
        parent = name.rpartition(".")[0]
        spans = list(index.module_spans(name))
        return spans if spans or index.module_spans(parent) else None
    module, _, attr = name.rpartition(".")
    own = index.module_spans(module)
    if not own:
        return None
    if not getattr(index, "names_indexed", lambda _: True)(module):
        return None  # a module whose names the index does not keep
    named = list(index.name_spans(module, attr)) + list(index.module_spans(name))
    return [(max(a, c), min(b, d)) for a, b in merge(named) for c, d in own
            if max(a, c) <= min(b, d)]


def _installed(snapshot: Snapshot, package: str) -> str | None:
    if package == "torch" and snapshot.torch is not None and snapshot.torch.version:
        return snapshot.torch.version
    return snapshot.packages.get(package)


def _answer(index: Any, kind: str, package: str, name: str, spans: list[tuple[int, int]],
            snapshot: Snapshot, tables: CudaTables) -> dict[str, Any]:
    from vlmdoctor.torchindex.spans import covers, positions, span_text, window

    releases = tuple(index.releases)
    found = _installed(snapshot, package)
    pos = index.position(found) if found else None
    dotted, _, keyword = name.partition(":")
    label = {"model_type": f"model_type '{name}'", "module": f"module {name}",
             "keyword": f"{dotted}({keyword}=...)"}.get(kind, name)
    what = {"member": f"{name} (on the class or its transformers bases)",
            "keyword": f"{dotted}() taking the keyword '{keyword}'"}.get(kind, label)
    present = span_text(releases, spans)
    spec, window_releases = window(releases, positions(spans))
    finals = list(getattr(index, "finals", lambda: range(len(releases)))())
    if hasattr(index, "window_spec"):  # the transformers index: finals, never a yanked pin
        present = index.span_text(spans)
        spec = index.window_spec(positions(spans))
    change = _change_over_finals(package, releases, finals, spans, pos)
    source = "members index" if kind in ("member", "keyword") else "release index"
    why = [f"The {package} {source} ({releases[0]} to {releases[-1]}, read from the "
           f"release wheels) has {what} in {package} {present}."]
    if found is None:
        why.append(f"{package} is not installed here (or the snapshot does not say which).")
    elif pos is None:
        why.append(f"The installed {package} {found} is outside the index, so it cannot say "
                   f"whether {found} has it.")
    elif covers(spans, pos):
        why.append(f"The installed {package} {found} has it: the failing process imported "
                   f"another {package} (another environment or interpreter).")
    else:
        why.append(f"The installed {package} {found} does not.")
    fix = _fix(package, spec, window_releases, found, pos, spans, snapshot, tables)
    if spec is None:
        why.append(f"No {package} release in the index has it: the code that imports it must "
                   "change (or use the release it was written for).")
    broken = pos is not None and not covers(spans, pos)
    return {"import": label, "package": package, "found": found or "", "present": present,
            "severity": "error" if broken or spec is None else "warning",
            "change": change, "spec": spec or "",
            "fix": fix, "why": " ".join(why)}


def _change_over_finals(package: str, releases: tuple[str, ...], finals: list[int],
                        spans: list[tuple[int, int]], pos: int | None) -> str:
    """``change_text`` over the final releases only (a pre-release is never "added in")."""
    from vlmdoctor.tfindex.ranges import decode_ranges, encode_ranges
    from vlmdoctor.torchindex.spans import change_text, positions

    at = {p: i for i, p in enumerate(finals)}
    kept = decode_ranges(encode_ranges(at[p] for p in positions(spans) if p in at)) \
        if any(p in at for p in positions(spans)) else []
    here = None if pos is None else max((i for p, i in at.items() if p <= pos), default=None)
    return change_text(package, tuple(releases[p] for p in finals), kept, here)


def _fix(package: str, spec: str | None, window_releases: list[str], found: str | None,
         pos: int | None, spans: list[tuple[int, int]], snapshot: Snapshot,
         tables: CudaTables) -> str:
    from vlmdoctor.torchindex.spans import covers

    if pos is not None and covers(spans, pos):
        return (f"python -c \"import {package}; print({package}.__version__, "
                f"{package}.__file__)\"   # run with the failing interpreter")
    if package == "torch":
        from vlmdoctor.evaluate.torch_window import window_fix

        return window_fix(snapshot, tables, spec, window_releases)
    if spec is None:
        return f"# no indexed {package} release has it: change the code that imports it"
    return f"pip install '{package}{spec}'"
