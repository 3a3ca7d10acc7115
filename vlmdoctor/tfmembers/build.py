"""The members index document from the classes of each release: the pure part of
``scripts/build_transformers_members.py`` (which reads the wheels)."""

from __future__ import annotations

from typing import Any, Iterable

from vlmdoctor.tfindex.ranges import encode_ranges

Scanned = dict[str, dict[str, Any]]  # class -> {"bases": [...], "members": {name: signature}}


def build_document(releases: Iterable[tuple[str, Scanned]]) -> dict[str, Any]:
    """``releases``: (version, classes) oldest first; per class its bases and, per member,
    the release positions in which each signature holds."""
    versions: list[str] = []
    bases: dict[str, dict[str, list[int]]] = {}
    members: dict[str, dict[str, dict[str, list[int]]]] = {}
    for position, (version, classes) in enumerate(releases):
        versions.append(version)
        for cls, data in classes.items():
            bases.setdefault(cls, {}).setdefault(",".join(data["bases"]), []).append(position)
            for member, sig in data["members"].items():
                members.setdefault(cls, {}).setdefault(member, {}).setdefault(sig, []).append(position)
    return {
        "format": 1,
        "releases": versions,
        "classes": {cls: {"bases": {b: encode_ranges(p) for b, p in sorted(bases[cls].items())},
                          "members": {m: {s: encode_ranges(p) for s, p in sorted(sigs.items())}
                                      for m, sigs in sorted(members.get(cls, {}).items())}}
                    for cls in sorted(bases)},
    }
