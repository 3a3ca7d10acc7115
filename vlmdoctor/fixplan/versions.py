"""Whether some version meets a specifier set: a cheap witness first (the versions the
specifiers name), then evaluate.requirements.satisfiable's wider search."""

from __future__ import annotations

from typing import Iterable

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.requirements import satisfiable

_WITNESS_OPS = ("==", ">=", "<=", "~=", "===")


def possible(spec: SpecifierSet, known: Iterable[str] = ()) -> bool:
    known = list(known)
    for item in spec:
        if item.operator in _WITNESS_OPS and not item.version.endswith(".*"):
            known.append(item.version)
    for text in known:
        try:
            if spec.contains(Version(text), prereleases=True):
                return True
        except InvalidVersion:
            continue
    return satisfiable(spec, known)


def simplified(spec: SpecifierSet) -> str:
    """The specifier without redundant bounds of one kind: ``>=4.45.0,>=4.45.2`` is
    ``>=4.45.2`` (the strongest ``>=``/``>`` and ``<=``/``<`` of each operator are kept)."""
    keep_max, keep_min = (">=", ">"), ("<=", "<")
    best: dict[str, Version] = {}
    rest = []
    for item in spec:
        try:
            version = Version(item.version)
        except InvalidVersion:
            rest.append(item)
            continue
        if item.operator in keep_max + keep_min:
            old = best.get(item.operator)
            stronger = old is None or (version > old if item.operator in keep_max
                                       else version < old)
            if stronger:
                best[item.operator] = version
        else:
            rest.append(item)
    out = SpecifierSet(",".join([*(str(r) for r in rest),
                                 *(f"{op}{v}" for op, v in best.items())]))
    return str(out)
