"""Installed distributions, names normalized per PEP 503.

The fast path reads names and versions from the ``*.dist-info`` directory
names on sys.path (PEP 427/491 fix their form: ``{name}-{version}.dist-info``),
which avoids parsing every METADATA file. Anything it cannot read that way
falls back to importlib.metadata for that one distribution.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Iterable

from vlmdoctor.record import record

_NORMALIZE = re.compile(r"[-_.]+")


@record
class Distribution:
    version: str
    path: str  # the .dist-info or .egg-info directory


def normalize(name: str) -> str:
    return _NORMALIZE.sub("-", name).lower()


def installed_distributions(paths: Iterable[str] | None = None) -> dict[str, Distribution]:
    """Every distribution on the path, first on sys.path wins (as the import system does)."""
    found: dict[str, Distribution] = {}
    for entry in sys.path if paths is None else paths:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            path = os.path.join(entry or ".", name)
            if name.endswith(".dist-info"):
                parsed = _from_dist_info(name) or _from_metadata(path)
            elif name.endswith(".egg-info"):
                parsed = _from_metadata(path)
            else:
                continue
            if parsed is not None:
                found.setdefault(normalize(parsed[0]), Distribution(parsed[1], path))
    return found


def installed_packages(paths: Iterable[str] | None = None) -> dict[str, str]:
    return {name: dist.version for name, dist in installed_distributions(paths).items()}


MAX_VERSION = 256  # as the snapshot reader allows (vlmdoctor.snapshot.MAX_VERSION)


def _from_dist_info(dirname: str) -> tuple[str, str] | None:
    stem = dirname[: -len(".dist-info")]
    if stem.count("-") == 1:
        name, version = stem.split("-")
        if name and version:
            return name, version
    return None


def _from_metadata(path: str) -> tuple[str, str] | None:
    from importlib import metadata  # slow to import; only for unusual layouts

    try:
        dist = metadata.PathDistribution.at(path)
        name, version = dist.metadata["Name"], dist.version
    except Exception:  # a broken egg-info must not stop the doctor
        return None
    ok = name and version and len(version) <= MAX_VERSION  # a longer one is no version
    return (name, version) if ok else None
