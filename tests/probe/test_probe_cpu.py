"""The probe for real: torch + transformers on CPU (and on a GPU where there is one)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from vlmdoctor.probe import ProbeRequest, probe_findings, run_probe

from .helpers import HAS_TORCH, needs_torch

pytestmark = needs_torch


def _cuda() -> bool:
    if not HAS_TORCH:
        return False
    import torch

    return bool(torch.cuda.is_available())


def _tiny_weight_bytes(model_type: str) -> int:
    """Bytes of the unique tensors of the tiny model the probe builds (two layers on CPU)."""
    import transformers

    from vlmdoctor.probe import tiny

    config, model_class, _ = tiny.BUILDERS[model_type](transformers, 2)
    seen: dict[int, int] = {}
    for tensor in model_class(config).state_dict().values():
        seen[tensor.data_ptr()] = tensor.numel() * tensor.element_size()
    return sum(seen.values())


def test_probe_passes_on_cpu_for_real() -> None:
    started = time.monotonic()
    result = run_probe(ProbeRequest(family="qwen2-vl", device="cpu", timeout=120))
    wall = time.monotonic() - started
    assert result.status == "passed", result.to_dict()
    assert (result.device, result.error, result.generated_tokens) == ("cpu", None, 8)
    assert [(s.name, s.status) for s in result.steps] == [
        ("import", "passed"), ("cuda-init", "skipped"), ("matmul", "passed"),
        ("attention", "passed"), ("p2p", "skipped"), ("tiny-vlm", "passed")]
    assert re.fullmatch(
        r"qwen2_vl architecture \(Qwen2VLForConditionalGeneration, \d+\.\d MB safetensors, fp32, "
        r"7 modules over cpu\); loaded in \d+\.\d\d s; generated 8/8 tokens in \d+\.\d\d s, "
        r"logits finite", result.steps[-1].detail)
    # The size shown is the saved weights': the same tiny model's unique fp32 tensors, plus a
    # safetensors header of a few KB, within the one-decimal rounding of the MB shown.
    shown = float(re.search(r"(\d+\.\d) MB safetensors", result.steps[-1].detail).group(1))  # type: ignore[union-attr]
    assert abs(shown * 1e6 - _tiny_weight_bytes("qwen2_vl")) <= 0.05e6 + 32 * 1024
    assert result.tokens_per_second is not None and result.tokens_per_second > 0
    assert result.peak_memory_bytes == {}
    assert probe_findings(result) == ()  # CPU was asked for: not worth an info finding
    assert sum(s.seconds for s in result.steps) < wall < 60


def test_auto_without_a_gpu_runs_on_cpu_and_says_so() -> None:
    if _cuda():
        pytest.skip("a GPU is present")
    result = run_probe(ProbeRequest(max_new_tokens=3, timeout=120))
    assert (result.status, result.device, result.generated_tokens) == ("passed", "cpu", 3)
    assert result.steps[1].detail.endswith("running the ladder on CPU")
    assert result.steps[-1].detail.startswith(
        "LLaVA-style stand-in for no model given (transformers ships no such architecture) "
        "(LlavaForConditionalGeneration, ")
    findings = probe_findings(result)
    assert [f.id for f in findings] == ["probe-cpu-only"]
    assert findings[0].severity == "info"


def test_cuda_requested_without_a_gpu_is_a_no_cuda_finding() -> None:
    if _cuda():
        pytest.skip("a GPU is present")
    result = run_probe(ProbeRequest(device="cuda", timeout=120))
    assert result.status == "failed"
    assert [(s.name, s.status) for s in result.steps][-1] == ("cuda-init", "failed")
    assert [f.id for f in probe_findings(result)] in (["probe-no-cuda"], ["probe-driver-too-old"])


def test_real_weights_from_a_local_directory(tmp_path: Path) -> None:
    import torch
    import transformers

    from vlmdoctor.probe import tiny

    config, model_class, _ = tiny.llava(transformers, 2)
    torch.manual_seed(0)
    model_class(config).save_pretrained(tmp_path)
    result = run_probe(ProbeRequest(weights=str(tmp_path), device="cpu", timeout=120))
    assert result.status == "passed", result.to_dict()
    assert result.steps[-1].name == "weights"
    assert result.generated_tokens == 8
    assert result.steps[-1].detail.startswith(f"LlavaForConditionalGeneration from {tmp_path} (fp32,")


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="no CUDA GPU")
def test_probe_on_gpu_is_fast_and_reports_memory() -> None:
    started = time.monotonic()
    result = run_probe(ProbeRequest(family="llava", device="cuda", timeout=120))
    assert time.monotonic() - started < 15
    assert (result.status, result.device, result.generated_tokens) == ("passed", "cuda", 8)
    assert result.peak_memory_bytes and all(v > 0 for v in result.peak_memory_bytes.values())
    assert probe_findings(result) == ()


def _context(**kw: Any) -> Any:
    from vlmdoctor.probe.context import Context

    base: dict[str, Any] = dict(device="cpu", dtype=None, family=None, hf_model_type=None,
                                weights=None, max_new_tokens=4, device_map=None, workdir=".",
                                trust_remote_code=False)
    return Context(**{**base, **kw})


@pytest.mark.parametrize("model_type", ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl",
                                        "idefics3", "internvl"])
def test_every_tiny_architecture_generates_in_process(model_type: str, tmp_path: Path) -> None:
    from vlmdoctor.probe import generate, ladder

    ctx = _context(hf_model_type=model_type, workdir=str(tmp_path))
    ladder.import_libraries(ctx)
    detail = generate.tiny_vlm(ctx)
    assert detail.startswith(f"{model_type} architecture (")
    assert "generated 4/4 tokens" in detail and ctx.generated_tokens == 4


@pytest.mark.parametrize("dtype", ["bf16", "fp32"])
def test_matmul_and_attention_rungs_in_process(dtype: str) -> None:
    from vlmdoctor.probe import ladder

    ctx = _context(dtype=dtype)
    ladder.import_libraries(ctx)
    assert ladder.matmul(ctx) == f"256x256 {dtype} matmul correct on cpu"
    assert ladder.attention(ctx).startswith(f"SDPA ({dtype}) ok on cpu; ")
    with pytest.raises(ladder.Skip, match=r"^needs 2\+ GPUs \(running on CPU\)$"):
        ladder.peer_copy(ctx)


def test_explicit_device_map_from_the_planner_is_used(tmp_path: Path) -> None:
    from vlmdoctor.probe import generate, ladder

    planned = {"model.vision_tower": "cpu", "model.multi_modal_projector": "cpu",
               "model.language_model": "cpu", "lm_head": "cpu"}
    ctx = _context(family="llava", device_map=planned, workdir=str(tmp_path))
    ladder.import_libraries(ctx)
    assert "4 modules over cpu" in generate.tiny_vlm(ctx)
