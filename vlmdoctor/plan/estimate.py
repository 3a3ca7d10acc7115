"""One plan for one request: assemble the terms per GPU and the device map (no options)."""

from __future__ import annotations

from vlmdoctor.plan.constants import ALLOCATOR_MARGIN, CUDA_CONTEXT_BYTES, GIB
from vlmdoctor.plan.devicemap import (
    balanced_layers,
    build_map,
    internvl_layers,
    role,
    xcomposer_layers,
)
from vlmdoctor.plan.gpus import no_gpu_note
from vlmdoctor.plan.memory import Workload, workload
from vlmdoctor.plan.notes import plan_notes
from vlmdoctor.plan.request import PlanRequest, validate
from vlmdoctor.plan.result import GpuUsage, Plan
from vlmdoctor.plan.stored import as_stored, request_weights
from vlmdoctor.plan.weights import Components, Weights, components


def _locate(device_map: dict[str, int], wanted: str, default: int) -> int:
    return next((gpu for name, gpu in device_map.items() if role(name) == wanted), default)


def usage(n: int, caps: list[int], layer_gpus: list[int], device_map: dict[str, int],
          w: Weights, load: Workload, every_gpu_has_layers: bool = False,
          tail: int = 0) -> list[GpuUsage]:
    """Itemise each GPU. Transients that never coexist (the vision tower's, one decoder
    layer's, the prefill logits) count as their maximum; hidden states carry on top.
    ``tail`` is where the head and norm go when no layer places them."""
    tail = layer_gpus[-1] if layer_gpus else tail
    tied = w.head == 0 and w.embeddings > 0
    head_gpu = _locate(device_map, "head", 0 if tied else tail)
    embed_gpu = _locate(device_map, "embeddings", 0)
    weights, kv = [0] * n, [0] * n
    weights[0] += w.vision + w.body
    weights[embed_gpu] += w.embeddings
    weights[head_gpu] += w.head
    weights[_locate(device_map, "norm", tail)] += w.norm
    for gpu in layer_gpus:
        weights[gpu] += w.per_layer
        kv[gpu] += load.kv_per_layer
    out: list[GpuUsage] = []
    for gpu in range(n):
        has_layers = every_gpu_has_layers or gpu in layer_gpus or (not layer_gpus and gpu == 0)
        peaks = [load.layer_peak if has_layers else 0, load.logits if gpu == head_gpu else 0,
                 load.vision_peak if gpu == 0 else 0]
        lm_here = has_layers or gpu in (head_gpu, embed_gpu)
        act = (load.carry if lm_here else 0) + max(peaks)
        allocated = weights[gpu] + kv[gpu] + act
        overhead = CUDA_CONTEXT_BYTES + round(ALLOCATOR_MARGIN * allocated) if allocated else 0
        out.append(GpuUsage(index=gpu, weights_bytes=weights[gpu], kv_bytes=kv[gpu],
                            activation_bytes=act, overhead_bytes=overhead,
                            capacity_bytes=caps[gpu]))
    return out


def layer_split(request: PlanRequest, comp: Components, w: Weights, load: Workload,
                caps: list[int]) -> list[int]:
    placement, layers = request.card.placement, comp.layers
    if placement.style == "internvl-split":
        return internvl_layers(layers, caps, placement.gpu0_weight or 0.5)
    if placement.style == "xcomposer":
        return xcomposer_layers(layers, caps)
    if placement.style == "single-device" or len(caps) == 1:
        return [0] * layers
    fixed = [u.total_bytes for u in usage(len(caps), caps, [], {}, w, load, True, len(caps) - 1)]
    fixed = [f + CUDA_CONTEXT_BYTES * (f == 0) for f in fixed]
    cost = round((w.per_layer + load.kv_per_layer) * (1 + ALLOCATOR_MARGIN))
    return balanced_layers(layers, caps, fixed, cost)


def unsized_map(request: PlanRequest) -> dict[str, int | str]:
    """The family's device map by capacity alone, for cards that cannot be sized."""
    card, caps = request.card, [g.capacity_bytes for g in request.gpus]
    layers = card.architecture.lm_layers or 0
    if not (layers and card.placement.layers and caps):
        return {}
    if card.placement.style == "internvl-split":
        split = internvl_layers(layers, caps, card.placement.gpu0_weight or 0.5)
    elif card.placement.style == "xcomposer":
        split = xcomposer_layers(layers, caps)
    else:
        split = balanced_layers(layers, caps, [0] * len(caps), 1)
    tied = bool(card.architecture.tie_word_embeddings)
    return dict(build_map(card.placement, split, len(caps), tied))


def estimate(request: PlanRequest) -> Plan:
    validate(request)
    card, dtype, gpus = request.card, request.resolved_dtype, request.gpus
    comp = components(card)
    if comp is None:
        return Plan(model=card.id, model_name=card.name, dtype=dtype, gpus=gpus,
                    device_map=unsized_map(request),
                    per_gpu=(), required_bytes=0, fits=False, sized=False,
                    notes=("cannot size the model: its card gives no parameter count "
                           "(neither params.language nor params.total), so no memory "
                           "estimate is made; a device map is still shown where the family "
                           "has one",),
                    unknown=("parameter counts",), workload=None, params=None)
    w = request_weights(request, comp)
    load = workload(request, comp, dtype)
    n = max(len(gpus), 1)
    caps = [g.capacity_bytes for g in gpus] or [0]
    splittable = bool(comp.layers and card.placement.layers and gpus)
    layer_gpus = layer_split(request, comp, w, load, caps) if splittable else [0] * comp.layers
    device_map = build_map(card.placement, layer_gpus, n, bool(card.architecture.tie_word_embeddings)) \
        if splittable else {"": 0}
    per_gpu = usage(n, caps, layer_gpus, device_map, w, load)
    required = sum(u.total_bytes for u in per_gpu)
    shown_map: dict[str, int | str] = dict(device_map) if gpus else {}
    fits = bool(gpus) and all(u.total_bytes <= u.capacity_bytes for u in per_gpu)
    notes = request.excluded + plan_notes(request, comp, w, load, splittable,
                                          per_gpu if gpus else [])
    if not gpus:
        notes = (*request.excluded, no_gpu_note(request.excluded), *notes[len(request.excluded):])
    return Plan(model=card.id, model_name=card.name, dtype=dtype, gpus=gpus,
                device_map=shown_map, per_gpu=tuple(per_gpu) if gpus else (),
                required_bytes=required, fits=fits, sized=True, notes=notes,
                unknown=load.unknown + tuple(n for n in comp.notes if "unknown" in n),
                workload=load, params=comp.total, checkpoint=_label(request))


def _label(request: PlanRequest) -> str | None:
    ckpt = as_stored(request)
    return None if ckpt is None else ckpt.label


def gib(value: int) -> str:
    return f"{value / GIB:.1f} GiB"
