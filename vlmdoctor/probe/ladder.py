"""The probe's ladder, one function per rung (runs in the child; torch imported here only).

Each rung returns a one-line detail or raises: the first raise
stops the ladder. A rung that does not apply raises ``Skip`` with the reason.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

from vlmdoctor.probe.context import CheckFailed, Context
from vlmdoctor.probe.protocol import NO_GPU


class Skip(Exception):
    """The rung does not apply here (no GPU, one GPU); the message says why."""


def _version(module: Any) -> str:
    return str(getattr(module, "__version__", "?"))


def import_libraries(ctx: Context) -> str:
    ctx.torch = importlib.import_module("torch")
    ctx.transformers = importlib.import_module("transformers")
    try:
        ctx.transformers.logging.set_verbosity_error()
        ctx.transformers.logging.disable_progress_bar()
    except AttributeError:
        pass
    accel = "not installed"
    if importlib.util.find_spec("accelerate") is not None:
        accel = _version(importlib.import_module("accelerate"))
    t = ctx.torch
    return (f"torch {_version(t)} (CUDA {t.version.cuda or 'none: CPU-only build'}), "
            f"transformers {_version(ctx.transformers)}, accelerate {accel}")


def cuda_init(ctx: Context) -> str:
    torch = ctx.torch
    if ctx.requested_device == "cpu":
        raise Skip("CPU requested")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        why = ("this torch is a CPU-only build" if torch.version.cuda is None else
               f"torch (CUDA {torch.version.cuda}) sees no usable GPU"
               + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""))
        if ctx.requested_device == "cuda":
            raise RuntimeError(f"CUDA is not available: {why}")
        ctx.device, ctx.device_reason = "cpu", f"{NO_GPU}: {why}"
        raise Skip(f"{ctx.device_reason}; running the ladder on CPU")
    ctx.device = "cuda"
    ctx.gpus = list(range(torch.cuda.device_count()))
    parts = []
    for index in ctx.gpus:
        torch.empty(1, device=f"cuda:{index}")  # creates the context on that GPU
        torch.cuda.synchronize(index)
        major, minor = torch.cuda.get_device_capability(index)
        ctx.capabilities[index] = (major, minor)
        props = torch.cuda.get_device_properties(index)
        parts.append(f"cuda:{index} {props.name} sm_{major}{minor} "
                     f"{props.total_memory / 2**30:.0f} GiB")
    if ctx.requested_dtype is None:
        ctx.dtype = "bf16" if all(c >= (8, 0) for c in ctx.capabilities.values()) else "fp16"
    arch = " ".join(torch.cuda.get_arch_list())
    seen = f"; CUDA_VISIBLE_DEVICES={visible}" if visible is not None else ""
    return f"{'; '.join(parts)}{seen}; torch built for {arch or 'no archs'}"


def _targets(ctx: Context) -> list[str]:
    return [f"cuda:{i}" for i in ctx.gpus] if ctx.device == "cuda" else ["cpu"]


def matmul(ctx: Context) -> str:
    torch = ctx.torch
    if ctx.dtype == "bf16":
        old = {i: c for i, c in ctx.capabilities.items() if c < (8, 0)}
        if old:
            i, (major, minor) = next(iter(old.items()))
            raise RuntimeError(f"dtype bf16 is not supported natively on cuda:{i} "
                               f"(sm_{major}{minor}); bf16 needs compute capability 8.0+")
    dtype = ctx.torch_dtype()
    for target in _targets(ctx):
        gen = torch.Generator(device="cpu").manual_seed(0)
        a, b = (torch.randn(256, 256, generator=gen) / 16 for _ in range(2))
        got = (a.to(target, dtype) @ b.to(target, dtype)).float().cpu()
        ctx.synchronize()
        want = a @ b
        err = float((got - want).abs().max() / want.abs().max())
        if not bool(torch.isfinite(got).all()) or err > 0.05:
            raise CheckFailed(f"{ctx.dtype} matmul on {target} is wrong (max rel err {err:.3g})")
    return f"256x256 {ctx.dtype} matmul correct on {', '.join(_targets(ctx))}"


def attention(ctx: Context) -> str:
    torch = ctx.torch
    dtype = ctx.torch_dtype()
    for target in _targets(ctx):
        q = torch.linspace(-1, 1, 4 * 64 * 32).reshape(1, 4, 64, 32).to(target, dtype)
        out = torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
        ctx.synchronize()
        if not bool(torch.isfinite(out.float()).all()):
            raise CheckFailed(f"SDPA on {target} produced non-finite values")
    done = f"SDPA ({ctx.dtype}) ok on {', '.join(_targets(ctx))}"
    if importlib.util.find_spec("flash_attn") is None:
        return f"{done}; flash-attn not installed"
    flash = importlib.import_module("flash_attn")
    name = f"flash-attn {_version(flash)}"
    if ctx.device != "cuda":
        return f"{done}; {name} imports (not run: no GPU)"
    ready = [i for i in ctx.gpus if ctx.capabilities[i] >= (8, 0)]
    for index in ready:
        q = torch.randn(1, 64, 4, 32, device=f"cuda:{index}", dtype=torch.float16)
        flash.flash_attn_func(q, q, q, causal=True)
        torch.cuda.synchronize(index)
    skipped = sorted(set(ctx.gpus) - set(ready))
    note = f" (not on cuda:{skipped}: flash-attn 2 needs sm_80+)" if skipped else ""
    return f"{done}; {name} ok on {len(ready)} GPU(s){note}"


def peer_copy(ctx: Context) -> str:
    torch = ctx.torch
    if ctx.device != "cuda" or len(ctx.gpus) < 2:
        raise Skip("needs 2+ GPUs" + ("" if ctx.device == "cuda" else " (running on CPU)"))
    parts = []
    for src in ctx.gpus:
        for dst in ctx.gpus:
            if src == dst:
                continue
            peer = torch.cuda.can_device_access_peer(src, dst)
            data = torch.arange(1 << 20, device=f"cuda:{src}", dtype=torch.float32)
            copied = data.to(f"cuda:{dst}")
            torch.cuda.synchronize(dst)
            if not bool((copied.cpu() == data.cpu()).all()):
                raise CheckFailed(f"copy cuda:{src} -> cuda:{dst} corrupted the data")
            parts.append(f"{src}->{dst} {'p2p' if peer else 'via host'}")
    return f"copies ok: {', '.join(parts)}"
