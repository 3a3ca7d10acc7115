"""Declared requirements checked as ``pip check`` does, for the diagnosed interpreter.

Semantics follow pip/_internal/operations/check.py and metadata/importlib/_dists.py:
a requirement applies when it has no marker or its marker is true with ``extra == ""``
(so requirements behind extras never count, installed or not); an applicable one is
*missing* when nothing of that name is installed and *conflicting* when the installed
version is outside its specifier (pre-releases allowed). Markers are evaluated for the
snapshot's Python and platform, not for the interpreter running vlmdoctor.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate import markers
from vlmdoctor.record import record
from vlmdoctor.snapshot import Snapshot

_SYS_PLATFORM = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}
# PEP 508: name, optional [extras], then a version specifier (bare or in parentheses,
# as older metadata writes it) or "@ url".
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$")
_SEPARATORS = re.compile(r"[-_.]+")


@record
class Declared:
    requirer: str
    requirer_version: str
    package: str
    spec: str
    text: str  # the requirement as the metadata writes it


@record
class Unmet:
    declared: Declared
    found: str | None  # None: not installed


def marker_environment(snapshot: Snapshot) -> dict[str, str]:
    env = markers.default_environment()
    python, host = snapshot.python, snapshot.host
    if python is not None and python.version:
        try:
            release = Version(python.version).release
        except InvalidVersion:
            release = ()
        if len(release) >= 2:
            env["python_version"] = f"{release[0]}.{release[1]}"
        env["python_full_version"] = env["implementation_version"] = python.version
    if python is not None and python.implementation:
        env["platform_python_implementation"] = python.implementation
        env["implementation_name"] = python.implementation.lower()
    if host is not None and host.os:
        env["platform_system"] = host.os
        env["sys_platform"] = _SYS_PLATFORM.get(host.os, host.os.lower())
        env["os_name"] = "nt" if host.os == "Windows" else "posix"
    if host is not None and host.arch:
        env["platform_machine"] = host.arch
    if host is not None and host.os_release:
        env["platform_release"] = host.os_release
    env["extra"] = ""
    return env


def applicable(snapshot: Snapshot) -> list[Declared]:
    """Every requirement in the snapshot that applies to this interpreter (pip's rule)."""
    requirements = snapshot.requirements or {}
    env = marker_environment(snapshot)
    out: list[Declared] = []
    for requirer, texts in sorted(requirements.items()):
        version = snapshot.packages.get(requirer)
        if version is None:  # a stale entry: pip check only sees installed distributions
            continue
        for text in texts:
            parsed = split(text)
            if parsed is None:  # pip skips what it cannot parse too
                continue
            name, spec, marker = parsed
            try:
                if marker and not markers.evaluate(marker, env):
                    continue
            except ValueError:
                continue
            out.append(Declared(requirer, version, name, spec, text.strip()))
    return out


def split(text: str) -> tuple[str, str, str] | None:
    """(normalized name, specifier, marker) of a PEP 508 requirement; None if malformed."""
    body, _, marker = text.partition(";")
    match = _REQUIREMENT.match(body)
    if match is None:
        return None
    rest = match.group(3).strip()
    if rest.startswith("@"):
        spec = ""  # a direct URL: any installed version satisfies it
    else:
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1]
        try:
            spec = str(SpecifierSet(rest))
        except InvalidSpecifier:
            return None
    return _SEPARATORS.sub("-", match.group(1)).lower(), spec, marker.strip()


def unmet(snapshot: Snapshot, declared: Iterable[Declared]) -> list[Unmet]:
    out: list[Unmet] = []
    for item in declared:
        found = snapshot.packages.get(item.package)
        if found is None:
            out.append(Unmet(item, None))
            continue
        try:
            if not SpecifierSet(item.spec).contains(found, prereleases=True):
                out.append(Unmet(item, found))
        except InvalidVersion:
            continue
    return out


def merged(specs: Iterable[str]) -> SpecifierSet:
    joined = SpecifierSet()
    for spec in specs:
        joined &= SpecifierSet(spec)
    return joined


def satisfiable(spec: SpecifierSet, known: Iterable[str] = ()) -> bool:
    """Whether some version meets every specifier: tried on the versions the specifiers
    name, their neighbours, and any known release."""
    if not str(spec):
        return True
    candidates = {Version("0"), Version("999999")}
    for text in known:
        try:
            candidates.add(Version(text))
        except InvalidVersion:
            continue
    for item in spec:
        try:
            version = Version(item.version.rstrip(".*"))
        except InvalidVersion:
            return True  # arbitrary equality and the like: do not claim it is impossible
        candidates.update(_neighbours(version))
    return any(spec.contains(c, prereleases=True) for c in candidates)


def _neighbours(version: Version) -> Iterable[Version]:
    release = [*version.release, 0, 0]
    yield version
    yield Version(f"{version.base_version}.post1")
    for i in range(len(release) - 1):
        head = release[:i]
        yield Version(".".join(map(str, [*head, release[i] + 1])))
        if release[i] > 0:
            yield Version(".".join(map(str, [*head, release[i] - 1, 99999])))
        yield Version(".".join(map(str, [*head, release[i], 99999])))


def constraints(declared: Iterable[Declared], packages: Iterable[str],
                extra: Mapping[str, list[tuple[str, str]]] | None = None,
                ) -> dict[str, list[tuple[str, str]]]:
    """(who, specifier) per package, from every applicable declaration (met or not)."""
    wanted = set(packages)
    out: dict[str, list[tuple[str, str]]] = {name: [] for name in sorted(wanted)}
    for item in declared:
        if item.package in wanted:
            out[item.package].append((f"{item.requirer} {item.requirer_version}", item.spec))
    for name, more in (extra or {}).items():
        if name in wanted:
            out[name].extend(more)
    return out
