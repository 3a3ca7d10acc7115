"""The fix plan of a check: every finding's fix merged, checked against what is installed."""

from __future__ import annotations

from typing import Iterable

from vlmdoctor.evaluate.context import Context
from vlmdoctor.fixplan.model import FixPlan, Step
from vlmdoctor.report import Finding

PLANNED = ("error", "warning")  # info findings advise; their fixes are not part of the plan


def build_fix_plan(ctx: Context, findings: Iterable[Finding]) -> FixPlan:
    """Pure computation over the snapshot and the findings; a healthy machine (nothing to
    fix) costs one comprehension, and the checks load only when the plan changes packages."""
    planned = [f for f in findings if f.severity in PLANNED and f.fix]
    if not planned:
        return FixPlan()
    from vlmdoctor.fixplan.commands import INSTALL
    from vlmdoctor.fixplan.merge import merge_fixes

    merged = merge_fixes(planned, ctx.snapshot.packages)
    plan = FixPlan(requirements=merged.requirements, index_url=merged.index_url,
                   extra_index=merged.extra_index)
    steps = list(merged.steps)
    line = plan.pip_install
    if line is not None:
        sources = tuple(dict.fromkeys(s for r in merged.requirements for s in r.sources))
        at = next((i for i, s in enumerate(steps)
                   if s.kind not in ("environment", "pip-uninstall")), len(steps))
        steps.insert(at, Step(INSTALL, line, sources))
    if not merged.requirements and not merged.removed:
        return FixPlan(steps=tuple(steps), conflicts=merged.conflicts)  # nothing changes
    from vlmdoctor.fixplan.alternatives import alternatives
    from vlmdoctor.fixplan.breaks import plan_breaks
    from vlmdoctor.fixplan.indexcheck import index_problems

    breaks = plan_breaks(ctx.snapshot, merged.requirements, merged.removed)
    return FixPlan(
        steps=tuple(steps), requirements=merged.requirements,
        removes=tuple(sorted(merged.removed)), index_url=merged.index_url,
        extra_index=merged.extra_index, conflicts=merged.conflicts, breaks=breaks,
        index_problems=index_problems(ctx, merged.requirements),
        alternatives=alternatives(ctx, breaks, merged.requirements, merged.index_url,
                                  merged.extra_index))
