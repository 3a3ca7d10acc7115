"""`explain` on kernel, dtype, quantisation and multimodal-budget errors (branch inc-kern rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import environment


def _explain(tmp_path: Path, text: str, base: str) -> tuple[int, dict[str, dict[str, Any]]]:
    env = tmp_path / "env.json"
    env.write_text(json.dumps(environment(base)))
    code, out, err = run("explain", "--format", "json", "--from-report", str(env), "--", text)
    assert code in (0, 1), err
    return code, {f["id"]: f for f in json.loads(out)["findings"] if f["id"].startswith("symptom-")}


CASES = [
    ("RuntimeError: FlashAttention only support fp16 and bf16 data type", "a100-cu124",
     "symptom-flash-attn-dtype",
     "FlashAttention got float32 tensors: it runs in fp16 or bf16 only",
     "# training: --bf16 True (Trainer) so activations reach flash-attn in bf16"),
    ("RuntimeError: FlashAttention backward for head dim > 192 requires A100/A800 or H100/H800",
     "a100-cu124", "symptom-flash-attn-bwd-head-dim",
     "FlashAttention's backward pass for this head dimension needs an A100/H100-class GPU",
     "pip install -U flash-attn --no-build-isolation   # flash-attn >= 2.5.5: head dim up to 256 "
     "backward on sm86/sm89 without dropout"),
    ("RuntimeError: No available kernel.  Aborting execution.", "t4-cu121", "symptom-sdpa-no-kernel",
     "scaled_dot_product_attention was limited to backends that cannot run these inputs",
     "# or the project's own switch, e.g. flash=False / use_flash_attn=False"),
    ("ValueError: Attempting to unscale FP16 gradients.", "t4-cu121", "symptom-fp16-unscale-gradients",
     "fp16 mixed precision found float16 trainable weights: they must be float32",
     "# on compute capability >= 8.0: --bf16 True instead of --fp16"),
    ("RuntimeError: Input type (torch.cuda.FloatTensor) and weight type (CUDABFloat16Type) should be "
     "the same", "a100-cu124", "symptom-input-weight-dtype-mismatch",
     "A layer got inputs in another dtype than its weights (float32 pixel_values into a bf16/fp16 "
     "model)",
     "# inputs = processor(images=..., text=..., return_tensors='pt').to(model.device, "
     "dtype=model.dtype)   # casts only floating tensors such as pixel_values"),
    ("ValueError: Chunked MM input disabled but max_tokens_per_mm_item (2496) is larger than "
     "max_num_batched_tokens (2048). Please increase max_num_batched_tokens.", "a100-cu124",
     "symptom-mm-tokens-exceed-batch",
     "One image's tokens do not fit in vLLM's per-step token budget (max_num_batched_tokens)",
     "vllm serve MODEL --max-num-batched-tokens 8192   # above the token count of the largest "
     "image or video"),
    ("ValueError: Found modules on cpu/disk. Using Exllama or Exllamav2 backend requires all the "
     "modules to be on GPU.You can deactivate exllama backend by setting `disable_exllama=True` in "
     "the quantization config object", "a100-cu124", "symptom-exllama-modules-off-gpu",
     "A GPTQ model with the Exllama kernels was placed partly on the CPU or disk",
     "# or: from_pretrained(MODEL, device_map=..., quantization_config=GPTQConfig(bits=4, "
     "use_exllama=False))   # disable_exllama=True before transformers 4.35"),
    ("ValueError: FP8 quantized models is only supported on GPUs with compute capability >= 9.0 "
     "(e.g H100)", "a100-cu124", "symptom-quant-gpu-capability",
     "The quantisation kernels need a newer GPU than this one",
     "# pick a checkpoint whose scheme runs on compute capability 8.0: GPTQ (vLLM: >= 6.0) or the "
     "unquantised fp16 weights"),
    ("ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere GPU with "
     "cuda>=11.0", "t4-cu121", "symptom-bf16-compute-capability",
     "bfloat16 was requested on a GPU below compute capability 8.0",
     "# Trainer / TrainingArguments: --bf16 False --fp16 True --tf32 False"),
]


@pytest.mark.parametrize(("text", "base", "rule", "title", "fix"), CASES, ids=[c[2] for c in CASES])
def test_the_error_gets_its_diagnosis(tmp_path: Path, text: str, base: str, rule: str, title: str,
                                      fix: str) -> None:
    code, found = _explain(tmp_path, text, base)
    assert code == 0  # explain exits 0 when it recognises the cause
    assert list(found) == [rule]
    assert found[rule]["severity"] == "error"
    assert found[rule]["title"] == title
    assert fix in found[rule]["fix"]


def test_the_flash_attn_dtype_error_is_not_called_a_gpu_problem(tmp_path: Path) -> None:
    """flash-attn's dtype error once matched the Ampere row and told A100 users to buy a GPU."""
    _, found = _explain(tmp_path, "RuntimeError: FlashAttention only support fp16 and bf16 data type",
                        "a100-cu124")
    assert "symptom-flash-attn-ampere" not in found
    _, found = _explain(tmp_path, "RuntimeError: FlashAttention only supports Ampere GPUs or newer.",
                        "t4-cu121")
    assert list(found) == ["symptom-flash-attn-ampere"]


def test_the_messages_name_this_machine(tmp_path: Path) -> None:
    _, found = _explain(tmp_path, "RuntimeError: No available kernel.  Aborting execution.", "t4-cu121")
    assert "(below sm_80: GPU 0: Tesla T4 (sm_75))" in found["symptom-sdpa-no-kernel"]["message"]
    _, found = _explain(tmp_path, "ValueError: FP8 quantized models is only supported on GPUs with "
                        "compute capability >= 9.0 (e.g H100)", "a100-cu124")
    assert "(lowest compute capability 8.0)" in found["symptom-quant-gpu-capability"]["message"]
