"""What the plan tells the user about its budgets and assumptions, at their edges (issue 19 §6):
the frontier keeps a budget the user gave when it fits, the context floor leaves room for the
new tokens, the stack the plan assumes, and which GPUs lack bf16. SHIPPED cards throughout."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vlmdoctor.cli import plan_cmd
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus
from vlmdoctor.plan.stack import Stack, assumptions

CATALOGUE = load_knowledge(None).catalogue
PINNED = ("--transformers", "4.57.1", "--torch", "2.5.1")


def run(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(plan_cmd.command, [*args, *PINNED, "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def budget(data: dict, kind: str) -> dict:  # type: ignore[type-arg]
    return next(b for b in data["frontier"] if b["kind"] == kind)


def test_a_pixel_budget_that_fits_is_kept_exactly_not_rounded_to_tokens() -> None:
    # 1,000,000 is not a multiple of Qwen2.5-VL's 784 pixels per token: it fits as given.
    code, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "1xRTX4090",
                     "--max-pixels", "1000000")
    assert code == 0 and data["fits"] is True
    pixels = budget(data, "max-pixels")
    assert (pixels["requested"], pixels["largest"]) == (1000000, 1000000)
    assert pixels["smallest"] == 3136  # the processor's min_pixels: 4 tokens of 28 x 28
    assert pixels["detail"] == "1,000,000 pixels = 1,275 visual tokens per image"
    assert pixels["flags"][0] == "vlmdoctor plan --max-pixels 1000000"


def test_the_smallest_context_leaves_room_for_the_new_tokens() -> None:
    code, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "1xRTX4090",
                     "--new-tokens", "512")
    assert code == 0
    assert budget(data, "context")["smallest"] == 513  # 512 generated + at least one prompt token


def test_no_context_fits_when_only_one_shorter_than_the_new_tokens_would() -> None:
    # A T4 holds LLaVA-1.5 with ~2,000 tokens of context; asking for 3,000 new tokens leaves
    # no context that fits: an error, never a "largest context" below the new tokens.
    code, data = run("-m", "llava-1.5-7b-hf", "--gpus", "1xT4", "--new-tokens", "3000")
    assert code == 1
    first = data["findings"][0]
    assert (first["id"], first["severity"]) == ("plan-does-not-fit", "error")
    context = budget(data, "context")
    assert context["largest"] is None and context["smallest"] == 3001
    assert context["detail"] == "no context fits"


def test_unknown_stack_plans_for_the_oldest_release_the_card_allows() -> None:
    card = CATALOGUE.resolve("minicpm-v-2.6")  # transformers >=4.37.0 and ==4.40.0 windows
    notes = assumptions(card, Stack()).notes
    assert notes[0].startswith("transformers not known here: planned for 4.37.0, the oldest")


@pytest.mark.parametrize(("torch", "eager"), [("2.1.0", True), ("2.1.1", False)])
def test_sdpa_from_torch_2_1_1(torch: str, eager: bool) -> None:
    a = assumptions(CATALOGUE.resolve("llava-1.5-7b-hf"), Stack("4.57.1", torch, "test"))
    assert a.eager_attention is eager
    assert any(n.startswith("attention: eager" if eager else "attention: SDPA") for n in a.notes)


@pytest.mark.parametrize(("gpus", "flagged"), [("1xA100-80GB", False), ("1xRTX3090", False),
                                               ("1xT4", True)])
def test_bf16_warning_only_below_ampere(gpus: str, flagged: bool) -> None:
    plan = make_plan(PlanRequest(card=CATALOGUE.resolve("qwen2.5-vl-3b-instruct"),
                                 gpus=parse_gpus(gpus), dtype="bf16",
                                 stack=Stack("4.57.1", "2.5.1", "test")), strict=False)
    notes = [n for n in plan.notes if "no native bf16" in n]
    assert bool(notes) is flagged
    if flagged:
        assert notes == ["GPU 0 (T4, compute capability 7.5) has no native bf16: plan with "
                         "--dtype fp16"]
