"""When a model does not fit: the changes that would make it fit, ranked, each with its number.

Rank: workload changes that keep the model and hardware (pixels, context, batch), then
precision (int8 before int4), then hardware (more, then larger GPUs), then a smaller variant.
Options the GPUs cannot run (e.g. LLM.int8() below compute capability 7.5) come last.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from vlmdoctor.plan.checkpoint import Checkpoint
from vlmdoctor.plan.constants import FLOAT_BYTES, GIB, MIN_CC_INT4, MIN_CC_INT8
from vlmdoctor.plan.estimate import estimate
from vlmdoctor.plan.gpus import GPU_TABLE, GpuSpec, cc_tuple
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.result import Option, Plan
from vlmdoctor.plan.stored import as_stored
from vlmdoctor.plan.weights import components

MAX_EXTRA_GPUS = 16
RANK = ("max-pixels", "context", "batch", "dtype", "more-gpus", "larger-gpus", "smaller-variant")


def _largest(low: int, high: int, fits: Callable[[int], bool]) -> int | None:
    """The largest value in [low, high] for which fits() holds (fits is monotone)."""
    if low > high or not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


def _try(request: PlanRequest) -> Plan:
    return estimate(request)


def _workload_options(request: PlanRequest) -> list[Option]:
    out: list[Option] = []
    images = request.card.images
    if request.images and images is not None and images.pixels_per_token:
        per = images.pixels_per_token
        current = request.max_pixels or images.max_pixels or 0
        floor = max((images.min_pixels or per) // per, 1)
        best = _largest(floor, current // per - 1,
                        lambda t: _try(replace(request, max_pixels=t * per)).fits)
        if best is not None:
            pixels = best * per
            plan = _try(replace(request, max_pixels=pixels))
            out.append(Option("max-pixels", pixels, plan.required_bytes, True,
                              f"limit images to --max-pixels {pixels} ({best} x {per}; "
                              f"MAX_PIXELS={pixels} for qwen-vl-utils/ms-swift)"))
    best = _largest(request.new_tokens + 1, request.context - 1,
                    lambda c: _try(replace(request, context=c)).fits)
    if best is not None:
        plan = _try(replace(request, context=best))
        out.append(Option("context", best, plan.required_bytes, True,
                          f"limit the context to {best} tokens (--context {best})"))
    if request.batch > 1:
        best = _largest(1, request.batch - 1, lambda b: _try(replace(request, batch=b)).fits)
        if best is not None:
            plan = _try(replace(request, batch=best))
            out.append(Option("batch", best, plan.required_bytes, True,
                              f"run batch {best} (--batch {best})"))
    return out


def _gate(request: PlanRequest, need: tuple[int, int] | None) -> tuple[bool | None, str]:
    ccs = [cc_tuple(g.compute_capability) for g in request.gpus]
    supported = None if need is None or any(c is None for c in ccs) else \
        all(c >= need for c in ccs if c)
    return supported, {True: "supported on these GPUs", False: "NOT supported on these GPUs",
                       None: "GPU support unknown"}[supported]


def _dtype_options(request: PlanRequest) -> list[Option]:
    """Lower precision: bitsandbytes int8/int4 for a float checkpoint; for a pre-quantised
    one planned dequantised, its own packing as stored (never bitsandbytes on top of it)."""
    ckpt = request.checkpoint
    if ckpt is not None:
        if as_stored(request) is not None or \
                ckpt.dequantised_on(tuple(g.cc for g in request.gpus)):
            return []  # as stored already, or these GPUs cannot keep it as stored
        return _stored_option(request, ckpt)
    out: list[Option] = []
    smaller = {"int8": 1, "int4": 2}
    for dtype, need in (("int8", MIN_CC_INT8), ("int4", MIN_CC_INT4)):
        if smaller[dtype] <= smaller.get(request.resolved_dtype, 0):
            continue
        quantised = replace(request, dtype=dtype)
        plan, also = _try(quantised), ""
        if not plan.fits:
            best = _largest(request.new_tokens + 1, request.context,
                            lambda c, q=quantised: _try(replace(q, context=c)).fits)  # type: ignore[misc]
            if best is None:
                continue
            plan, also = _try(replace(quantised, context=best)), f" and --context {best}"
        supported, gate = _gate(request, need)
        remote = " with the family's remote loader" if request.card.requirements.trust_remote_code else ""
        out.append(Option("dtype", dtype, plan.required_bytes, supported,
                          f"load in {dtype} with bitsandbytes{remote} (--dtype {dtype}{also}; needs "
                          f"compute capability >= {need[0]}.{need[1]}: {gate})"))
    return out


def _stored_option(request: PlanRequest, ckpt: Checkpoint) -> list[Option]:
    stored = replace(request, dtype=None)
    plan, also = _try(stored), ""
    if not plan.fits:
        best = _largest(request.new_tokens + 1, request.context,
                        lambda c: _try(replace(stored, context=c)).fits)
        if best is None:
            return []
        plan, also = _try(replace(stored, context=best)), f" and --context {best}"
    supported, gate = _gate(request, cc_tuple(ckpt.min_cc))
    floor = f"; needs compute capability >= {ckpt.min_cc}: {gate}" if ckpt.min_cc else ""
    return [Option("dtype", ckpt.dtype, plan.required_bytes, supported,
                   f"load the {ckpt.label} checkpoint as stored, not dequantised (no --dtype"
                   f"{also}{floor})")]


def _gpu_options(request: PlanRequest) -> list[Option]:
    out: list[Option] = []
    gpus = request.gpus
    if gpus:
        first = gpus[0]
        for count in range(len(gpus) + 1, len(gpus) + MAX_EXTRA_GPUS + 1):
            more = tuple(replace(first, index=i) for i in range(count))
            plan = _try(replace(request, gpus=more))
            if plan.fits:
                out.append(Option("more-gpus", count, plan.required_bytes, True,
                                  f"use {count} x {first.name} ({first.memory_total_bytes / GIB:.0f} "
                                  f"GiB each) instead of {len(gpus)}"))
                break
    count = max(len(gpus), 1)
    stored = as_stored(request)
    kernels = cc_tuple(stored.min_cc) if stored is not None else None
    biggest = max((g.capacity_bytes for g in gpus), default=0)
    for name, (size, cc) in sorted(GPU_TABLE.items(), key=lambda kv: (kv[1][0], kv[0])):
        if size * GIB <= biggest:
            continue
        if request.resolved_dtype == "bf16" and (cc_tuple(cc) or (0, 0)) < (8, 0):
            continue
        if kernels is not None and (cc_tuple(cc) or (0, 0)) < kernels:
            continue  # the checkpoint's kernels do not run there (e.g. FP8 below 8.9)
        spec = tuple(GpuSpec(i, name, size * GIB, None, cc) for i in range(count))
        plan = _try(replace(request, gpus=spec))
        if plan.fits:
            out.append(Option("larger-gpus", f"{count}x{name}", plan.required_bytes, True,
                              f"use {count} x {name} ({size} GiB each)"))
            break
    return out


def _variant_options(request: PlanRequest, plan: Plan) -> list[Option]:
    sized = []
    for card in request.variants:
        comp = components(card)
        if card.id != request.card.id and comp is not None and comp.total < (plan.params or 0):
            sized.append((comp.total, card))
    for _, card in sorted(sized, key=lambda pair: -pair[0]):
        own = request.checkpoint is not None and request.dtype not in FLOAT_BYTES
        other = _try(replace(request, card=card, dtype=None if own else request.dtype,
                             checkpoint=None))  # its own files are not this checkpoint
        if other.fits:
            return [Option("smaller-variant", card.id, other.required_bytes, True,
                           f"use the smaller {card.name} (--model {card.id})")]
    return []


def fit_options(request: PlanRequest, plan: Plan) -> tuple[Option, ...]:
    if plan.fits or not plan.sized:
        return ()
    found = [*_workload_options(request), *_dtype_options(request), *_gpu_options(request),
             *_variant_options(request, plan)]
    found.sort(key=lambda o: (o.supported is False, RANK.index(o.kind)))
    return tuple(found)
