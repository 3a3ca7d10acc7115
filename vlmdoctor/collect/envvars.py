"""Environment variables through an allow-list; secrets never stored.

Reports are pasted into public bug trackers. Only names in the allow-list are
kept; any of those whose name contains TOKEN, SECRET, KEY, PASSWORD or
CREDENTIAL is dropped and only its name is listed in ``redactions``.
"""

from __future__ import annotations

import re
from typing import Mapping

from vlmdoctor.collect.host import home_relative

PREFIXES = (
    "CUDA_", "NCCL_", "TORCH_", "PYTORCH_", "HF_", "HUGGINGFACE_", "HUGGING_FACE_", "TRANSFORMERS_",
    "ACCELERATE_", "NVIDIA_", "CUDNN_", "CUBLAS_", "FLASH_ATTENTION_", "XFORMERS_",
    "VLLM_", "DEEPSPEED_", "BNB_", "SLURM_", "PMI_", "OMPI_", "MASTER_", "GLOO_",
)
NAMES = frozenset({
    "MAX_PIXELS", "MIN_PIXELS", "VIDEO_MAX_PIXELS", "VIDEO_MIN_PIXELS", "FPS_MAX_FRAMES",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM", "LD_LIBRARY_PATH",
    "LD_PRELOAD", "WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "NODE_RANK", "GROUP_RANK",
    "NNODES", "NPROC_PER_NODE", "CONDA_DEFAULT_ENV", "VIRTUAL_ENV", "PYTHONNOUSERSITE",
    "MAX_JOBS", "TCL_LIBRARY",
})
SECRET_MARKERS = ("TOKEN", "SECRET", "KEY", "PASSWORD", "CREDENTIAL")
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def is_allowed(name: str) -> bool:
    return name in NAMES or name.startswith(PREFIXES)


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def scrub_value(value: str) -> str:
    """Drop credentials embedded in URLs and show the home directory as ~."""
    value = _URL_USERINFO.sub(r"\g<scheme>***@", value)
    parts = value.split(":") if ":" in value and "://" not in value else [value]
    return ":".join(home_relative(p) or p for p in parts)


def select_env(environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    kept: dict[str, str] = {}
    redacted: list[str] = []
    for name in sorted(environ):
        if not is_allowed(name):
            continue
        if is_secret(name):
            redacted.append(f"env.{name}")
            continue
        kept[name] = scrub_value(environ[name])
    return kept, tuple(redacted)
