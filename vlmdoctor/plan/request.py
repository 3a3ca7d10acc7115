"""What the user asks the planner: a model, GPUs, a precision and a workload."""

from __future__ import annotations

from dataclasses import dataclass

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.plan.checkpoint import Checkpoint
from vlmdoctor.plan.constants import DEFAULT_CONTEXT, DEFAULT_IMAGES, DTYPES
from vlmdoctor.plan.gpus import GpuSpec
from vlmdoctor.plan.stack import Stack

NO_STACK = Stack()  # nothing known: the card's requirement decides


@dataclass(frozen=True)
class PlanRequest:
    """One planning question.

    ``context`` is the number of text tokens the KV cache must hold (prompt plus
    generated); images add their visual tokens on top. ``new_tokens`` says how
    many of the context tokens are generated rather than prefilled (0 plans for
    the worst case, a prompt as long as the context). ``dtype`` None means the
    card's native dtype. ``variants`` are other cards of the family, for the
    "smaller variant" option. ``excluded`` says which GPUs of the inventory could not
    be planned on (memory size unknown) and why. ``checkpoint`` is the model's own
    pre-quantisation (AWQ, GPTQ, FP8, ...): with no ``dtype`` or a quantised one it is
    planned as stored; a float ``dtype`` plans it dequantised.
    """

    card: ModelCard
    gpus: tuple[GpuSpec, ...]
    dtype: str | None = None
    context: int = DEFAULT_CONTEXT
    batch: int = 1
    images: int = DEFAULT_IMAGES
    max_pixels: int | None = None
    new_tokens: int = 0
    variants: tuple[ModelCard, ...] = ()
    excluded: tuple[str, ...] = ()  # GPUs found but not plannable, one reason each
    stack: Stack = NO_STACK  # the transformers/torch the model runs under
    context_fixed: bool = False  # --context given: the fit frontier keeps it
    videos: int = 0  # videos per sequence (Qwen-style pixel budgets only)
    frames: int = 32  # frames per video after sampling
    video_max_pixels: int | None = None  # per-frame pixel cap (qwen-vl-utils VIDEO_MAX_PIXELS)
    checkpoint: Checkpoint | None = None  # a pre-quantised checkpoint's packing

    @property
    def resolved_dtype(self) -> str:
        ckpt = self.checkpoint
        if ckpt is not None and self.dtype in (None, "int8", "int4"):
            if ckpt.dequantised_on(tuple(g.cc for g in self.gpus)):
                return "bf16"  # FP8 below 8.9: transformers dequantises it on load
            return ckpt.dtype  # transformers loads it as stored: no re-quantising
        return self.dtype or self.card.native_dtype or "fp16"

    @property
    def prefill_tokens(self) -> int:
        return max(self.context - self.new_tokens, 1)


# Beyond these a number is not a model or a workload but a broken file or a typo.
MAX_TOKENS = 1 << 31
MAX_PIXELS = 1 << 40
MAX_PARAMS = 10**14
CARD_LIMITS = {"lm_layers": 10**4, "vision_layers": 10**4, "num_experts": 10**5,
               "max_tiles": 10**4, "patch_size": 10**4}


def validate_card(card: ModelCard) -> None:
    """Raise InputError naming the field when the model's numbers are absurd (zero, negative,
    or too large to be real), so no plan divides by zero or runs away."""
    groups = (("params", card.params), ("architecture", card.architecture),
              ("images", card.images))
    for group, values in groups:
        if values is None:
            continue
        for name, value in vars(values).items():
            if isinstance(value, bool) or not isinstance(value, int):
                continue
            limit = (MAX_PARAMS if group == "params" else MAX_PIXELS if "pixels" in name
                     else CARD_LIMITS.get(name, MAX_TOKENS))
            if not 1 <= value <= limit:
                raise InputError(f"cannot plan {card.id}: {group}.{name} = {value} (from the "
                                 f"model's config or processor files) must be between 1 and "
                                 f"{limit}")


def validate(request: PlanRequest) -> None:
    """Raise InputError (exit 2) for a request no plan can answer."""
    validate_card(request.card)
    if request.resolved_dtype not in DTYPES:
        raise InputError(f"--dtype {request.dtype!r}: expected one of {', '.join(DTYPES)}")
    for option, value, low in (("--context", request.context, 1), ("--batch", request.batch, 1),
                               ("--images", request.images, 0), ("--videos", request.videos, 0),
                               ("--frames", request.frames, 1)):
        if value < low:
            raise InputError(f"{option} {value}: must be at least {low}")
        if value > MAX_TOKENS:
            raise InputError(f"{option} {value}: cannot plan for more than {MAX_TOKENS}")
    if request.max_pixels is not None and not 1 <= request.max_pixels <= MAX_PIXELS:
        raise InputError(f"--max-pixels {request.max_pixels}: must be between 1 and "
                         f"{MAX_PIXELS}")
    if request.video_max_pixels is not None and not 1 <= request.video_max_pixels <= MAX_PIXELS:
        raise InputError(f"--video-max-pixels {request.video_max_pixels}: must be between 1 "
                         f"and {MAX_PIXELS}")
    if not 0 <= request.new_tokens < request.context:
        raise InputError(f"--new-tokens {request.new_tokens}: must be at least 0 and "
                         f"less than --context {request.context}")
