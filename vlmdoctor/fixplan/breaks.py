"""What the plan breaks: installed distributions whose ``Requires-Dist`` (markers decided for
the diagnosed interpreter, as pip check does) the plan's new versions cannot meet."""

from __future__ import annotations

from typing import Iterable

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion

from vlmdoctor.evaluate.requirements import Declared, applicable, merged
from vlmdoctor.fixplan.model import Breakage, Requirement
from vlmdoctor.fixplan.versions import possible
from vlmdoctor.snapshot import Snapshot


def plan_breaks(snapshot: Snapshot, requirements: Iterable[Requirement],
                removed: frozenset[str]) -> tuple[Breakage, ...]:
    changed = {r.package: r for r in requirements}
    out: list[Breakage] = []
    for item in applicable(snapshot):
        if item.requirer in changed or item.requirer in removed:
            continue  # its new release's requirements are pip's to check (--resolve)
        req = changed.get(item.package)
        if req is not None and _breaks(req, item, snapshot.packages.get(item.package)):
            out.append(_breakage(item, req.spec, f"the plan installs {req.text}"))
        elif req is None and item.package in removed:
            out.append(_breakage(item, "removed", f"the plan uninstalls {item.package}"))
    return tuple(out)


def _breaks(req: Requirement, item: Declared, installed: str | None) -> bool:
    if not req.spec:
        return False  # any version: pip keeps the installed one or picks one freely
    try:
        if installed is not None and SpecifierSet(req.spec).contains(installed, prereleases=True):
            return False  # already met: pip leaves the installed version alone
    except InvalidVersion:
        pass
    return not possible(merged([req.spec, item.spec]), [installed] if installed else [])


def _breakage(item: Declared, change: str, what: str) -> Breakage:
    requires = item.text.partition(";")[0].strip()
    return Breakage(requirer=item.requirer, version=item.requirer_version, requires=requires,
                    package=item.package, change=change,
                    why=f"{item.requirer} {item.requirer_version} requires {requires}; {what}")
