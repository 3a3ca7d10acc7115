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


def default_environment() -> dict[str, str]:
    """The marker variables of the running interpreter (PEP 508)."""
    import platform  # only where no snapshot gives them

    impl = sys.implementation.version
    impl_version = f"{impl.major}.{impl.minor}.{impl.micro}"
    if impl.releaselevel != "final":
        impl_version += f"{impl.releaselevel[0]}{impl.serial}"
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
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
