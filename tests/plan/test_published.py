"""The plan against published measurements, with the SHIPPED cards (rules/models).

Source: QwenLM/Qwen2-VL README.md, "Speed Benchmark" (A100 80GB, batch 1, PyTorch 2.2.1,
flash-attn 2.6.1, generating 2048 tokens after prompts of 1 / 6144 / 14336 / 30720 tokens,
"GPU Memory(GB)"). Its "Transformers 4.38.2" cannot load Qwen2-VL (a typo); the benchmark
predates the 4.45.0 release that added Qwen2-VL, whose forward upcasts every prompt
position's logits to fp32 (`logits = logits.float()`, modeling_qwen2_vl.py in 4.45.0): the
measured slope (about 0.91 MiB per prompt token = 6 bytes x the 152k vocabulary) is exactly
that, so the stack is planned as transformers 4.45.0 with torch 2.2.1, and the figures are
read as GiB. The deviation per row is in docs/planner.md.
"""

from __future__ import annotations

import pytest

from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.plan import PlanRequest, Stack, make_plan, parse_gpus

GIB = 2**30
CATALOGUE = load_knowledge(None).catalogue
README_STACK = Stack("4.45.0", "2.2.1", "the Qwen2-VL README benchmark")

ROWS = [
    # model, GPUs, prompt tokens, measured GiB, plan GiB (2 decimals)
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 1, 16.07, 16.72),
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 6144, 21.56, 22.59),
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 14336, 29.07, 30.42),
    ("qwen2-vl-7b-instruct", "1xA100-80GB", 30720, 44.08, 46.07),
    ("qwen2-vl-2b-instruct", "1xA100-80GB", 1, 4.68, 4.77),
    ("qwen2-vl-2b-instruct", "1xA100-80GB", 30720, 31.64, 33.11),
    ("qwen2-vl-72b-instruct", "2xA100-80GB", 1, 138.74, 145.00),
]


def plan(model: str, gpus: str, prompt: int, stack: Stack = README_STACK):  # type: ignore[no-untyped-def]
    return make_plan(PlanRequest(card=CATALOGUE.resolve(model), gpus=parse_gpus(gpus),
                                 dtype="bf16", context=prompt + 2048, new_tokens=2048, images=0,
                                 stack=stack))


@pytest.mark.parametrize(("model", "gpus", "prompt", "measured", "planned"), ROWS)
def test_qwen2_vl_readme_memory_within_5_percent(model, gpus, prompt, measured, planned):  # type: ignore[no-untyped-def]
    result = plan(model, gpus, prompt)
    total = result.required_bytes / GIB
    assert round(total, 2) == planned
    assert 0 <= (total - measured) / measured < 0.05  # never below what was measured
    assert result.fits


def test_a_newer_transformers_keeps_the_logits_in_bf16() -> None:
    # From 4.46.0 the fp32 upcast happens only for a loss: the 30k-prompt row drops by the
    # 4 x vocab bytes per prompt token the README's run paid.
    old = plan("qwen2-vl-7b-instruct", "1xA100-80GB", 30720)
    new = plan("qwen2-vl-7b-instruct", "1xA100-80GB", 30720, Stack("4.46.0", "2.2.1", "test"))
    assert old.workload.logits - new.workload.logits == 30720 * 152064 * 4
