"""The plan's notes: what it assumed, what it could not know, and what to watch for."""

from __future__ import annotations

from vlmdoctor.plan.constants import FLOAT_BYTES, MIN_CC_BF16
from vlmdoctor.plan.memory import Workload
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.result import GpuUsage
from vlmdoctor.plan.weights import Components, Weights, quant_bytes


def cc_tuple(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        major, _, minor = value.partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        return None


def plan_notes(request: PlanRequest, comp: Components, w: Weights, load: Workload,
               splittable: bool, per_gpu: list[GpuUsage]) -> tuple[str, ...]:
    card, dtype = request.card, request.resolved_dtype
    notes: list[str] = [
        f"parameters: {comp.total:,} ({comp.vision + comp.projector:,} vision tower and "
        f"projector, {comp.language:,} language model"
        + (", output head tied to the embeddings)" if comp.head == 0 and comp.embeddings else ")"),
    ]
    notes.extend(comp.notes)
    if dtype not in FLOAT_BYTES:
        rate = quant_bytes(dtype, card.architecture.hidden_size)
        vision = ("quantised too (the family's loader lets bitsandbytes convert it)"
                  if w.quantised_vision else "kept 16-bit, as the family's loader keeps it")
        notes.append(f"bitsandbytes {dtype}: decoder Linear weights at {rate:.4f} bytes/param; "
                     f"embeddings, lm_head and norms stay 16-bit; the vision tower is {vision}")
    notes.append(f"KV cache for {load.sequence:,} tokens per sequence x batch {request.batch}")
    notes.extend(load.notes)
    notes.append(f"prefill activations for {load.prefill:,} tokens (logits and attention as noted above)")
    notes.extend(f"unknown: {item}" for item in load.unknown)
    if not splittable and len(request.gpus) > 1:
        notes.append("cannot split across GPUs: the card lacks lm_layers or placement.layers; "
                     "everything is planned on GPU 0")
    elif card.placement.source and request.gpus:
        notes.append(f"device map: {card.placement.style} style ({card.placement.source})")
    for gpu in request.gpus:
        cc = cc_tuple(gpu.compute_capability)
        if dtype == "bf16" and cc is not None and cc < MIN_CC_BF16:
            notes.append(f"GPU {gpu.index} ({gpu.name}, compute capability "
                         f"{gpu.compute_capability}) has no native bf16: plan with --dtype fp16")
        need = cc_tuple(card.requirements.min_compute_capability)
        if need is not None and cc is not None and cc < need:
            notes.append(f"GPU {gpu.index} ({gpu.name}) is below the model's minimum compute "
                         f"capability {card.requirements.min_compute_capability}")
    over = [u.index for u in per_gpu if u.total_bytes > u.capacity_bytes]
    if over:
        notes.append(f"over capacity on GPU {', '.join(str(i) for i in over)}")
    return tuple(notes)
