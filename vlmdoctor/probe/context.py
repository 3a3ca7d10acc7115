"""State the child's ladder carries from step to step (stdlib only; runs in the child)."""

from __future__ import annotations

from typing import Any


class CheckFailed(Exception):
    """A probe check did not hold (wrong token count, non-finite logits, bad matmul)."""


class Context:
    """Inputs from the command line, and what each step learns for the next ones."""

    def __init__(self, *, device: str, dtype: str | None, family: str | None,
                 hf_model_type: str | None, weights: str | None, max_new_tokens: int,
                 device_map: dict[str, Any] | None, workdir: str,
                 trust_remote_code: bool, model_path: str | None = None) -> None:
        self.requested_device = device
        self.device = "cpu" if device == "cpu" else "cuda"
        self.device_reason = "CPU requested" if device == "cpu" else ""
        self.requested_dtype = dtype
        self.dtype = dtype or "fp32"
        self.family = family
        self.hf_model_type = hf_model_type
        self.weights = weights
        self.max_new_tokens = max_new_tokens
        self.device_map = device_map
        self.workdir = workdir
        self.trust_remote_code = trust_remote_code
        self.model_path = model_path
        self.torch: Any = None
        self.transformers: Any = None
        self.gpus: list[int] = []
        self.capabilities: dict[int, tuple[int, int]] = {}
        self.generated_tokens = 0
        self.tokens_per_second: float | None = None
        self.peak_memory: dict[int, int] = {}

    @property
    def devices(self) -> list[Any]:
        """Placement targets: GPU indices, or ``["cpu"]``."""
        return list(self.gpus) if self.device == "cuda" else ["cpu"]

    def torch_dtype(self) -> Any:
        t = self.torch
        return {"fp32": t.float32, "fp16": t.float16, "bf16": t.bfloat16}[self.dtype]

    def synchronize(self) -> None:
        if self.device == "cuda":
            for index in self.gpus:
                self.torch.cuda.synchronize(index)
