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
