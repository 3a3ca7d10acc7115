"""What the user asks the planner: a model, GPUs, a precision and a workload."""

from __future__ import annotations

from dataclasses import dataclass

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.plan.constants import DEFAULT_CONTEXT, DEFAULT_IMAGES, DTYPES
from vlmdoctor.plan.gpus import GpuSpec
from vlmdoctor.plan.stack import Stack


@dataclass(frozen=True)
class PlanRequest:
    """One planning question.

    ``context`` is the number of text tokens the KV cache must hold (prompt plus
    generated); images add their visual tokens on top. ``new_tokens`` says how
    many of the context tokens are generated rather than prefilled (0 plans for
    the worst case, a prompt as long as the context). ``dtype`` None means the
    card's native dtype. ``variants`` are other cards of the family, for the
    "smaller variant" option. ``excluded`` says which GPUs of the inventory could not
    be planned on (memory size unknown) and why.
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
    stack: Stack = Stack()  # the transformers/torch the model runs under
    context_fixed: bool = False  # --context given: the fit frontier keeps it

    @property
    def resolved_dtype(self) -> str:
        return self.dtype or self.card.native_dtype or "fp16"

    @property
    def prefill_tokens(self) -> int:
        return max(self.context - self.new_tokens, 1)


def validate(request: PlanRequest) -> None:
    """Raise InputError (exit 2) for a request no plan can answer."""
    if request.resolved_dtype not in DTYPES:
        raise InputError(f"--dtype {request.dtype!r}: expected one of {', '.join(DTYPES)}")
    for option, value, low in (("--context", request.context, 1), ("--batch", request.batch, 1),
                               ("--images", request.images, 0)):
        if value < low:
            raise InputError(f"{option} {value}: must be at least {low}")
    if request.max_pixels is not None and request.max_pixels < 1:
        raise InputError(f"--max-pixels {request.max_pixels}: must be at least 1")
    if not 0 <= request.new_tokens < request.context:
        raise InputError(f"--new-tokens {request.new_tokens}: must be at least 0 and "
                         f"less than --context {request.context}")
