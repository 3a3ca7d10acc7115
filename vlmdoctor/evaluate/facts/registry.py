"""The closed set of facts a rule may read. Unknown names are load-time errors.

A fact getter returns a value, ``None`` (known to be absent) or ``UNKNOWN``.
Names ending in ``.*`` take a suffix: ``packages.transformers``, ``env.MAX_PIXELS``.
"""

from __future__ import annotations

from typing import Any, Callable

from packaging.version import Version

from vlmdoctor.evaluate import derive, gpuhealth
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.knowledge.vocabulary import FACT_KINDS, KINDS
from vlmdoctor.record import record

__all__ = ["FACTS", "KINDS", "Fact", "fact", "lookup", "value_of"]


@record
class Fact:
    name: str
    kind: str
    doc: str
    get: Callable[[Context, str], Any]


FACTS: dict[str, Fact] = {}


def fact(name: str, kind: str, doc: str) -> Callable[[Callable[[Context, str], Any]], Any]:
    if FACT_KINDS.get(name) != kind:  # knowledge declares what rules may read
        raise ValueError(f"fact {name!r} ({kind}) is not declared in "
                         f"vlmdoctor/knowledge/vocabulary.py (found {FACT_KINDS.get(name)!r})")

    def register(fn: Callable[[Context, str], Any]) -> Callable[[Context, str], Any]:
        FACTS[name] = Fact(name, kind, doc, fn)
        return fn
    return register


def lookup(name: str) -> tuple[Fact, str] | None:
    if name in FACTS and not name.endswith(".*"):
        return FACTS[name], ""
    head, _, tail = name.rpartition(".")
    while head:
        pattern = FACTS.get(head + ".*")
        if pattern is not None and tail:
            return pattern, name[len(head) + 1:]
        head, _, _ = head.rpartition(".")
    return None


def value_of(ctx: Context, name: str) -> Any:
    found = lookup(name)
    if found is None:  # validated at load; defensive only
        raise KeyError(name)
    spec, arg = found
    return spec.get(ctx, arg)


def _section(ctx: Context, section: str, read: Callable[[], Any]) -> Any:
    return UNKNOWN if ctx.section_unknown(section) else read()


def _attr(section: str, attr: str, kind: str, doc: str) -> None:
    def get(ctx: Context, _: str) -> Any:
        obj = getattr(ctx.snapshot, section)
        return _section(ctx, section, lambda: getattr(obj, attr) if obj is not None else None)
    fact(f"{section}.{attr}", kind, doc)(get)


for _name, _kind, _doc in (
    ("os", "str", "Operating system (platform.system())"),
    ("os_release", "str", "Kernel release"),
    ("distro", "str", "Distribution PRETTY_NAME"),
    ("arch", "str", "CPU architecture"),
    ("libc", "str", "C library and version"),
):
    _attr("host", _name, _kind, _doc)
_attr("python", "version", "version", "Python version")
_attr("python", "implementation", "str", "Python implementation")
_attr("driver", "version", "version", "NVIDIA driver version (NVML)")
_attr("driver", "cuda", "version", "Highest CUDA version the driver supports (NVML)")
_attr("torch", "version", "version", "Installed torch version, with local build label")
_attr("torch", "cuda", "version", "CUDA runtime torch was built with (null for CPU builds)")
_attr("cuda_toolkit", "nvcc", "version", "System CUDA toolkit (nvcc) version")
_attr("cuda_toolkit", "cuda_home", "str", "CUDA_HOME as torch's cpp_extension would find it")


@fact("torch.build", "str", "cuda, rocm or cpu, from the installed build")
def _torch_build(ctx: Context, _: str) -> Any:
    def read() -> Any:
        torch = ctx.snapshot.torch
        if torch is None:
            return None
        if torch.cuda:
            return "cuda"
        return "rocm" if "rocm" in (torch.version or "") else "cpu"
    return _section(ctx, "torch", read)


@fact("gpus.count", "number", "Number of usable NVIDIA GPUs NVML reports")
def _gpu_count(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: len(ctx.snapshot.gpus))


@fact("gpus.unusable", "records",
      "GPUs NVML enumerates but that cannot be used (lost, NVML errors, memory faults)")
def _unusable(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: gpuhealth.unusable_gpus(ctx.snapshot))


@fact("gpus.reset_pending", "records",
      "Usable GPUs holding a fault until their next reset (a pending row remapping)")
def _reset_pending(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: gpuhealth.reset_pending(ctx.snapshot))


@fact("gpus.enumerated", "number", "Number of GPUs NVML enumerates, usable or not")
def _enumerated(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: len(ctx.snapshot.gpus) + len(
        gpuhealth.unusable_gpus(ctx.snapshot)))


@fact("gpus.names", "list", "GPU names")
def _gpu_names(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: [g.name or "unknown" for g in ctx.snapshot.gpus])


@fact("gpus.min_compute_capability", "version", "Lowest compute capability among the GPUs")
def _min_cc(ctx: Context, _: str) -> Any:
    def read() -> Any:
        ccs = [Version(g.compute_capability) for g in ctx.snapshot.gpus if g.compute_capability]
        return str(min(ccs)) if ccs else None
    return _section(ctx, "gpus", read)


@fact("gpus.below_sm70", "list", "GPUs below compute capability 7.0 (Pascal and older)")
def _below70(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: derive.gpus_below(ctx.snapshot, "7.0"))


@fact("gpus.below_sm80", "list", "GPUs below compute capability 8.0 (no native bf16, no FlashAttention-2)")
def _below80(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: derive.gpus_below(ctx.snapshot, "8.0"))


@fact("gpus.below_sm89", "list", "GPUs below compute capability 8.9 (no FP8 tensor cores)")
def _below89(ctx: Context, _: str) -> Any:
    return _section(ctx, "gpus", lambda: derive.gpus_below(ctx.snapshot, "8.9"))


@fact("packages.*", "version", "Installed version of a distribution (PEP 503 name)")
def _package(ctx: Context, name: str) -> Any:
    return _section(ctx, "packages", lambda: ctx.snapshot.packages.get(name))


@fact("env.*", "str", "An allow-listed environment variable")
def _env(ctx: Context, name: str) -> Any:
    return _section(ctx, "env", lambda: ctx.snapshot.env.get(name))


@fact("unavailable.*", "str", "Why a section could not be collected")
def _unavailable(ctx: Context, name: str) -> Any:
    return _section(ctx, "unavailable", lambda: ctx.snapshot.unavailable.get(name))


@fact("network_interfaces", "list", "Network interface names on this host")
def _interfaces(ctx: Context, _: str) -> Any:
    def read() -> Any:
        names = ctx.snapshot.network_interfaces
        return UNKNOWN if names is None else list(names)
    return _section(ctx, "network_interfaces", read)


@fact("explain.text", "text", "The error text given to `vlmdoctor explain`")
def _text(ctx: Context, _: str) -> Any:
    return ctx.text
