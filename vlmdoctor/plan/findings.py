"""Findings from a plan, with stable ids: plan-does-not-fit, plan-smaller-budget,
plan-low-headroom, plan-unknown-size, plan-no-gpu-memory."""

from __future__ import annotations

from vlmdoctor.plan.constants import GIB, LOW_HEADROOM
from vlmdoctor.plan.result import Plan
from vlmdoctor.report import Finding

REFERENCES = ("docs/planner.md",)


def _gpus(plan: Plan) -> str:
    if not plan.gpus:
        return "no GPUs"
    names = [g.name for g in plan.gpus]
    if len(set(names)) == 1:
        return f"{len(names)} x {names[0]}"
    return ", ".join(names)


def plan_findings(plan: Plan) -> tuple[Finding, ...]:
    out: list[Finding] = []
    where = _gpus(plan)
    evidence = {"required_bytes": plan.required_bytes,
                "capacity_bytes": sum(u.capacity_bytes for u in plan.per_gpu)}
    if plan.sized and not plan.gpus:
        out.append(Finding(
            id="plan-no-gpu-memory", severity="info",
            title=f"Cannot plan {plan.model_name} on this machine's GPUs",
            message="; ".join([n for n in plan.notes if n.startswith("cannot plan on")]
                              or ["no GPU was found"])
                    + ". The memory plan needs each GPU's memory size; nothing was concluded "
                    "about whether the model fits.",
            references=REFERENCES, evidence=evidence))
    elif plan.sized and not plan.fits and plan.runnable:
        out.append(_smaller_budget(plan, where, evidence))
    elif plan.sized and not plan.fits:
        over = [u for u in plan.per_gpu if u.total_bytes > u.capacity_bytes]
        if over:
            detail = "; ".join(f"GPU {u.index} needs {u.total_bytes / GIB:.1f} GiB of "
                               f"{u.capacity_bytes / GIB:.1f} GiB" for u in over)
        else:
            detail = "there is no GPU to put it on"
        out.append(Finding(
            id="plan-does-not-fit", severity="error",
            title=f"{plan.model_name} in {plan.precision} does not fit {where}",
            message=f"{detail}. The plan itemises weights, KV cache, activations and per-GPU "
                    "overhead; see the plan section.",
            fix=tuple(o.summary for o in plan.options[:3]),
            references=REFERENCES, evidence=evidence))
    elif plan.fits and plan.min_headroom is not None and plan.min_headroom < LOW_HEADROOM:
        tight = min(plan.per_gpu, key=lambda u: u.headroom)
        out.append(Finding(
            id="plan-low-headroom", severity="warning",
            title=f"{plan.model_name} in {plan.precision} fits {where} with under "
                  f"{LOW_HEADROOM:.0%} headroom",
            message=f"GPU {tight.index} would hold {tight.total_bytes / GIB:.1f} GiB of "
                    f"{tight.capacity_bytes / GIB:.1f} GiB ({tight.headroom:.1%} left); longer "
                    "inputs, more images or fragmentation can run it out of memory.",
            references=REFERENCES, evidence={**evidence, "headroom": round(tight.headroom, 4)}))
    if plan.unknown:
        kv_missing = plan.sized and not plan.kv_sized
        out.append(Finding(
            id="plan-unknown-size", severity="info",  # a gap in the files, not in the setup
            title=f"The memory plan for {plan.model_name} is incomplete",
            message=("; ".join(plan.unknown) + ". " if plan.unknown[0].startswith("cannot plan")
                     else "The model card lacks: " + "; ".join(plan.unknown) + ". ")
                    + ("The KV cache is not sized (not counted as 0): whether the model fits "
                       "is not known. " if kv_missing else "")
                    + ("The estimate is a lower bound." if plan.sized else "No estimate was made."),
            references=REFERENCES, evidence={"unknown": list(plan.unknown)}))
    return tuple(out)


def _smaller_budget(plan: Plan, where: str, evidence: dict[str, int]) -> Finding:
    """The default budget does not fit but a smaller one does: name it and how to set it."""
    over = [u for u in plan.per_gpu if u.total_bytes > u.capacity_bytes]
    detail = "; ".join(f"GPU {u.index} would need {u.total_bytes / GIB:.1f} GiB of "
                       f"{u.capacity_bytes / GIB:.1f} GiB" for u in over)
    found = [b for b in plan.frontier if b.largest is not None]
    names = {"max-pixels": "image budget", "context": "context", "frames": "frame count",
             "video-max-pixels": "frame size"}
    parts = [f"the largest {names.get(b.kind, b.kind)} that fits is {b.detail}" for b in found]
    fix = tuple(flag for b in found for flag in b.flags)
    what = " and ".join(sorted({names.get(b.kind, b.kind) for b in found}))
    return Finding(
        id="plan-smaller-budget", severity="warning",
        title=f"{plan.model_name} in {plan.precision} fits {where} only with a smaller {what}",
        message=f"At the planned budget {detail}; " + "; ".join(parts) + ".",
        fix=fix, references=REFERENCES,
        evidence={**evidence, **{f"largest_{b.kind}": b.largest or 0 for b in found}})
