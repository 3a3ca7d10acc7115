"""The plan: per-GPU memory, the device map, whether it fits, and what would."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vlmdoctor.plan.gpus import GpuSpec
from vlmdoctor.plan.memory import Workload


@dataclass(frozen=True)
class GpuUsage:
    index: int
    weights_bytes: int
    kv_bytes: int
    activation_bytes: int
    overhead_bytes: int  # CUDA context + allocator margin
    capacity_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.activation_bytes + self.overhead_bytes

    @property
    def headroom(self) -> float:
        """Fraction of capacity left free (negative when over)."""
        if self.capacity_bytes <= 0:
            return -1.0
        return (self.capacity_bytes - self.total_bytes) / self.capacity_bytes

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "weights_bytes": self.weights_bytes,
                "kv_bytes": self.kv_bytes, "activation_bytes": self.activation_bytes,
                "overhead_bytes": self.overhead_bytes, "total_bytes": self.total_bytes,
                "capacity_bytes": self.capacity_bytes}


@dataclass(frozen=True)
class Option:
    """One change that would make the model fit. ``supported`` is None when unknown."""

    kind: str  # more-gpus | larger-gpus | dtype | max-pixels | context | batch | smaller-variant
    value: Any
    required_bytes: int
    supported: bool | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "required_bytes": self.required_bytes,
                "supported": self.supported, "summary": self.summary}


@dataclass(frozen=True)
class Budget:
    """One dimension of the frontier: ``largest`` fitting value, None when none fits."""

    kind: str  # max-pixels | context
    requested: int
    largest: int | None
    smallest: int
    detail: str  # e.g. "1,310,720 pixels = 1,280 visual tokens per image"
    flags: tuple[str, ...]  # how to set it, per tool

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "requested": self.requested, "largest": self.largest,
                "smallest": self.smallest, "detail": self.detail, "flags": list(self.flags)}


@dataclass(frozen=True)
class Plan:
    model: str
    model_name: str
    dtype: str
    gpus: tuple[GpuSpec, ...]
    device_map: Mapping[str, int | str]
    per_gpu: tuple[GpuUsage, ...]
    required_bytes: int
    fits: bool
    sized: bool  # False when the card lacks the numbers to size the model at all
    notes: tuple[str, ...]
    unknown: tuple[str, ...]
    workload: Workload | None
    params: int | None  # the parameter count the plan uses
    options: tuple[Option, ...] = field(default_factory=tuple)
    frontier: tuple[Budget, ...] = field(default_factory=tuple)
    checkpoint: str | None = None  # a pre-quantised checkpoint planned as stored: its packing

    @property
    def precision(self) -> str:
        """What the weights are, for people: the dtype, or the checkpoint's own packing."""
        return f"{self.checkpoint} as stored" if self.checkpoint else self.dtype

    @property
    def kv_sized(self) -> bool:
        """False when the KV cache could not be sized (counted as nothing, so not "fits")."""
        return not any(item.startswith("KV cache") for item in self.unknown)

    @property
    def runnable(self) -> bool:
        """Fits as asked, or at some smaller budget of the frontier."""
        return self.fits or any(b.largest is not None for b in self.frontier)

    @property
    def min_headroom(self) -> float | None:
        return min((u.headroom for u in self.per_gpu), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dtype": self.dtype,
            "gpus": [g.to_dict() for g in self.gpus],
            "device_map": dict(self.device_map),
            "per_gpu": [u.to_dict() for u in self.per_gpu],
            "required_bytes": self.required_bytes,
            "fits": self.fits,
            "sized": self.sized,  # false: no parameter count, so "fits" means nothing
            "notes": list(self.notes),
            "options": [o.to_dict() for o in self.options],
            "frontier": [b.to_dict() for b in self.frontier],
            "not_sized": [] if self.kv_sized else ["kv_cache"],
            # only for a pre-quantised checkpoint planned as stored: its packing
            **({"checkpoint": self.checkpoint} if self.checkpoint else {}),
        }
