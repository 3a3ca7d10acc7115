"""A simple balanced device map for the probe when the planner gives none (stdlib only).

Rules (the same shape the official multi-GPU splits use, see docs/probe.md):
- the decoder layers are split into contiguous runs, one run per GPU, in order;
- the vision tower, the projector, the token embeddings and the rotary embedding sit on
  GPU 0 with the first run of layers;
- the final norm and the output head sit with the last run of layers, except when the
  output head is tied to the embeddings: then both stay on GPU 0;
- anything else outside the decoder stays on GPU 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

Device = Union[int, str]

_LAST = ("norm", "lm_head", "output", "final_layernorm", "ln_f")


@dataclass(frozen=True)
class ModelLayout:
    """Where the decoder layers live and what else hangs off the model.

    ``layers_prefix`` names the decoder's layer list (``model.language_model.layers``);
    ``others`` are the modules and parameters outside it that a device map must cover,
    as full dotted names (``model.vision_tower``, ``lm_head``).
    """

    layers_prefix: str
    num_layers: int
    others: tuple[str, ...]
    tied_embeddings: bool = False


def split_layers(num_layers: int, num_devices: int) -> list[int]:
    """The device position of each layer: contiguous, as even as possible, first runs longer."""
    if num_devices < 1:
        raise ValueError("need at least one device")
    base, extra = divmod(num_layers, num_devices)
    out: list[int] = []
    for position in range(num_devices):
        out.extend([position] * (base + (1 if position < extra else 0)))
    return out


def balanced_device_map(layout: ModelLayout, devices: Sequence[Device]) -> dict[str, Device]:
    if not devices:
        raise ValueError("need at least one device")
    first, last = devices[0], devices[-1]
    if layout.num_layers:
        last = devices[split_layers(layout.num_layers, len(devices))[-1]]
    out: dict[str, Device] = {}
    for name in layout.others:
        leaf = name.rsplit(".", 1)[-1]
        goes_last = leaf in _LAST and not (layout.tied_embeddings and leaf in ("lm_head", "output"))
        out[name] = last if goes_last else first
    for index, position in enumerate(split_layers(layout.num_layers, len(devices))):
        out[f"{layout.layers_prefix}.{index}"] = devices[position]
    return out
