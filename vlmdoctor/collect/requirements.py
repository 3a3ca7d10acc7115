"""What installed distributions declare they need (``Requires-Dist``), read without pip.

Only the header block of each METADATA file is read (the long description after the
first blank line is skipped). What the snapshot keeps is the part ``pip check`` would
report on for the ML stack: every requirement *of* a stack distribution, and every
requirement *on* a stack distribution from any other one. Markers are kept as written;
evaluation decides them for the diagnosed interpreter, so ``--from-report`` can too.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Iterator, Mapping

from vlmdoctor.collect.packages import Distribution, normalize

# The ML stack and its neighbours: the distributions whose declared requirements matter
# to a VLM deployment (requirer or required). A scope for collection, not a rule.
STACK = frozenset({
    "torch", "torchvision", "torchaudio", "torchao", "triton", "transformers", "tokenizers",
    "accelerate", "peft", "trl", "vllm", "lmdeploy", "sglang", "xformers", "flash-attn",
    "flashinfer-python", "bitsandbytes", "deepspeed", "apex", "numpy", "numba", "protobuf",
    "timm", "qwen-vl-utils", "safetensors", "huggingface-hub", "sentencepiece", "pillow",
    "einops", "diffusers", "optimum", "auto-gptq", "autoawq", "ms-swift", "decord", "av",
    "open-clip-torch", "tiktoken", "scipy", "vlmeval", "mistral-common",
})
STACK_PREFIXES = ("opencv-", "nvidia-")
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# A marker that is only (or ends in a top-level "and" with) an extra test: false for pip
# check, which evaluates markers with extra="" (pip/_internal/operations/check.py).
# Anything kept that is false anyway is evaluated properly later; this only saves space.
_EXTRA_ONLY = re.compile(r"""(?:^|\s+and\s+)extra\s*==\s*["'][^"']*["']\s*$""")
# A Requires-Dist header line and its folded continuation lines (RFC 822 style).
_REQUIRES = re.compile(r"^requires-dist:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.MULTILINE)
_HEADER_BYTES = 65536  # Requires-Dist sits in the header block, far below this


def in_stack(name: str) -> bool:
    return name in STACK or name.startswith(STACK_PREFIXES)


def requirement_name(text: str) -> str | None:
    match = _NAME.match(text)
    return normalize(match.group(1)) if match else None


def stack_requirements(
    dists: Mapping[str, Distribution], keep: Callable[[str], bool] = in_stack,
) -> dict[str, tuple[str, ...]]:
    """Requirements of kept distributions, and requirements on kept ones from the rest."""
    out: dict[str, tuple[str, ...]] = {}
    for name, dist in sorted(dists.items()):
        declared = [r for r in read_requires(dist.path) if not _extra_only(r)]
        if not keep(name):
            declared = [r for r in declared if keep(requirement_name(r) or "")]
        if declared:
            out[name] = tuple(declared)
    return out


def _extra_only(requirement: str) -> bool:
    _, sep, marker = requirement.partition(";")
    match = _EXTRA_ONLY.search(marker.strip()) if sep else None
    if match is None:
        return False
    head = marker.strip()[: match.start()]
    return " or " not in head or (head.startswith("(") and head.endswith(")"))


def read_requires(path: str) -> Iterator[str]:
    if path.endswith(".egg-info"):
        yield from _egg_requires(path)
        return
    head = _header(os.path.join(path, "METADATA"))
    if head is None:
        return
    end = head.find(b"\n\n")
    text = (head if end < 0 else head[:end]).decode("utf-8", "replace").replace("\r\n", "\n")
    for match in _REQUIRES.finditer(text):  # one regex pass, not a loop over every line
        yield " ".join(part.strip() for part in match.group(1).split("\n"))


def _header(metadata: str) -> bytes | None:
    """The METADATA file up to its first blank line (at most ``_HEADER_BYTES``), read in
    small steps: the long description after it is often far larger than the header, and
    the gate reads this file for every installed distribution."""
    try:
        with open(metadata, "rb") as handle:
            head = handle.read(8192)
            while len(head) < _HEADER_BYTES and b"\n\n" not in head:
                more = handle.read(min(65536, _HEADER_BYTES - len(head)))
                if not more:
                    break
                head += more
    except OSError:
        return None
    return head


def _egg_requires(path: str) -> Iterator[str]:
    """requires.txt as pip reads it: ``[extra:marker]`` sections become markers."""
    try:
        with open(os.path.join(path, "requires.txt"), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return
    marker = ""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, condition = line[1:-1].partition(":")
            parts = [f"({condition})"] if condition else []
            if extra:
                parts.append(f'extra == "{extra}"')
            marker = " and ".join(parts)
            continue
        yield f"{line} ; {marker}" if marker else line
