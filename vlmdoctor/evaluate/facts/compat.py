"""Derived compatibility facts (compat.*), computed by evaluate.derive."""

from __future__ import annotations

from typing import Any

from vlmdoctor.evaluate import derive
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact


def _known(ctx: Context, *sections: str) -> bool:
    return not any(ctx.section_unknown(s) for s in sections)


@fact("compat.driver_status", "str",
      "ok, minor-compat or too-old: can this driver run torch's CUDA runtime")
def _driver_status(ctx: Context, _: str) -> Any:
    if not _known(ctx, "driver", "torch"):
        return UNKNOWN
    return derive.driver_status(ctx.snapshot, ctx.tables)


@fact("compat.driver_required", "version", "The driver bundled with torch's CUDA release (full support)")
def _driver_required(ctx: Context, _: str) -> Any:
    runtime = derive.torch_cuda(ctx.snapshot)
    return ctx.tables.toolkit_driver_for(str(runtime)) if runtime else None


@fact("compat.driver_floor", "version", "Oldest driver for torch's CUDA major (minor-version compatibility)")
def _driver_floor(ctx: Context, _: str) -> Any:
    runtime = derive.torch_cuda(ctx.snapshot)
    return ctx.tables.minor_compat_floor.get(runtime.major) if runtime else None


@fact("compat.torch_fix", "str", "pip command for a torch build that runs on this driver and these GPUs")
def _torch_fix(ctx: Context, _: str) -> Any:
    if not _known(ctx, "driver", "gpus"):
        return UNKNOWN
    return derive.torch_fix(ctx.snapshot, ctx.tables)


@fact("compat.torch_archs", "list", "sm_ targets compiled into the installed torch build")
def _torch_archs(ctx: Context, _: str) -> Any:
    build = derive.current_arch_build(ctx.snapshot, ctx.tables)
    return build.sm_list() if build else None


def _gpus_vs_torch(ctx: Context, derived: Any) -> Any:
    """A GPU list derived from the GPUs and the torch build: unknown when either is."""
    if not _known(ctx, "gpus", "torch"):
        return UNKNOWN
    found = derived(ctx.snapshot, ctx.tables)
    return UNKNOWN if found is None else found


@fact("compat.gpus_unsupported_by_torch", "list", "GPUs whose architecture the torch build lacks")
def _unsupported(ctx: Context, _: str) -> Any:
    return _gpus_vs_torch(ctx, derive.gpus_unsupported)


@fact("compat.gpus_ptx_jit", "list", "GPUs that run the torch build only through PTX JIT")
def _ptx_jit(ctx: Context, _: str) -> Any:
    return _gpus_vs_torch(ctx, derive.gpus_needing_ptx_jit)


@fact("compat.nvcc_vs_torch", "str", "major, minor or same: system nvcc vs torch's CUDA")
def _nvcc(ctx: Context, _: str) -> Any:
    if not _known(ctx, "cuda_toolkit", "torch"):
        return UNKNOWN
    return derive.nvcc_vs_torch(ctx.snapshot)


@fact("compat.opencv_packages", "list", "Installed OpenCV wheels (all four share the cv2 namespace)")
def _opencv(ctx: Context, _: str) -> Any:
    if not _known(ctx, "packages"):
        return UNKNOWN
    return derive.opencv_installed(ctx.snapshot)


@fact("compat.nccl_socket_ifname_selected", "list",
      "Host interfaces that NCCL_SOCKET_IFNAME selects (prefix, ^exclude and =exact syntax)")
def _nccl_ifname(ctx: Context, _: str) -> Any:
    if not _known(ctx, "env", "network_interfaces") or ctx.snapshot.network_interfaces is None:
        return UNKNOWN
    spec = ctx.snapshot.env.get("NCCL_SOCKET_IFNAME")
    if spec is None:
        return None
    return derive.nccl_selected(spec, ctx.snapshot.network_interfaces)


@fact("compat.multi_node", "bool", "Whether the job spans several nodes (NNODES, SLURM_NNODES, ...)")
def _multi_node(ctx: Context, _: str) -> Any:
    if not _known(ctx, "env"):
        return UNKNOWN
    return derive.multi_node(ctx.snapshot.env)
