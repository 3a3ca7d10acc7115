"""Per-GPU memory terms that depend on the workload: KV cache and activations."""

from __future__ import annotations

from dataclasses import dataclass

from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.plan.constants import (
    DECODER_HIDDEN_COPIES,
    DECODER_MLP_COPIES,
    FLOAT_BYTES,
    LOGITS_UPCAST_BYTES,
    VIT_HIDDEN_COPIES,
    VIT_MLP_COPIES,
    VIT_MLP_RATIO,
)
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.stack import assumptions
from vlmdoctor.plan.tokens import ImageLoad, image_load, video_load
from vlmdoctor.plan.weights import Components, float_dtype


@dataclass(frozen=True)
class Workload:
    """Bytes of the workload-dependent terms, for the whole batch."""

    sequence: int  # tokens per sequence the KV cache holds (text + visual)
    prefill: int  # tokens per sequence in the prefill forward pass
    image: ImageLoad | None
    kv_per_layer: int
    carry: int  # hidden states passed between layers/GPUs
    layer_peak: int  # transient inside one decoder layer
    logits: int  # prefill logits on the output-head GPU
    vision_peak: int  # transient inside one vision-tower block
    notes: tuple[str, ...]
    unknown: tuple[str, ...]


def head_dim(card: ModelCard) -> int | None:
    a = card.architecture
    if a.head_dim:
        return a.head_dim
    if a.hidden_size and a.num_attention_heads:
        return a.hidden_size // a.num_attention_heads
    return None


def intermediate(card: ModelCard, comp: Components, notes: list[str]) -> int | None:
    """The MLP width: from the card, else solved from the per-layer parameter count."""
    a = card.architecture
    if a.intermediate_size:
        return a.intermediate_size
    hd, h = head_dim(card), a.hidden_size
    if not (h and hd and a.num_attention_heads and a.num_kv_heads and comp.per_layer):
        return None
    attention = 2 * h * a.num_attention_heads * hd + 2 * h * a.num_kv_heads * hd
    width = (comp.per_layer - attention - 2 * h) // (3 * h)
    notes.append(f"MLP width derived from the per-layer parameter count: {width:,}")
    return width if width > 0 else None


def workload(request: PlanRequest, comp: Components, dtype: str) -> Workload:
    card, a = request.card, request.card.architecture
    notes: list[str] = []
    unknown: list[str] = []
    b = int(FLOAT_BYTES[float_dtype(dtype, card.native_dtype)])
    image = image_load(card.images, request.max_pixels) if request.images else None
    visual = 0
    if request.images and image is None:
        unknown.append("visual tokens per image (the card's images section lacks the numbers)")
    elif image is not None:
        visual = request.images * image.tokens
        notes.append(image.note)
    video = (video_load(card.images, request.frames, request.video_max_pixels)
             if request.videos else None)
    if request.videos and video is None:
        unknown.append("visual tokens per video (only Qwen-style pixel budgets are sized)")
    elif video is not None:
        visual += request.videos * video.tokens
        notes.append(video.note)
    sequence, prefill = request.context + visual, request.prefill_tokens + visual
    tokens, batch = prefill * request.batch, request.batch
    hd = head_dim(card)
    kv = 0
    if a.num_kv_heads and hd:
        kv = 2 * a.num_kv_heads * hd * b * sequence * batch
    else:
        unknown.append("KV cache (num_kv_heads/head_dim unknown)")
    carry = tokens * (a.hidden_size or 0) * b
    width = intermediate(card, comp, notes)
    layer_peak = 0
    if a.hidden_size and width:
        layer_peak = tokens * (DECODER_HIDDEN_COPIES * a.hidden_size + DECODER_MLP_COPIES * width) * b
    else:
        unknown.append("decoder activations (hidden_size/intermediate_size unknown)")
    stack = assumptions(card, request.stack)
    if not stack.eager_attention:
        pass
    elif a.num_attention_heads:
        scores = batch * a.num_attention_heads * prefill * prefill * (b + LOGITS_UPCAST_BYTES)
        layer_peak += scores  # eager: the scores and their fp32 softmax, one layer at a time
    else:
        unknown.append("eager attention scores (num_attention_heads unknown)")
    logits = 0
    if a.vocab_size:
        upcast = LOGITS_UPCAST_BYTES if stack.logits_upcast and b < LOGITS_UPCAST_BYTES else 0
        positions = batch if stack.logits_last_only else tokens
        logits = positions * a.vocab_size * (b + upcast)
    else:
        unknown.append("prefill logits (vocab_size unknown)")
    vision_peak = 0
    if image is not None and request.images:
        if a.vision_hidden_size:
            width_v = a.vision_hidden_size
            per_patch = (VIT_HIDDEN_COPIES + VIT_MLP_COPIES * VIT_MLP_RATIO) * width_v * b
            vision_peak = batch * request.images * image.patches * per_patch
        else:
            unknown.append("vision-tower activations (vision_hidden_size unknown)")
    if video is not None and a.vision_hidden_size:
        per_patch = (VIT_HIDDEN_COPIES + VIT_MLP_COPIES * VIT_MLP_RATIO) * a.vision_hidden_size * b
        vision_peak = max(vision_peak, batch * request.videos * video.patches * per_patch)
    return Workload(sequence=sequence, prefill=prefill, image=image, kv_per_layer=kv,
                    carry=carry, layer_peak=layer_peak, logits=logits,
                    vision_peak=vision_peak, notes=(*stack.notes, *notes),
                    unknown=tuple(unknown))
