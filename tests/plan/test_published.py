"""The plan against published measurements.

Source: QwenLM/Qwen2-VL README.md, "Speed Benchmark" (A100 80GB, batch 1, flash-attn 2.6.1,
generating 2048 tokens after prompts of 1 / 6144 / 14336 / 30720 tokens, "GPU Memory(GB)").
The README does not say how memory was read; the slopes (about 0.91 MiB per prompt token for
both 2B and 7B, i.e. 6 bytes x the 152k vocabulary) match GiB, so the figures are read as GiB.
The plan's total (weights + KV + activations + CUDA context + allocator margin) is compared.
"""

from __future__ import annotations

import pytest

GIB = 2**30

ROWS = [
    # model, GPUs, prompt tokens, measured GiB, plan GiB (2 decimals)
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 1, 16.07, 16.69),
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 6144, 21.56, 22.56),
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 14336, 29.07, 30.38),
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 30720, 44.08, 46.04),
    ("qwen2-vl-2b-instruct", "1xA100-80GB", 1, 4.68, 4.79),
    ("qwen2-vl-2b-instruct", "1xA100-80GB", 30720, 31.64, 33.13),
    # 72B BF16 on 2 GPUs; the card has no layer geometry, so KV/activations are unknown
    # (a lower bound) and the comparison is weights plus per-GPU overhead.
    ("qwen2-vl-72b-instruct", "2xA100-80GB", 1, 138.74, 142.53),
]


@pytest.mark.parametrize(("model", "gpus", "prompt", "measured", "planned"), ROWS)
def test_qwen2_vl_readme_memory_within_10_percent(plan_for, model, gpus, prompt, measured,
                                                  planned):
    plan = plan_for(model, gpus, dtype="bf16", context=prompt + 2048, new_tokens=2048,
                    images=0)
    total = plan.required_bytes / GIB
    assert round(total, 2) == planned
    assert abs(total - measured) / measured < 0.10
    # 72B: without lm_layers the plan cannot split it, so it cannot show it fits 2 GPUs.
    assert plan.fits is (model != "qwen2-vl-72b-instruct")


def test_72b_plan_says_what_it_does_not_know(plan_for):
    plan = plan_for("qwen2-vl-72b-instruct", "2xA100-80GB", context=2049, new_tokens=2048,
                    images=0)
    assert plan.unknown == (
        "KV cache (num_kv_heads/head_dim unknown)",
        "decoder activations (hidden_size/intermediate_size unknown)",
        "prefill logits (vocab_size unknown)",
        "vocab_size or hidden_size unknown; embeddings and head not itemised",
        "lm_layers unknown: the language model cannot be split across GPUs",
    )
