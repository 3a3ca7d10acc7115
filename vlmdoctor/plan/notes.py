"""The plan's notes: what it assumed, what it could not know, and what to watch for."""

from __future__ import annotations

from vlmdoctor.plan.checkpoint import Checkpoint, quantised_rate
from vlmdoctor.plan.constants import FLOAT_BYTES, MIN_CC_BF16
from vlmdoctor.plan.gpus import cc_tuple
from vlmdoctor.plan.memory import Workload
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.result import GpuUsage
from vlmdoctor.plan.stored import as_stored
from vlmdoctor.plan.weights import Components, Weights, quant_bytes


def plan_notes(request: PlanRequest, comp: Components, w: Weights, load: Workload,
               splittable: bool, per_gpu: list[GpuUsage]) -> tuple[str, ...]:
    card, dtype = request.card, request.resolved_dtype
    notes: list[str] = [
        f"parameters: {comp.total:,} ({comp.vision + comp.projector:,} vision tower and "
        f"projector, {comp.language:,} language model"
        + (", output head tied to the embeddings)" if comp.head == 0 and comp.embeddings else ")"),
    ]
    notes.extend(comp.notes)
    stored, ckpt = as_stored(request), request.checkpoint
    if stored is not None:
        notes.extend(checkpoint_notes(request, stored, comp, w))
    elif ckpt is not None and request.dtype in FLOAT_BYTES:
        anyway = ckpt.dequantised_on(tuple(g.cc for g in request.gpus))
        notes.append(f"planned dequantised to {dtype}, as --dtype {dtype} asks: the checkpoint "
                     f"stores {ckpt.label} weights; "
                     + (f"transformers dequantises it on these GPUs anyway (below compute "
                        f"capability {ckpt.dequantised_below})" if anyway
                        else "without --dtype it is planned as stored"))
    elif ckpt is not None:
        below = [f"GPU {g.index} ({g.name}, {g.compute_capability})" for g in request.gpus
                 if ckpt.dequantised_on((g.cc,))]
        notes.append(f"planned dequantised to {dtype}: transformers dequantises the "
                     f"{ckpt.label} checkpoint to bf16 on load below compute capability "
                     f"{ckpt.dequantised_below} ({', '.join(below)}), twice its stored size; "
                     f"on GPUs of {ckpt.dequantised_below} or newer it stays FP8")
    elif dtype not in FLOAT_BYTES:
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


def checkpoint_notes(request: PlanRequest, ckpt: Checkpoint, comp: Components,
                     w: Weights) -> list[str]:
    """What a pre-quantised checkpoint's weights are, and what its kernels need."""
    total = w.total(comp.layers)
    if ckpt.stored.get("language"):
        what = f"{total:,} bytes, as its safetensors headers store them ({ckpt.parts})"
    else:
        hidden = request.card.architecture.hidden_size
        rate = (quant_bytes(ckpt.dtype, hidden) if ckpt.method == "bitsandbytes"
                else quantised_rate(ckpt, hidden))
        what = (f"{total:,} bytes estimated (no safetensors headers to read): {rate:.4f} "
                f"bytes per quantised weight, {ckpt.bits} bits plus its group's scale and "
                "zero point")
    vision = "quantised too" if w.quantised_vision else "16-bit"
    kept = (f"; modules_to_not_convert: {', '.join(ckpt.not_converted)}"
            if ckpt.not_converted else "")
    notes = [f"{ckpt.label} checkpoint: weights {what}; embeddings, lm_head and norms "
             f"16-bit; the vision tower and projector {vision}{kept}"]
    if request.dtype in FLOAT_BYTES:
        notes.append(f"--dtype {request.dtype} is the compute dtype: the {ckpt.name} weights "
                     "stay as stored (transformers' quantizer takes the dtype for the "
                     "unquantised modules and activations only)")
    if request.dtype in ("int4", "int8") and request.dtype != ckpt.dtype:
        notes.append(f"--dtype {request.dtype} not applied: the checkpoint is already "
                     f"{ckpt.label}; transformers loads it as stored and does not "
                     "re-quantise it with bitsandbytes")
    need = cc_tuple(ckpt.min_cc)
    for gpu in request.gpus:
        cc = cc_tuple(gpu.compute_capability)
        if need is not None and cc is not None and cc < need:
            notes.append(f"GPU {gpu.index} ({gpu.name}, compute capability "
                         f"{gpu.compute_capability}) is below the {ckpt.min_cc} the "
                         f"{ckpt.name} kernels need: {ckpt.why}")
    return notes
