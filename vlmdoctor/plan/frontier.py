"""The fit frontier: the largest image budget and context that fit, instead of one worst case.

A budget the user did not choose (the processor's default pixels, the default context) is a
default, not a demand: when it does not fit but a smaller one does, the plan names the largest
that fits and the exact argument that sets it (a warning); only when even the smallest budget
does not fit is the model unable to run (an error).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from vlmdoctor.plan.estimate import estimate
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.result import Budget
from vlmdoctor.plan.tokens import FRAME_FACTOR, VIDEO_MIN_TOKENS, video_pixels_cap

PIXEL_KINDS = ("qwen-pixels", "pixels")


def largest(low: int, high: int, fits: Callable[[int], bool]) -> int | None:
    """The largest value in [low, high] for which fits() holds (fits is monotone)."""
    if low > high:
        return None
    if fits(high):  # the common case: the budget as planned fits, nothing to search
        return high
    if not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


def pixel_flags(request: PlanRequest, pixels: int) -> tuple[str, ...]:
    kind = request.card.images.kind if request.card.images else ""
    flags = [f"vlmdoctor plan --max-pixels {pixels}"]
    if kind == "qwen-pixels":
        flags += [f"AutoProcessor.from_pretrained(..., max_pixels={pixels})",
                  f"MAX_PIXELS={pixels} (qwen-vl-utils, ms-swift)",
                  f"vllm serve ... --mm-processor-kwargs '{{\"max_pixels\": {pixels}}}'"]
    return tuple(flags)


def pixel_budget(request: PlanRequest) -> Budget | None:
    """Largest per-image pixel budget that fits at the requested batch, images and context."""
    images = request.card.images
    if not request.images or images is None or images.kind not in PIXEL_KINDS:
        return None
    per = images.pixels_per_token
    current = request.max_pixels or images.max_pixels
    if not per or not current:
        return None
    floor = max((images.min_pixels or per) // per, 1)
    top = max(current // per, floor)
    best = largest(floor, top, lambda t: estimate(replace(request, max_pixels=t * per)).fits)
    pixels = None if best is None else (current if best == top else best * per)
    detail = ("no pixel budget fits" if pixels is None else
              f"{pixels:,} pixels = {pixels // per:,} visual tokens per image")
    return Budget("max-pixels", current, pixels, floor * per, detail,
                  pixel_flags(request, pixels) if pixels is not None else ())


def context_budget(request: PlanRequest) -> Budget | None:
    """Largest context that fits (only when the context is a default, not the user's)."""
    if request.context_fixed:
        return None
    low = request.new_tokens + 1
    best = largest(low, request.context, lambda c: estimate(replace(request, context=c)).fits)
    also = ""
    pixels = pixel_budget(request)
    if best is None and pixels is not None and pixels.largest is None:  # smallest images
        small = replace(request, max_pixels=pixels.smallest)
        best = largest(low, request.context, lambda c: estimate(replace(small, context=c)).fits)
        also = f", with images at the smallest budget ({pixels.smallest:,} pixels)"
    flags: tuple[str, ...] = ()
    if best is not None:  # vLLM's max_model_len counts the visual tokens too
        load = estimate(replace(request, context=best)).workload
        whole = load.sequence if load is not None else best
        flags = (f"vlmdoctor plan --context {best}",
                 f"keep prompt + max_new_tokens <= {best} tokens of text in generate()",
                 f"vllm serve ... --max-model-len {whole}")
    detail = "no context fits" if best is None else f"{best:,} text tokens per sequence{also}"
    return Budget("context", request.context, best, low, detail, flags)


def video_budgets(request: PlanRequest) -> tuple[Budget, ...]:
    """For videos: the most frames at the per-frame cap, and the largest per-frame pixels at
    the requested frames (qwen-vl-utils' video budget)."""
    images = request.card.images
    if not request.videos or images is None or images.kind != "qwen-pixels":
        return ()
    cap = request.video_max_pixels or video_pixels_cap(images)
    per = images.pixels_per_token
    if not cap or not per:
        return ()
    frames = largest(FRAME_FACTOR, max(request.frames, FRAME_FACTOR),
                     lambda f: estimate(replace(request, frames=f)).fits)
    floor = VIDEO_MIN_TOKENS
    top = max(cap // per, floor)
    best = largest(floor, top, lambda t: estimate(replace(request, video_max_pixels=t * per)).fits)
    pixels = None if best is None else (cap if best == top else best * per)
    out = [Budget("frames", request.frames, frames, FRAME_FACTOR,
                  "no frame count fits" if frames is None else
                  f"{frames} frames per video at up to {cap:,} pixels per frame",
                  () if frames is None else (f"vlmdoctor plan --frames {frames}",
                                             f"FPS_MAX_FRAMES={frames} (qwen-vl-utils), or "
                                             f'"nframes": {frames} in the video message')),
           Budget("video-max-pixels", cap, pixels, floor * per,
                  "no frame size fits" if pixels is None else
                  f"{pixels:,} pixels per frame at {request.frames} frames",
                  () if pixels is None else (
                      f"vlmdoctor plan --video-max-pixels {pixels}",
                      f"VIDEO_MAX_PIXELS={pixels} (qwen-vl-utils), or "
                      f'"max_pixels": {pixels} in the video message'))]
    return tuple(out)


def frontier(request: PlanRequest) -> tuple[Budget, ...]:
    found = (pixel_budget(request), *video_budgets(request), context_budget(request))
    return tuple(b for b in found if b is not None)
