"""One-line descriptions of the environment, shared by the text and Markdown renderers."""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.snapshot import Snapshot

KEY_PACKAGES = ("torch", "torchvision", "transformers", "accelerate", "flash-attn",
                "bitsandbytes", "vllm", "xformers", "deepspeed", "timm", "opencv-python",
                "opencv-python-headless", "nvidia-ml-py")


def environment_lines(snap: Snapshot) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if snap.host is not None:
        host = " ".join(x for x in (snap.host.distro or snap.host.os, snap.host.arch) if x)
        rows.append(("host", host or "unknown"))
    if snap.python is not None:
        rows.append(("python", f"{snap.python.version} ({snap.python.executable})"))
    if "driver" not in snap.unknown:
        if snap.driver is None:
            rows.append(("driver", f"none ({snap.unavailable.get('driver', 'not found')})"))
        else:
            rows.append(("driver", f"{snap.driver.version} (supports CUDA {snap.driver.cuda})"))
    elif "driver" in snap.unavailable:
        rows.append(("driver", f"unknown ({snap.unavailable['driver']})"))
    for gpu in snap.gpus:
        mem = f", {gpu.memory_total_mib / 1024:.0f} GiB" if gpu.memory_total_mib else ""
        cc = f", sm_{gpu.compute_capability.replace('.', '')}" if gpu.compute_capability else ""
        pending = f" (reset pending: {gpu.reset_pending})" if gpu.reset_pending else ""
        rows.append((f"gpu {gpu.index}", f"{gpu.name}{mem}{cc}{pending}"))
    for gpu in snap.failed_gpus:
        rows.append((f"gpu {gpu.index}", f"UNUSABLE {gpu.name or 'unknown GPU'} ({gpu.error})"))
    if "torch" not in snap.unknown:
        if snap.torch is None:
            rows.append(("torch", "not installed"))
        else:
            rows.append(("torch", f"{snap.torch.version} (CUDA {snap.torch.cuda or 'none: CPU build'})"))
    if snap.cuda_toolkit is not None:
        rows.append(("nvcc", f"{snap.cuda_toolkit.nvcc or 'unknown'} ({snap.cuda_toolkit.cuda_home})"))
    for name in KEY_PACKAGES:
        if name != "torch" and name in snap.packages:
            rows.append((name, snap.packages[name]))
    for name, value in sorted(snap.env.items()):
        rows.append((f"${name}", value))
    for section, reason in sorted(snap.unavailable.items()):
        if section != "driver":
            rows.append((f"unavailable {section}", reason))
    return rows


def model_lines(target: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Where a model read from files came from, and what its files said (one row)."""
    source, facts = target.get("source"), target.get("model_facts")
    if not isinstance(source, Mapping) or source.get("kind") in (None, "catalogue"):
        return []
    where = f"{source.get('kind')} {source.get('path') or ''}".strip()
    if source.get("revision"):
        where += f" @ revision {str(source['revision'])[:12]}"
    bits: list[str] = []
    if isinstance(facts, Mapping):
        total = (facts.get("params") or {}).get("total")
        bits += [str(facts.get("model_type") or "model_type unknown")]
        if isinstance(total, int):
            bits.append(f"{total:,} params")
        if facts.get("dtype"):
            bits.append(str(facts["dtype"]))
        if facts.get("transformers_version"):
            bits.append(f"saved with transformers {facts['transformers_version']}")
    return [("model", where + (f" ({', '.join(bits)})" if bits else ""))]
