"""Facts about multi-GPU launch settings (CUDA_VISIBLE_DEVICES, world size, node rank,
GPU models, NCCL), computed by evaluate.multigpu."""

from __future__ import annotations

from typing import Any

from vlmdoctor.evaluate import derive, multigpu
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact


def _unknown(ctx: Context, *sections: str) -> bool:
    return any(ctx.section_unknown(s) for s in sections)


@fact("gpus.models", "list", "The distinct GPU models here, in NVML order")
def _models(ctx: Context, _: str) -> Any:
    return UNKNOWN if _unknown(ctx, "gpus") else multigpu.gpu_models(ctx.snapshot)


@fact("compat.node_rank", "number", "This node's rank in the job (NODE_RANK, GROUP_RANK, SLURM_NODEID)")
def _node_rank(ctx: Context, _: str) -> Any:
    return UNKNOWN if _unknown(ctx, "env") else multigpu.node_rank(ctx.snapshot.env)


@fact("compat.visible_devices_missing", "list",
      "CUDA_VISIBLE_DEVICES entries that name no GPU on this host")
def _missing(ctx: Context, _: str) -> Any:
    if _unknown(ctx, "env", "gpus"):
        return UNKNOWN
    spec = ctx.snapshot.env.get("CUDA_VISIBLE_DEVICES")
    return None if spec is None else multigpu.visible_missing(spec, len(ctx.snapshot.gpus))


@fact("compat.visible_gpu_count", "number", "GPUs CUDA exposes under CUDA_VISIBLE_DEVICES")
def _visible(ctx: Context, _: str) -> Any:
    if _unknown(ctx, "env", "gpus"):
        return UNKNOWN
    return multigpu.visible_count(ctx.snapshot.env.get("CUDA_VISIBLE_DEVICES"),
                                  len(ctx.snapshot.gpus))


@fact("compat.local_world_size", "number",
      "Processes requested per node (LOCAL_WORLD_SIZE, NPROC_PER_NODE; WORLD_SIZE on one node)")
def _local_world(ctx: Context, _: str) -> Any:
    if _unknown(ctx, "env"):
        return UNKNOWN
    env = ctx.snapshot.env
    return multigpu.local_world_size(env, derive.multi_node(env))


@fact("compat.nccl_version", "version", "NCCL from the nvidia-nccl-cu* wheel torch uses")
def _nccl(ctx: Context, _: str) -> Any:
    return UNKNOWN if _unknown(ctx, "packages") else multigpu.nccl_version(ctx.snapshot.packages)


@fact("compat.nccl_file_problems", "list",
      "How NCCL_TOPO_FILE / NCCL_GRAPH_FILE fail to describe this machine (missing, GPU count, sm)")
def _nccl_files(ctx: Context, _: str) -> Any:
    if _unknown(ctx, "nccl_files", "gpus", "env"):
        return UNKNOWN
    visible = multigpu.visible_count(ctx.snapshot.env.get("CUDA_VISIBLE_DEVICES"),
                                     len(ctx.snapshot.gpus))
    return multigpu.nccl_file_problems(ctx.snapshot, visible)
