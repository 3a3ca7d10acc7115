"""Every finding's fix, read strictly and merged: one requirement set, one index, ordered steps."""

from __future__ import annotations

import shlex
from typing import Iterable, Mapping

from vlmdoctor.evaluate.requirements import merged
from vlmdoctor.fixplan.commands import (
    ENVIRONMENT,
    INSTALL,
    NOTE,
    PIP_OTHER,
    STEP,
    UNINSTALL,
    read_fix,
)
from vlmdoctor.fixplan.model import Conflict, Requirement, Step
from vlmdoctor.fixplan.versions import possible, simplified
from vlmdoctor.record import record
from vlmdoctor.report import Finding

_ORDER = {ENVIRONMENT: 0, UNINSTALL: 1, INSTALL: 2, PIP_OTHER: 3, STEP: 4, NOTE: 4}


@record
class Merged:
    steps: tuple[Step, ...]  # without the merged install line, in the order to run them
    requirements: tuple[Requirement, ...]
    index_url: str | None
    extra_index: bool
    conflicts: tuple[Conflict, ...]
    removed: frozenset[str]  # uninstalled and not installed again


def merge_fixes(findings: Iterable[Finding], installed: Mapping[str, str]) -> Merged:
    wants: dict[str, list[tuple[str, str]]] = {}
    indexes: list[tuple[str, str, bool, tuple[str, ...]]] = []  # (finding, url, extra, pkgs)
    steps: dict[tuple[str, str], list[str]] = {}
    uninstalled: set[str] = set()
    for finding in findings:  # the planned ones (errors and warnings)
        for line in finding.fix:
            for command in read_fix(line):
                if command.kind == INSTALL:
                    for pin in command.pins:
                        wants.setdefault(pin.package, []).append((finding.id, pin.spec))
                    if command.index_url:
                        indexes.append((finding.id, command.index_url, command.extra_index,
                                        tuple(p.package for p in command.pins)))
                    continue
                if command.kind == UNINSTALL:
                    uninstalled.update(_uninstalled(command.text))
                sources = steps.setdefault((command.kind, command.text), [])
                if finding.id not in sources:
                    sources.append(finding.id)
    requirements, conflicts = _requirements(wants, installed)
    index, extra, index_conflict = _index(indexes, [r.package for r in requirements])
    ordered = sorted(steps.items(), key=lambda item: _ORDER[item[0][0]])  # stable: finding order
    return Merged(
        steps=tuple(Step(kind, text, tuple(src)) for (kind, text), src in ordered),
        requirements=requirements, index_url=index, extra_index=extra,
        conflicts=conflicts + index_conflict,
        removed=frozenset(uninstalled - set(wants)))


def _requirements(wants: Mapping[str, list[tuple[str, str]]], installed: Mapping[str, str],
                  ) -> tuple[tuple[Requirement, ...], tuple[Conflict, ...]]:
    out: list[Requirement] = []
    conflicts: list[Conflict] = []
    for package, pairs in wants.items():
        spec = merged(s for _, s in pairs)
        found = installed.get(package)
        if possible(spec, [found] if found else []):
            sources = tuple(dict.fromkeys(who for who, _ in pairs))
            out.append(Requirement(package, simplified(spec), sources, found))
            continue
        listed = "; ".join(f"{who} wants {package}{s or ' (any)'}" for who, s in pairs)
        conflicts.append(Conflict(package, tuple(pairs),
                                  f"no {package} release satisfies every fix: {listed}"))
    return tuple(out), tuple(conflicts)


def _index(indexes: list[tuple[str, str, bool, tuple[str, ...]]], packages: list[str],
           ) -> tuple[str | None, bool, tuple[Conflict, ...]]:
    """The index of the torch build the fixes ask for. It stays ``--index-url`` only when
    every package of the merged line comes from there; otherwise it becomes an
    ``--extra-index-url`` (PyPI serves the rest; a ``+cuXXX`` build sorts above PyPI's)."""
    if not indexes:
        return None, False, ()
    urls = list(dict.fromkeys(url for _, url, _, _ in indexes))
    conflict: tuple[Conflict, ...] = ()
    if len(urls) > 1:
        pairs = tuple((who, url) for who, url, _, _ in indexes)
        conflict = (Conflict("--index-url", pairs,
                             "the fixes want packages from different indexes: "
                             + "; ".join(f"{who} uses {url}" for who, url in pairs)
                             + f"; the plan uses {urls[0]}"),)
    url = urls[0]
    served = {p for _, u, _, pkgs in indexes if u == url for p in pkgs}
    extra = any(e for _, u, e, _ in indexes if u == url) or any(p not in served for p in packages)
    return url, extra, conflict


def _uninstalled(text: str) -> set[str]:
    from vlmdoctor.evaluate.requirements import split

    names = set()
    tokens = shlex.split(text, comments=True)
    for token in tokens[tokens.index("uninstall") + 1:]:
        parsed = None if token.startswith("-") else split(token)
        if parsed is not None:
            names.add(parsed[0])
    return names
