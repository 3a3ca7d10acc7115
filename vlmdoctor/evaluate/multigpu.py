"""Multi-GPU and launcher settings read from the environment: pure functions of the snapshot.

CUDA_VISIBLE_DEVICES follows the CUDA programming guide: a comma-separated list of device
indices or UUIDs; at the first index that names no device, CUDA stops, so only the
devices listed before it are visible.
"""

from __future__ import annotations

from typing import Mapping

from packaging.version import InvalidVersion, Version

from vlmdoctor.snapshot import Snapshot

NODE_RANK_VARS = ("NODE_RANK", "GROUP_RANK", "SLURM_NODEID")
LOCAL_WORLD_VARS = ("LOCAL_WORLD_SIZE", "NPROC_PER_NODE")
NCCL_DISTS = ("nvidia-nccl-cu13", "nvidia-nccl-cu12", "nvidia-nccl-cu11")


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def gpu_models(snapshot: Snapshot) -> list[str]:
    return list(dict.fromkeys(g.name or "unknown" for g in snapshot.gpus))


def node_rank(env: Mapping[str, str]) -> int | None:
    return next((r for r in (_int(env.get(n)) for n in NODE_RANK_VARS) if r is not None), None)


def _entries(spec: str) -> list[str]:
    return [e.strip() for e in spec.split(",")] if spec.strip() else []


def _names_no_gpu(entry: str, count: int) -> bool:
    index = _int(entry)
    if index is None:  # a UUID (GPU-…, MIG-…): not checkable from NVML's index list here
        return not entry.upper().startswith(("GPU-", "MIG-"))
    return index < 0 or index >= count


def visible_missing(spec: str, count: int) -> list[str]:
    """Entries of CUDA_VISIBLE_DEVICES that name no GPU on this host."""
    return [e for e in _entries(spec) if _names_no_gpu(e, count)]


def visible_count(spec: str | None, count: int) -> int:
    """How many GPUs CUDA exposes: those listed before the first invalid entry."""
    if spec is None:
        return count
    seen: list[str] = []
    for entry in _entries(spec):
        if _names_no_gpu(entry, count):
            break
        seen.append(entry)
    return len(seen)


def local_world_size(env: Mapping[str, str], multi_node: bool) -> int | None:
    for name in LOCAL_WORLD_VARS:
        value = _int(env.get(name))
        if value is not None:
            return value
    return None if multi_node else _int(env.get("WORLD_SIZE"))


def nccl_version(packages: Mapping[str, str]) -> str | None:
    for name in NCCL_DISTS:
        if name in packages:
            try:
                return str(Version(packages[name]))
            except InvalidVersion:
                return None
    return None


def _sm(cc: str | None) -> str | None:
    return cc.replace(".", "") if cc else None


def nccl_file_problems(snapshot: Snapshot, visible: int) -> list[str]:
    """How each NCCL_TOPO_FILE / NCCL_GRAPH_FILE fails to describe this machine."""
    here = sorted({s for s in (_sm(g.compute_capability) for g in snapshot.gpus) if s})
    problems: list[str] = []
    for name, described in sorted(snapshot.nccl_files.items()):
        path = snapshot.env.get(name, "the file")
        if not described.exists:
            problems.append(f"{name}={path} does not exist here")
            continue
        if described.gpus is not None and snapshot.gpus and described.gpus != visible:
            problems.append(f"{name} describes {described.gpus} GPU(s); {visible} are visible here")
        other = [s for s in described.sms if s not in here]
        if here and other:
            problems.append(f"{name} describes sm_{', sm_'.join(described.sms)} GPUs; "
                            f"these are sm_{', sm_'.join(here)}")
    return problems
