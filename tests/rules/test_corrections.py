"""Regression tests for the audit corrections (issue 9 section 6) and the multi-GPU facts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_knowledge, snapshot
from vlmdoctor.evaluate import multigpu
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate

KNOWLEDGE = make_knowledge()
TABLES = KNOWLEDGE.tables


def fired(base: str, patch: dict[str, Any] | None = None, model: str | None = None) -> list[str]:
    card = KNOWLEDGE.catalogue.resolve(model) if model else None
    ctx = Context(snapshot=snapshot(base, patch), tables=TABLES, card=card)
    return [f"{f.severity}:{f.id}" for f in evaluate(KNOWLEDGE.rules, ctx)]


def test_torch_27_cu128_ships_ptx_for_sm120_and_no_sm70() -> None:
    build = TABLES.arch_build("2.7.1+cu128", "cu128")
    assert build is not None
    assert build.sm_list()[-2:] == ["sm_120", "sm_120+PTX"]
    assert not build.runs_on("7.0") and build.runs_on("12.1")  # PTX 12.0 JITs forward


@pytest.mark.parametrize(("torch", "tag"), [("2.7.0", "cu124"), ("2.9.1", "cu129"),
                                            ("2.10.0", "cu124"), ("2.8.0", "cu118"),
                                            ("2.6.0", "cu121")])
def test_tags_that_stopped_have_closed_ranges(torch: str, tag: str) -> None:
    assert TABLES.arch_build(torch, tag) is None
    assert TABLES.arch_build("2.6.0", "cu124") is not None
    assert TABLES.arch_build("2.8.0", "cu129") is not None


@pytest.mark.parametrize("model", ["internvl2.5-8b", "internvl2.5-38b", "internvl2-8b"])
def test_internvl_on_working_versions_raises_nothing(model: str) -> None:
    patch = {"packages": {"transformers": "4.51.3", "accelerate": "1.6.0", "timm": "1.0.15",
                          "einops": "0.8.1"}}
    assert [f for f in fired("h100x4-cu121", patch, model) if not f.startswith("info")] == []


def test_internvl25_asks_for_at_least_4372_not_exactly() -> None:
    card = KNOWLEDGE.catalogue.resolve("internvl2.5-8b")
    specs = [r.spec for r in card.requirements.for_package("transformers")]
    assert ">=4.37.2" in specs and "==4.37.2" not in specs
    assert not card.requirements.for_package("accelerate")


def test_xcomposer_cap_cites_the_user_facing_error_and_lmdeploy_fix() -> None:
    card = KNOWLEDGE.catalogue.resolve("internlm-xcomposer2.5-7b")
    cap = next(r for r in card.requirements.for_package("transformers") if r.spec == "<4.46")
    assert "Input image size (490*490) doesn't match model (336*336)" in cap.why
    assert "fix, not a cap" in cap.why


@pytest.mark.parametrize(("spec", "count", "missing", "visible"), [
    ("0,1,2,3", 4, [], 4), ("1,2,3,4", 4, ["4"], 3), ("0,2,-1,1", 4, ["-1"], 2),
    ("", 4, [], 0), ("GPU-8f6c2b1e", 1, [], 1), ("none", 2, ["none"], 0),
])
def test_cuda_visible_devices_stops_at_the_first_invalid_entry(
        spec: str, count: int, missing: list[str], visible: int) -> None:
    assert multigpu.visible_missing(spec, count) == missing
    assert multigpu.visible_count(spec, count) == visible


def test_local_world_size_and_node_rank_sources() -> None:
    assert multigpu.local_world_size({"NPROC_PER_NODE": "8", "WORLD_SIZE": "16"}, True) == 8
    assert multigpu.local_world_size({"WORLD_SIZE": "16"}, True) is None
    assert multigpu.local_world_size({"WORLD_SIZE": "4"}, False) == 4
    assert multigpu.node_rank({"SLURM_NODEID": "3"}) == 3
    assert multigpu.node_rank({"NODE_RANK": "x"}) is None
    assert multigpu.nccl_version({"nvidia-nccl-cu12": "2.26.2"}) == "2.26.2"


def test_xcomposer25_is_sized_from_its_own_code() -> None:
    card = KNOWLEDGE.catalogue.resolve("internlm-xcomposer2.5-7b")
    p = card.params
    assert (p.vision, p.projector, p.language) == (304556032, 33570816, 8341688320)
    assert p.total == p.vision + p.projector + p.language
