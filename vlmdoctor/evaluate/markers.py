"""PEP 508 environment markers, evaluated without importing packaging.markers.

packaging.markers pulls in packaging.tags, logging and subprocess (tens of milliseconds
at import), which the gate cannot afford for the handful of markers Requires-Dist
headers carry. The forms metadata writes in practice, ``var op "value"`` atoms joined by
``and``/``or``, are evaluated here with packaging's semantics (version keys through a
Specifier, others as strings); anything else (parentheses, extras, reversed operands) is
handed to packaging.markers, imported only then.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Mapping

from packaging.specifiers import InvalidSpecifier, Specifier

VERSION_KEYS = frozenset({"implementation_version", "platform_release",
                          "python_full_version", "python_version"})
_ATOM = re.compile(r"""^([a-z_]+)\s*(===|==|!=|<=|>=|~=|<|>|not\s+in|in)\s*(['"])([^'"]*)\3$""")


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython",
                    "jython": "Jython"}


def default_environment() -> dict[str, str]:
    """The marker variables of the running interpreter (PEP 508), with os.uname() and sys
    where they give the platform module's answers (it costs the gate a millisecond)."""
    impl = sys.implementation.version
    impl_version = f"{impl.major}.{impl.minor}.{impl.micro}"
    if impl.releaselevel != "final":
        impl_version += f"{impl.releaselevel[0]}{impl.serial}"
    try:
        uname = os.uname()
        system, release, version, machine = (uname.sysname, uname.release, uname.version,
                                             uname.machine)
    except AttributeError:  # Windows
        import platform

        system, release, version, machine = (platform.system(), platform.release(),
                                             platform.version(), platform.machine())
    name = sys.implementation.name
    return {
        "implementation_name": name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": machine,
        "platform_release": release,
        "platform_system": system,
        "platform_version": version,
        "python_full_version": sys.version.split()[0],
        "platform_python_implementation": _IMPLEMENTATIONS.get(name, name),
        "python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "sys_platform": sys.platform,
    }


def evaluate(marker: str, env: Mapping[str, str]) -> bool:
    """Whether the marker holds in ``env``; raises ValueError on a malformed marker."""
    simple = _simple(marker.strip(), env)
    if simple is not None:
        return simple
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison

    try:
        return Marker(marker).evaluate(dict(env))
    except (InvalidMarker, UndefinedComparison) as exc:
        raise ValueError(str(exc)) from None


def _simple(marker: str, env: Mapping[str, str]) -> bool | None:
    if "(" in marker or ")" in marker:
        return None
    disjuncts = []
    for part in re.split(r"\s+or\s+", marker):
        atoms = [_atom(a.strip(), env) for a in re.split(r"\s+and\s+", part)]
        if any(a is None for a in atoms):
            return None
        disjuncts.append(all(atoms))
    return any(disjuncts)


def _atom(text: str, env: Mapping[str, str]) -> bool | None:
    match = _ATOM.match(text)
    if match is None or match.group(1) not in env or match.group(1) == "extra":
        return None
    key, op, value = match.group(1), " ".join(match.group(2).split()), match.group(4)
    lhs = env[key]
    if key in VERSION_KEYS and op not in ("in", "not in"):
        try:
            return Specifier(f"{op}{value}").contains(lhs, prereleases=True)
        except InvalidSpecifier:
            pass
    if op == "in":
        return lhs in value
    if op == "not in":
        return lhs not in value
    if op in ("==", "<=", ">="):
        return lhs == value
    if op == "!=":
        return lhs != value
    if op in ("<", ">"):
        return False
    return None  # ~= and === on a non-version key: let packaging decide
