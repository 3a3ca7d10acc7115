"""Environment variables through an allow-list; secrets never stored.

Reports are pasted into public bug trackers. Only names in the allow-list are
kept; any of those with a secret-looking name (``vlmdoctor.redact.is_secret_name``:
TOKEN, SECRET, KEY, PASS, PWD, CRED, COOKIE, AUTH, PAT, ...) is dropped and only its
name is listed in ``redactions``. Kept values pass ``redact`` (URL credentials masked).
"""

from __future__ import annotations

from typing import Callable, Mapping

from vlmdoctor.collect.host import home_relative
from vlmdoctor.redact import Redactor, is_secret_name, mask_userinfo

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


def is_allowed(name: str) -> bool:
    return name in NAMES or name.startswith(PREFIXES)


def scrub_value(value: str, redact: Callable[[str], str] = mask_userinfo) -> str:
    """Mask secrets and URL credentials and show the home directory as ~."""
    value = redact(value)
    parts = value.split(":") if ":" in value and "://" not in value else [value]
    return ":".join(home_relative(p) or p for p in parts)


def select_env(environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    kept: dict[str, str] = {}
    redacted: list[str] = []
    redact = Redactor(environ)
    for name in sorted(environ):
        if not is_allowed(name):
            continue
        if is_secret_name(name):
            redacted.append(f"env.{name}")
            continue
        kept[name] = scrub_value(environ[name], redact)
    return kept, tuple(redacted)
