"""Device maps in each family's own style, keyed by the model's real module names.

- ``internvl-split``: InternVL's ``split_model`` (internvl_chat/internvl/model/__init__.py):
  GPU 0 counts as ``gpu0_weight`` (0.5) of a GPU; ``per_gpu = ceil(L / sum(weights))``,
  GPU i takes ``ceil(per_gpu * weight_i)`` layers in order; the pinned modules and the last
  layer go to GPU 0.
- ``xcomposer``: InternLM-XComposer's ``auto_configure_device_map`` (example_code/utils.py):
  ``per_gpu_layers = (L + 6) / num_gpus`` (38 for 32 layers), GPU 0 starts at ``used = 3``;
  norm and output on the last GPU.
- ``contiguous`` (LLaVA, MGM, Qwen2-VL, Phi-3.5-V): vision tower, projector and embeddings on
  GPU 0, layers in order, norm and head after the last layer; the layer counts equalise each
  GPU's filled fraction.

Where GPUs differ, the family rules weight each GPU by its capacity (free memory when known);
with identical GPUs they reproduce the family's own code exactly.
"""

from __future__ import annotations

import math

from vlmdoctor.knowledge.cards import Placement

EMBEDDING_NAMES = frozenset({"embed_tokens", "tok_embeddings", "word_embeddings", "wte"})
HEAD_NAMES = frozenset({"lm_head", "output", "embed_out"})
NORM_NAMES = frozenset({"norm", "ln_f", "final_layernorm", "final_layer_norm"})
XCOMPOSER_EXTRA_UNITS = 6  # 38 units for 32 layers in auto_configure_device_map
XCOMPOSER_GPU0_START = 3  # "used = 3": the ViT and embeddings count as layers on GPU 0


def role(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    if last in EMBEDDING_NAMES:
        return "embeddings"
    if last in HEAD_NAMES:
        return "head"
    if last in NORM_NAMES:
        return "norm"
    return "other"


def _weights(capacities: list[int]) -> list[float]:
    """Each GPU's share relative to the largest; equal shares when none has room."""
    top = max(capacities, default=0)
    if top <= 0:
        return [1.0] * max(len(capacities), 1)
    return [max(c, 0) / top for c in capacities]


def every_gpu(order: list[int], n: int, held: tuple[int, ...] = ()) -> list[int]:
    """Move layers (keeping their order) so that no GPU is left without one: the family
    formulas round up per GPU and can run out of layers before the last GPUs. A GPU in
    ``held`` already holds a pinned layer elsewhere and may stay without one here."""
    counts = [order.count(i) for i in range(n)]
    need = [0 if i in held else 1 for i in range(n)]
    if len(order) < sum(need):
        return order
    while any(c < r for c, r in zip(counts, need)):
        empty = next(i for i in range(n) if counts[i] < need[i])
        donor = max(range(n), key=lambda i: (counts[i] - need[i], -abs(i - empty)))
        counts[donor] -= 1
        counts[empty] += 1
    return [gpu for gpu in range(n) for _ in range(counts[gpu])]


def internvl_layers(layers: int, capacities: list[int], gpu0_weight: float) -> list[int]:
    weights = _weights(capacities)
    weights[0] *= gpu0_weight
    per_gpu = math.ceil(layers / sum(weights))
    out: list[int] = []
    for gpu, weight in enumerate(weights):
        out.extend([gpu] * math.ceil(per_gpu * weight))
    out = (out + [len(capacities) - 1] * layers)[:layers]
    if layers > 1:  # the last layer sits with the embeddings and the head on GPU 0
        out = [*every_gpu(out[:-1], len(capacities), held=(0,)), 0]
    else:
        out[-1] = 0
    return out


def xcomposer_layers(layers: int, capacities: list[int]) -> list[int]:
    weights = _weights(capacities)
    units = (layers + XCOMPOSER_EXTRA_UNITS) / sum(weights)
    out: list[int] = []
    used, gpu = XCOMPOSER_GPU0_START, 0
    for _ in range(layers):
        if used >= units * weights[gpu] and gpu < len(capacities) - 1:
            gpu, used = gpu + 1, 0
        out.append(gpu)
        used += 1
    return every_gpu(out, len(capacities))


def balanced_layers(layers: int, capacities: list[int], fixed: list[int], cost: int) -> list[int]:
    """Layer counts in GPU order that minimise the fullest GPU's fill ``(fixed_i + n_i * cost) /
    cap_i``; every GPU takes at least one layer when there are as many layers as GPUs, so no
    GPU is left empty while another is over capacity."""
    n = len(capacities)
    if n <= 1 or layers <= 0:
        return [0] * max(layers, 0)
    least = 1 if layers >= n else 0
    caps = [max(c, 1) for c in capacities]
    per = max(cost, 1)

    def counts(fill: float) -> list[int]:
        return [max(least, math.floor((fill * caps[i] - fixed[i]) / per)) for i in range(n)]

    low, high = 0.0, max((fixed[i] + layers * per) / caps[i] for i in range(n))
    for _ in range(64):  # bisect the smallest fill at which the GPUs hold every layer
        mid = (low + high) / 2
        low, high = (low, mid) if sum(counts(mid)) >= layers else (mid, high)
    share = counts(high)
    while sum(share) > layers:  # trim the fullest GPU that can give a layer back
        gpu = max((i for i in range(n) if share[i] > least),
                  key=lambda i: ((fixed[i] + share[i] * per) / caps[i], i))
        share[gpu] -= 1
    return [gpu for gpu in range(n) for _ in range(share[gpu])]


def build_map(placement: Placement, layer_gpus: list[int], n_gpus: int,
              tied: bool) -> dict[str, int]:
    """Module name -> GPU index, in the order vision, first-GPU, layers, last-GPU.

    ``last_gpu`` modules go after the last layer in the contiguous style and to the last GPU
    otherwise (XComposer's ``num_gpus - 1``); a tied head stays with the embeddings.
    """
    last = layer_gpus[-1] if placement.style == "contiguous" and layer_gpus else n_gpus - 1
    device_map: dict[str, int] = {}
    for name in (*placement.vision, *placement.first_gpu):
        device_map[name] = 0
    for index, gpu in enumerate(layer_gpus):
        device_map[f"{placement.layers}.{index}"] = gpu
    for name in placement.last_gpu:
        device_map[name] = 0 if tied and role(name) == "head" else last
    return device_map
