"""What the members index says about a model's classes: the transformers members they use
that the target release lacks, and overrides that cannot take what the base method is now
called with. Pure functions of (code scans, the release, the index).

Conservative by design: a name any class of the model's own code defines is never
reported (a base may use what a subclass provides), and only names that exist in *some*
release of the transformers bases count, so torch's ``nn.Module`` members and the model's
own attributes never raise a claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vlmdoctor.modelcode.classes import ClassUse
from vlmdoctor.modelcode.scan import CodeScan
from vlmdoctor.tfmembers.index import MembersIndex

PREFIX = "transformers:"


def _roots(cls: ClassUse, by_name: dict[str, ClassUse], seen: set[str] | None = None) -> list[str]:
    """The transformers classes ``cls`` inherits from, directly or through local classes."""
    seen = seen if seen is not None else set()
    out: list[str] = []
    for base in cls.bases:
        if base.startswith(PREFIX):
            out.append(base[len(PREFIX):])
        elif base in by_name and base not in seen:
            seen.add(base)
            out += _roots(by_name[base], by_name, seen)
    return list(dict.fromkeys(out))


def _params(sig: str) -> list[str]:
    return [p.rstrip("=") for p in sig.split(",") if p and p not in ("*", "**", "|")]


def member_problems(index: MembersIndex, scans: Iterable[CodeScan], version: str
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(members used but missing in ``version``, overrides missing a parameter the base gained)."""
    pos = index.position(version)
    classes = [c for scan in scans for c in scan.classes]
    if pos is None or not classes:
        return [], []
    by_name = {c.name: c for c in classes}
    own = {name for c in classes for name in (c.name, *c.defines)}
    missing: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    tables: dict[tuple[str, ...], list[dict[str, str]]] = {}
    reported: set[tuple[str, str]] = set()
    for cls in classes:
        roots = tuple(r for r in _roots(cls, by_name) if r in index.classes)
        if not roots:
            continue
        table = tables.get(roots)
        if table is None:
            table = tables[roots] = index.history(list(roots))
        now = table[pos]
        for member, line in cls.uses:
            if member in own or member in now or member.startswith("__"):
                continue
            where = {p: t[member] for p, t in enumerate(table) if member in t}
            if where and (cls.name, member) not in reported:
                reported.add((cls.name, member))
                missing.append({"where": f"{cls.file}:{line}", "class": cls.name,
                                "name": member, "positions": sorted(where),
                                "present": index.span_text(list(where))})
        for method, line, sig in cls.methods:
            base = now.get(method)
            if not base or "**" in sig.split(","):
                continue
            mine = set(_params(sig))
            history = {p: t[method] for p, t in enumerate(table) if method in t}
            gained: list[tuple[int, str]] = []
            for param in _params(base):
                if param in mine:
                    continue
                # Gained: not in the base at the index's first release (the parameter, or
                # the whole method, came later), so code of that era could not know it.
                since = [p for p, s in sorted(history.items()) if param in _params(s)]
                if since and since[0] > 0:
                    gained.append((since[0], param))
            if gained:
                overrides.append({"where": f"{cls.file}:{line}", "class": cls.name,
                                  "method": method, "param": "', '".join(p for _, p in gained),
                                  "added": index.releases[min(gained)[0]]})
    return missing, overrides
