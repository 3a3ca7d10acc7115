"""GPUs to plan for: from the inventory, a report, or a spec such as ``4xA100-80GB``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vlmdoctor.errors import InputError
from vlmdoctor.plan.constants import GIB, MIB
from vlmdoctor.snapshot import Gpu, Snapshot


def cc_tuple(value: str | None) -> tuple[int, int] | None:
    """"8.9" -> (8, 9); None when absent or not a compute capability."""
    if not value:
        return None
    try:
        major, _, minor = value.partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        return None


@dataclass(frozen=True)
class GpuSpec:
    index: int
    name: str
    memory_total_bytes: int
    memory_free_bytes: int | None = None
    compute_capability: str | None = None

    @property
    def capacity_bytes(self) -> int:
        """What the plan may use: free memory when known, else the total."""
        return self.memory_total_bytes if self.memory_free_bytes is None else self.memory_free_bytes

    @property
    def cc(self) -> tuple[int, int] | None:
        return cc_tuple(self.compute_capability)

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "name": self.name,
                "memory_total_bytes": self.memory_total_bytes,
                "memory_free_bytes": self.memory_free_bytes,
                "compute_capability": self.compute_capability}


# More than any GPU sold (the largest today has under 300 GiB): a larger value is a bad report.
MAX_GPU_MIB = 1 << 24

# Nominal memory (GiB) from NVIDIA's product datasheets; compute capability from
# https://developer.nvidia.com/cuda-gpus (facts B.1). NVML may report a little
# less than nominal (H100 80GB shows 81559 MiB), so live inventories win over this.
GPU_TABLE: dict[str, tuple[int, str]] = {
    "K80": (12, "3.7"), "P100-16GB": (16, "6.0"), "P100-12GB": (12, "6.0"),
    "V100-16GB": (16, "7.0"), "V100-32GB": (32, "7.0"), "T4": (16, "7.5"),
    "A100-40GB": (40, "8.0"), "A100-80GB": (80, "8.0"), "A30": (24, "8.0"),
    "A10": (24, "8.6"), "A10G": (24, "8.6"), "A40": (48, "8.6"),
    "RTX3090": (24, "8.6"), "A6000": (48, "8.6"),
    "L4": (24, "8.9"), "L40": (48, "8.9"), "L40S": (48, "8.9"), "RTX4090": (24, "8.9"),
    "H100": (80, "9.0"), "H100-NVL": (94, "9.0"), "H200": (141, "9.0"),
    "B200": (180, "10.0"), "RTX5090": (32, "12.0"),
}
# Names that mean one table entry.
ALIASES = {"H100-80GB": "H100", "H200-141GB": "H200", "T4-16GB": "T4", "L4-24GB": "L4",
           "A10-24GB": "A10", "A40-48GB": "A40", "RTXA6000": "A6000",
           "3090": "RTX3090", "4090": "RTX4090", "5090": "RTX5090"}
# Names sold in several sizes: the user must say which.
AMBIGUOUS = {"A100": ("A100-40GB", "A100-80GB"), "V100": ("V100-16GB", "V100-32GB"),
             "P100": ("P100-12GB", "P100-16GB")}

_COUNT = re.compile(r"^(?:(\d+)\s*[xX*]\s*)?(.+)$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(GIB|GB|G|MIB|MB|TIB|TB)$")
# Binary units are what GPUs are sold in and what NVML reports; GB/MB/TB are decimal.
_UNITS = {"GIB": GIB, "G": GIB, "MIB": MIB, "TIB": 1 << 40,
          "GB": 10**9, "MB": 10**6, "TB": 10**12}


# Words in the names NVML prints ("NVIDIA A100-SXM4-80GB", "Tesla V100-PCIE-32GB",
# "NVIDIA H100 80GB HBM3") that name the vendor, brand or form factor, not the GPU.
_NOISE = frozenset({"NVIDIA", "TESLA", "GEFORCE", "SXM", "SXM2", "SXM3", "SXM4", "SXM5",
                    "PCIE", "HBM2", "HBM2E", "HBM3", "HBM3E"})


def _canon(name: str) -> str:
    words = [w for w in re.split(r"[\s_\-]+", name.upper()) if w and w not in _NOISE]
    squashed = "-".join(words).replace("RTX-", "RTX")
    return ALIASES.get(squashed, squashed)


def _lookup(token: str, spec: str) -> tuple[str, int, str | None]:
    size = _SIZE.match(token.upper())
    if size:
        value = float(size.group(1)) * _UNITS[size.group(2)]
        if value <= 0:
            raise InputError(f"--gpus {spec!r}: GPU size {token!r} must be more than zero")
        return token, int(value), None
    canon = _canon(token)
    if canon in GPU_TABLE:
        gib, cc = GPU_TABLE[canon]
        return canon, gib * GIB, cc
    if canon in AMBIGUOUS:
        choices = " or ".join(AMBIGUOUS[canon])
        raise InputError(f"--gpus {spec!r}: {token!r} comes in several sizes; write {choices}")
    known = [*GPU_TABLE, *AMBIGUOUS]
    import difflib  # only for a name that matched nothing

    close = difflib.get_close_matches(canon, known, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InputError(f"--gpus {spec!r}: unknown GPU {token!r}{hint}; "
                     "use a known name or a size such as 24GiB")


def parse_gpus(spec: str) -> tuple[GpuSpec, ...]:
    """Parse ``4xA100-80GB``, ``8xH100``, ``2x24GiB``, ``1xV100-32GB``, ``T4,T4``."""
    if not spec.strip():
        raise InputError("--gpus '': give GPUs such as 2xA100-80GB, T4,T4 or 2x24GiB")
    gpus: list[GpuSpec] = []
    for part in spec.split(","):
        item = part.strip()
        match = _COUNT.match(item)
        if not item or match is None:
            raise InputError(f"--gpus {spec!r}: empty item between commas")
        count = 1 if match.group(1) is None else int(match.group(1))
        if count < 1:
            raise InputError(f"--gpus {spec!r}: the GPU count in {item!r} must be at least 1")
        name, total, cc = _lookup(match.group(2).strip(), spec)
        for _ in range(count):
            gpus.append(GpuSpec(index=len(gpus), name=name, memory_total_bytes=total,
                                compute_capability=cc))
    if len(gpus) > 64:
        raise InputError(f"--gpus {spec!r}: {len(gpus)} GPUs is more than one node (64 at most)")
    return tuple(gpus)


def gpus_from_snapshot(snapshot: Snapshot) -> tuple[GpuSpec, ...]:
    """The snapshot's GPUs whose total memory is known; see ``unplannable``."""
    out: list[GpuSpec] = []
    for gpu in snapshot.gpus:
        if _memory_problem(gpu) is not None or gpu.memory_total_mib is None:
            continue
        free = gpu.memory_free_mib
        usable_free = None if free is None or not 0 <= free <= gpu.memory_total_mib else free * MIB
        out.append(GpuSpec(index=gpu.index, name=gpu.name or f"GPU {gpu.index}",
                           memory_total_bytes=gpu.memory_total_mib * MIB,
                           memory_free_bytes=usable_free,
                           compute_capability=gpu.compute_capability))
    return tuple(out)


def unplannable(snapshot: Snapshot) -> tuple[str, ...]:
    """One line per GPU the plan cannot use, saying why (memory unknown, zero, absurd)."""
    out = []
    for gpu in snapshot.gpus:
        problem = _memory_problem(gpu)
        if problem is not None:
            out.append(f"cannot plan on GPU {gpu.index} ({gpu.name or 'unknown GPU'}): {problem}")
    return tuple(out)


def _memory_problem(gpu: Gpu) -> str | None:
    total = gpu.memory_total_mib
    if total is None:
        return "its memory size is unknown (NVML did not report it)"
    if total <= 0 or total > MAX_GPU_MIB:
        return f"its reported memory size ({total} MiB) is not plausible"
    return None


def no_gpu_note(excluded: tuple[str, ...]) -> str:
    """What to say when there is nothing to plan on."""
    found = "no GPU with a known memory size was found" if excluded else "no GPU was found"
    return (f"{found}; pass --gpus to plan for GPUs you name, e.g. --gpus 1xA100-80GB, "
            "--gpus 2xL40S or --gpus 2x24GiB")
