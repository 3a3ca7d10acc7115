"""Assumptions follow the stack (item 1), and plan --engine vllm (item 8), on the SHIPPED cards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus
from vlmdoctor.plan.devicemap import balanced_layers
from vlmdoctor.plan.logits_table import GENERATE_KEEPS_LAST_SINCE, KEEP_SINCE
from vlmdoctor.plan.stack import Stack, assumptions
from vlmdoctor.plan.vllm import VllmOptions, vllm_plan

CATALOGUE = load_knowledge(None).catalogue
GIB = 2**30


def change(record, **values):  # type: ignore[no-untyped-def]
    """A copy of a card record with some fields changed (records are not dataclasses)."""
    return type(record)(**{**vars(record), **values})


def card(name: str):  # type: ignore[no-untyped-def]
    return CATALOGUE.resolve(name)


def test_table_read_from_the_wheels() -> None:
    # generate() passes logits_to_keep=1 from 4.45.0; Qwen2-VL's forward takes it only in 5.0.0
    assert GENERATE_KEEPS_LAST_SINCE == "4.45.0"
    assert (KEEP_SINCE["llama"], KEEP_SINCE["llava"], KEEP_SINCE["qwen2_vl"],
            KEEP_SINCE["qwen2_5_vl"], KEEP_SINCE["qwen3_vl"]) == (
        "4.45.0", "4.45.0", "5.0.0", "4.54.0", "4.57.0")


@pytest.mark.parametrize(("version", "last", "upcast"), [
    ("4.53.3", False, False), ("4.54.0", True, False), ("5.25.0", True, False)])
def test_qwen25_logits_follow_the_transformers_release(version, last, upcast) -> None:  # type: ignore[no-untyped-def]
    a = assumptions(card("qwen2.5-vl-7b-instruct"), Stack(version, "2.5.1", "test"))
    assert (a.logits_last_only, a.logits_upcast, a.eager_attention) == (last, upcast, False)
    assert a.notes[0] == f"transformers {version} (test)"


def test_old_stack_upcasts_and_old_torch_is_eager() -> None:
    a = assumptions(card("llava-1.5-7b"), Stack("4.37.2", "2.0.1", "test"))
    assert (a.logits_last_only, a.logits_upcast, a.eager_attention) == (False, True, True)
    unknown = assumptions(card("llava-1.5-7b"), Stack())
    assert unknown.notes[0].startswith("transformers not known here: planned for 4.37.2")


def test_logits_term_shrinks_when_only_the_last_position_is_kept() -> None:
    gpus = parse_gpus("1xA100-80GB")
    plans = [make_plan(PlanRequest(card=card("qwen2.5-vl-7b-instruct"), gpus=gpus,
                                   stack=Stack(v, "2.5.1", "test"), images=0))
             for v in ("4.53.3", "4.54.0")]
    assert plans[0].workload.logits == 4096 * 152064 * 2  # every position, bf16
    assert plans[1].workload.logits == 1 * 152064 * 2  # the last position only


def test_kv_left_to_defaults_is_not_sized_not_zero() -> None:
    base = card("llava-1.5-7b-hf")
    blind = change(base, architecture=change(base.architecture, num_kv_heads=None))
    plan = make_plan(PlanRequest(card=blind, gpus=parse_gpus("1xT4"), stack=Stack("4.57.1")))
    assert not plan.kv_sized and plan.to_dict()["not_sized"] == ["kv_cache"]
    from vlmdoctor.plan import plan_findings, plan_text_lines

    finding = next(f for f in plan_findings(plan) if f.id == "plan-unknown-size")
    assert finding.severity == "info"
    assert "The KV cache is not sized (not counted as 0)" in finding.message
    assert "without the KV cache (KV cache not sized)" in plan_text_lines(plan)[0]


@pytest.mark.parametrize(("field", "value"), [("num_kv_heads", 0), ("hidden_size", -4),
                                               ("max_context", 10**12)])
def test_absurd_config_values_cannot_plan_naming_the_field(field, value) -> None:  # type: ignore[no-untyped-def]
    base = card("qwen2.5-vl-7b-instruct")
    bad = change(base, architecture=change(base.architecture, **{field: value}))
    with pytest.raises(InputError, match=rf"architecture\.{field} = {value} \(from the model's"):
        make_plan(PlanRequest(card=bad, gpus=parse_gpus("1xRTX4090")))
    images = change(base, images=change(base.images, pixels_per_token=0))
    with pytest.raises(InputError, match=r"images\.pixels_per_token = 0"):
        make_plan(PlanRequest(card=images, gpus=parse_gpus("1xRTX4090")))


def vplan(model: str, gpus: str, **options):  # type: ignore[no-untyped-def]
    return vllm_plan(PlanRequest(card=card(model), gpus=parse_gpus(gpus)), VllmOptions(**options))


def test_vllm_default_max_model_len_does_not_start_on_one_4090() -> None:
    plan = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090")
    assert plan.starts is False and plan.max_model_len == 128000
    assert plan.message.startswith(
        "To serve at least one request with the model's max seq len (128000), (6.84 GiB KV cache "
        "is needed, which is larger than the available KV cache memory (3.20 GiB). Based on the "
        "available memory, the estimated maximum model length is 59936. Try increasing")
    assert plan.fixes[0] == "--max-model-len 59936"
    assert plan.largest_max_model_len % 16 == 0
    assert vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", max_model_len=59936).starts is True
    assert vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", max_model_len=59952).starts is False


def test_vllm_tensor_parallel_halves_weights_and_kv_per_rank() -> None:
    one = vplan("qwen2.5-vl-7b-instruct", "2xRTX4090", max_model_len=32768)
    two = vplan("qwen2.5-vl-7b-instruct", "2xRTX4090", max_model_len=32768,
                tensor_parallel_size=2)
    assert two.per_rank["weights_bytes"] * 2 == pytest.approx(one.per_rank["weights_bytes"], 1)
    assert two.per_rank["kv_bytes_per_token"] * 2 == one.per_rank["kv_bytes_per_token"]
    assert two.starts is True and two.largest_max_model_len == 128000  # capped at the model's


def test_vllm_no_memory_and_bad_tp_messages() -> None:
    plan = vplan("qwen2.5-vl-72b-instruct", "1xRTX4090", max_model_len=4096)
    assert plan.starts is False
    assert plan.message == ("No available memory for the cache blocks. Try increasing "
                            "`gpu_memory_utilization` when initializing the engine.")
    bad = vllm_plan(PlanRequest(card=card("qwen2.5-vl-7b-instruct"),
                                gpus=parse_gpus("4xRTX4090")),
                    VllmOptions(tensor_parallel_size=3))
    assert bad.message == ("Total number of attention heads (28) must be divisible by tensor "
                           "parallel size (3).")
    assert bad.fixes == ("--tensor-parallel-size 2",)


def test_vllm_eager_frees_the_cuda_graph_reserve() -> None:
    graphs = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", max_model_len=8192)
    eager = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", max_model_len=8192, enforce_eager=True)
    assert eager.per_rank["kv_available_bytes"] - graphs.per_rank["kv_available_bytes"] == GIB


@settings(max_examples=150, deadline=None)
@given(layers=st.integers(1, 96),
       caps=st.lists(st.integers(1, 200), min_size=2, max_size=8),
       fixed=st.lists(st.integers(0, 150), min_size=8, max_size=8),
       cost=st.integers(1, 20))
def test_no_gpu_is_left_empty_while_another_is_over_capacity(layers, caps, fixed, cost) -> None:  # type: ignore[no-untyped-def]
    fixed = fixed[:len(caps)]
    split = balanced_layers(layers, caps, fixed, cost)
    assert len(split) == layers and split == sorted(split)  # every layer, in GPU order
    counts = [split.count(i) for i in range(len(caps))]
    over = [fixed[i] + counts[i] * cost > caps[i] for i in range(len(caps))]
    if any(over) and layers >= len(caps):
        assert all(counts), (counts, over)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.sampled_from(["RTX4090", "RTX3090", "A10", "T4", "L4", "12GiB"]),
                      min_size=2, max_size=4))
def test_mixed_consumer_gpus_all_hold_layers(sizes) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(PlanRequest(card=card("qwen2.5-vl-7b-instruct"),
                                 gpus=parse_gpus(",".join(sizes)), dtype="fp16",
                                 stack=Stack("4.57.1", "2.5.1", "test")))
    used = {v for k, v in plan.device_map.items() if ".layers." in k}
    assert used == set(range(len(sizes)))


def test_check_goes_on_with_an_absurd_model_and_names_the_field() -> None:
    from vlmdoctor.plan import plan_findings

    base = card("qwen2.5-vl-7b-instruct")
    bad = change(base, architecture=change(base.architecture, lm_layers=0))
    plan = make_plan(PlanRequest(card=bad, gpus=parse_gpus("1xRTX4090")), strict=False)
    assert (plan.sized, plan.fits) == (False, False)
    (finding,) = plan_findings(plan)
    assert (finding.id, finding.severity) == ("plan-unknown-size", "info")
    assert finding.message == (
        "cannot plan qwen2.5-vl-7b-instruct: architecture.lm_layers = 0 (from the model's config "
        "or processor files) must be between 1 and 10000. No estimate was made.")


def test_eager_attention_adds_the_scores_of_one_layer() -> None:
    llava = card("llava-1.5-7b-hf")
    gpus = parse_gpus("1xA100-80GB")
    sdpa = make_plan(PlanRequest(card=llava, gpus=gpus, images=0, context=1024,
                                 stack=Stack("4.57.1", "2.5.1", "test")))
    eager = make_plan(PlanRequest(card=llava, gpus=gpus, images=0, context=1024,
                                  stack=Stack("4.57.1", "2.0.1", "test")))  # torch < 2.1.1
    assert eager.workload.layer_peak - sdpa.workload.layer_peak == 32 * 1024 * 1024 * (2 + 4)


def test_vllm_refuses_when_the_live_gpu_has_too_little_free() -> None:
    from vlmdoctor.plan import GpuSpec

    gpu = GpuSpec(0, "NVIDIA GeForce RTX 4090", 24 * GIB, 20 * GIB, "8.9")
    plan = vllm_plan(PlanRequest(card=card("qwen2.5-vl-3b-instruct"), gpus=(gpu,)),
                     VllmOptions(max_model_len=8192))
    assert plan.starts is False
    assert plan.message == (
        "Free memory on device cuda:0 (20.00/24.00 GiB) on startup is less than desired GPU "
        "memory utilization (0.9, 21.60 GiB). Decrease GPU memory utilization or reduce GPU "
        "memory used by other processes.")
    assert plan.fixes == ("--gpu-memory-utilization 0.83",)


def test_check_plans_with_the_snapshots_transformers() -> None:
    from vlmdoctor.knowledge import load_knowledge as knowledge_base
    from vlmdoctor.snapshot import Gpu, Snapshot
    from vlmdoctor.stages import planning
    from vlmdoctor.target import resolve

    stage = planning(knowledge_base(None))
    model = resolve(CATALOGUE, "qwen2.5-vl-7b-instruct")
    gpus = (Gpu(0, "NVIDIA GeForce RTX 4090", 24564, 24000, "8.9"),)
    old = stage(Snapshot(gpus=gpus, packages={"transformers": "4.50.0"}), model, "auto")[0]
    new = stage(Snapshot(gpus=gpus, packages={"transformers": "4.57.1"}), model, "auto")[0]
    assert old.workload.logits > new.workload.logits == 152064 * 2
    assert "transformers 4.57.1 (snapshot)" in new.notes


@settings(max_examples=150, deadline=None)
@given(layers=st.integers(2, 96), caps=st.lists(st.integers(8, 200), min_size=2, max_size=8))
def test_family_maps_never_leave_a_gpu_without_layers(layers, caps) -> None:  # type: ignore[no-untyped-def]
    from vlmdoctor.plan.devicemap import internvl_layers, xcomposer_layers

    if layers < len(caps):
        return
    internvl = internvl_layers(layers, caps, 0.5)
    assert internvl[-1] == 0 and internvl[:-1] == sorted(internvl[:-1])  # last layer on GPU 0
    assert {*internvl} == set(range(len(caps)))
    xcomposer = xcomposer_layers(layers, caps)
    assert xcomposer == sorted(xcomposer) and {*xcomposer} == set(range(len(caps)))
    assert len(internvl) == len(xcomposer) == layers


def test_internvl_official_split_on_identical_gpus_is_kept() -> None:
    from vlmdoctor.plan.devicemap import internvl_layers

    split = internvl_layers(80, [80] * 4, 0.5)  # InternVL split_model, 76B on 4 GPUs
    assert [split[:-1].count(i) for i in range(4)] == [12, 23, 23, 21] and split[-1] == 0


@pytest.mark.parametrize(("model", "version", "last", "upcast"), [
    ("llava-1.5-7b-hf", "4.44.2", False, True),  # generate() keeps only the last from 4.45.0
    ("llava-1.5-7b-hf", "4.45.0", True, False),
    ("qwen2-vl-7b-instruct", "4.45.2", False, True),  # unconditional logits.float() until 4.46
    ("qwen2-vl-7b-instruct", "4.46.0", False, False),
    ("qwen2-vl-7b-instruct", "5.0.0", True, False),
    ("florence-2-large", "4.57.1", False, False),  # remote code: its own forward, not 4.56
])
def test_logits_boundaries(model, version, last, upcast) -> None:  # type: ignore[no-untyped-def]
    a = assumptions(card(model), Stack(version, "2.5.1", "test"))
    assert (a.logits_last_only, a.logits_upcast) == (last, upcast)
