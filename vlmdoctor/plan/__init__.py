"""The planner: will a model fit these GPUs, how to split it, and what would make it fit.

Pure: no torch, no machine access. Memory in bytes; see docs/planner.md for every term.
"""

from __future__ import annotations

from dataclasses import replace

from vlmdoctor.errors import InputError
from vlmdoctor.plan.estimate import estimate
from vlmdoctor.plan.findings import plan_findings
from vlmdoctor.plan.frontier import frontier
from vlmdoctor.plan.gpus import GpuSpec, gpus_from_snapshot, parse_gpus, unplannable
from vlmdoctor.plan.options import fit_options
from vlmdoctor.plan.request import PlanRequest, validate_card
from vlmdoctor.plan.result import Budget, GpuUsage, Option, Plan
from vlmdoctor.plan.stack import Stack
from vlmdoctor.plan.text import plan_text_lines


def make_plan(request: PlanRequest, strict: bool = True) -> Plan:
    """Estimate memory per GPU and the device map; when it does not fit, rank what would.

    A model whose numbers are absurd raises InputError naming the field; with ``strict``
    False (``check``, which goes on with its other findings) it is an unsized plan saying so.
    """
    try:
        validate_card(request.card)
    except InputError as exc:
        if strict:
            raise
        return Plan(model=request.card.id, model_name=request.card.name,
                    dtype=request.resolved_dtype, gpus=request.gpus, device_map={}, per_gpu=(),
                    required_bytes=0, fits=False, sized=False, notes=(str(exc),),
                    unknown=(str(exc),), workload=None, params=None)
    plan = estimate(request)
    if not plan.gpus:
        return plan  # nothing to fit on: the notes say how to name GPUs
    return replace(plan, options=fit_options(request, plan),
                   frontier=frontier(request) if plan.sized else ())


__all__ = [
    "Budget", "GpuSpec", "GpuUsage", "Option", "Plan", "PlanRequest", "gpus_from_snapshot",
    "make_plan", "parse_gpus", "plan_findings", "plan_text_lines", "Stack", "unplannable",
]
