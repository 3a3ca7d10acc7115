"""Plain-text lines for a plan (GiB here only; the data stays in bytes)."""

from __future__ import annotations

import re

from vlmdoctor.plan.bars import bar_lines
from vlmdoctor.plan.constants import GIB
from vlmdoctor.plan.result import Plan

_LAYER = re.compile(r"^(.*\.)(\d+)$")


def _g(value: int) -> str:
    return f"{value / GIB:.2f}"


def map_lines(device_map: dict[str, int | str]) -> list[str]:
    """Group consecutive numbered modules on one device: ``model.layers.0-11 -> 0``."""
    lines: list[str] = []
    run: tuple[str, int, int, int | str] | None = None
    for name, dev in device_map.items():
        m = _LAYER.match(name)
        if m and run and run[0] == m.group(1) and run[2] + 1 == int(m.group(2)) and run[3] == dev:
            run = (run[0], run[1], int(m.group(2)), dev)
            continue
        if run:
            lines.append(_run(run))
            run = None
        if m:
            run = (m.group(1), int(m.group(2)), int(m.group(2)), dev)
        else:
            lines.append(f"  {name or '(whole model)'} -> {dev}")
    if run:
        lines.append(_run(run))
    return lines


def _run(run: tuple[str, int, int, int | str]) -> str:
    prefix, first, last, dev = run
    span = f"{first}" if first == last else f"{first}-{last}"
    return f"  {prefix}{span} -> {dev}"


def plan_text_lines(plan: Plan) -> list[str]:
    head = f"Plan: {plan.model_name} in {plan.precision} on {len(plan.gpus)} GPU(s)"
    if not plan.sized:  # no numbers to show: say so, and why, instead of "0.00 GiB"
        why = ", ".join(plan.unknown) or "the model's size"
        lines = [f"{head}: not sized: {why} unknown, so whether it fits is not known"]
    elif not plan.gpus:
        lines = [f"Plan: {plan.model_name} in {plan.precision}: no GPU to plan on "
                 f"(the model needs {_g(plan.required_bytes)} GiB on one GPU)"]
    else:
        verdict = ("fits" if plan.fits else "fits only with a smaller budget" if plan.runnable
                   else "does NOT fit")
        if not plan.kv_sized:
            verdict += " without the KV cache (KV cache not sized)"
        capacity = sum(u.capacity_bytes for u in plan.per_gpu)
        lines = [f"{head}: {verdict} (needs {_g(plan.required_bytes)} GiB of {_g(capacity)} GiB)"]
    if plan.per_gpu:
        lines.append(f"  {'GPU':<4}{'name':<24}{'weights':>9}{'KV':>8}{'activ.':>8}"
                     f"{'overhead':>10}{'total':>9}{'capacity':>10}{'free':>7}")
        for usage, gpu in zip(plan.per_gpu, plan.gpus):
            lines.append(f"  {usage.index:<4}{gpu.name[:23]:<24}{_g(usage.weights_bytes):>9}"
                         f"{_g(usage.kv_bytes) if plan.kv_sized else 'n/s':>8}"
                         f"{_g(usage.activation_bytes):>8}"
                         f"{_g(usage.overhead_bytes):>10}{_g(usage.total_bytes):>9}"
                         f"{_g(usage.capacity_bytes):>10}{usage.headroom:>7.0%}")
        lines.append("  (GiB; overhead = CUDA context + allocator margin)")
        lines.extend(bar_lines(plan.per_gpu))
    if plan.frontier:
        lines.append("Largest budget that fits (at this batch and image count):")
        for budget in plan.frontier:
            lines.append(f"  {budget.kind}: {budget.detail}"
                         + ("" if budget.largest != budget.requested else " (as planned)"))
            lines.extend(f"    {flag}" for flag in budget.flags
                         if budget.largest != budget.requested)
    if plan.device_map:
        lines.append("Device map (module -> GPU), for from_pretrained(..., device_map=...):")
        lines.extend(map_lines(dict(plan.device_map)))
    if plan.options:
        lines.append("Would fit with (best first):")
        lines.extend(f"  {i}. {o.summary} -> {_g(o.required_bytes)} GiB"
                     for i, o in enumerate(plan.options, 1))
    if plan.notes:
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in plan.notes)
    return lines
