"""Each memory term, checked against arithmetic done by hand from the card's numbers."""

from __future__ import annotations

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus
from vlmdoctor.plan.constants import CUDA_CONTEXT_BYTES
from vlmdoctor.plan.tokens import image_load
from vlmdoctor.plan.weights import components, weigh

MIB = 2**20


def test_llava_weights_kv_activations_overhead(plan_for):
    plan = plan_for("llava-1.5-7b", "1xA100-80GB", dtype="fp16", context=2048, images=1)
    (gpu,) = plan.per_gpu
    assert gpu.weights_bytes == 2 * (304_290_000 + 20_979_712 + 6_738_415_616)
    tokens = 2048 + 576
    assert gpu.kv_bytes == 2 * 32 * 32 * 128 * 2 * tokens  # 2 x layers x kv heads x dim x fp16
    logits = tokens * 32000 * (2 + 4)  # fp16 logits + their fp32 upcast
    carry = tokens * 4096 * 2
    assert gpu.activation_bytes == carry + logits
    allocated = gpu.weights_bytes + gpu.kv_bytes + gpu.activation_bytes
    assert gpu.overhead_bytes == CUDA_CONTEXT_BYTES + round(0.05 * allocated)
    assert plan.required_bytes == gpu.total_bytes == allocated + gpu.overhead_bytes


def test_tied_head_counted_once(catalogue):
    comp = components(catalogue.resolve("qwen2-vl-2b-instruct"))
    assert comp is not None
    assert comp.embeddings == 151936 * 1536 and comp.head == 0
    assert comp.total == 675_000_000 + 1_543_714_304


def test_int8_and_int4_keep_embeddings_head_and_vision_16_bit(catalogue):
    card = catalogue.resolve("llava-1.5-7b")
    comp = components(card)
    assert comp is not None
    layers = comp.per_layer * 32
    w8, w4 = weigh(card, comp, "int8"), weigh(card, comp, "int4")
    assert w8.vision == w4.vision == 2 * (304_290_000 + 20_979_712)
    assert w8.embeddings == w8.head == 2 * 32000 * 4096
    assert w8.per_layer * 32 == pytest.approx(layers * (1 + 4 / 4096), abs=32)
    assert w4.per_layer * 32 == pytest.approx(layers * 0.5625, abs=32)


def test_kv_uses_kv_heads_and_head_dim(plan_for):
    # Phi-3.5-V: 32 layers x 32 KV heads x 96 -> 384 KiB per token in 16-bit (facts G.2)
    plan = plan_for("phi-3.5-vision-instruct", "1xH200", context=131072, images=0)
    assert sum(u.kv_bytes for u in plan.per_gpu) == 384 * 1024 * 131072
    # InternVL2-76B: 80 x 8 x 128 -> 320 KiB per token
    plan = plan_for("internvl2-76b", "4xH100", context=8192, images=0)
    assert sum(u.kv_bytes for u in plan.per_gpu) == 320 * 1024 * 8192


def test_visual_tokens_per_family(catalogue):
    qwen = catalogue.resolve("qwen2-vl-7b-instruct").images
    assert image_load(qwen, None).tokens == 16384  # 12,845,056 / 784
    assert image_load(qwen, 602112).tokens == 768  # MAX_PIXELS=602112
    assert image_load(qwen, 1000).tokens == 4  # bounded below by min_pixels 3136
    assert image_load(qwen, 602112).patches == 768 * 4
    ivl = catalogue.resolve("internvl2-76b").images
    assert image_load(ivl, None).tokens == 13 * 256  # 12 tiles + thumbnail
    assert image_load(ivl, 448 * 448).tokens == 256  # one tile, no thumbnail
    phi = catalogue.resolve("phi-3.5-vision-instruct").images
    assert image_load(phi, None).tokens == 17 * 144
    assert image_load(catalogue.resolve("llava-1.5-7b").images, None).tokens == 576
    assert image_load(catalogue.resolve("llava-v1.6-vicuna-7b").images, None).tokens == 5 * 576
    assert image_load(catalogue.resolve("ixc2.5").images, None) is None


def test_vision_peak_on_gpu0(plan_for):
    plan = plan_for("qwen2-vl-7b-instruct", "2xA100-80GB", context=16, images=1)
    patches = 16384 * 4
    vision_peak = patches * (2 + 2 * 4) * 1280 * 2
    layer_peak = 16400 * (2 * 3584 + 3 * 18944) * 2
    logits = 16400 * 152064 * 6
    # transients never coexist: the largest counts, plus the hidden states carried
    assert plan.per_gpu[0].activation_bytes == 16400 * 3584 * 2 + max(vision_peak, layer_peak)
    assert plan.per_gpu[1].activation_bytes == 16400 * 3584 * 2 + max(logits, layer_peak)


def test_no_gpus_says_so_and_how_to_name_gpus(catalogue):
    plan = make_plan(PlanRequest(card=catalogue.resolve("llava-1.5-7b"), gpus=()))
    assert not plan.fits and plan.per_gpu == () and plan.options == ()
    assert plan.device_map == {}  # no CPU device map: the question was about GPUs
    assert plan.notes[0] == ("no GPU was found; pass --gpus to plan for GPUs you name, e.g. "
                             "--gpus 1xA100-80GB, --gpus 2xL40S or --gpus 2x24GiB")
    assert plan.required_bytes > 14 * 10**9


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dtype": "fp8"}, "--dtype 'fp8': expected one of bf16, fp16, fp32, int8, int4"),
    ({"context": 0}, "--context 0: must be at least 1"),
    ({"batch": 0}, "--batch 0: must be at least 1"),
    ({"images": -1}, "--images -1: must be at least 0"),
    ({"max_pixels": 0}, "--max-pixels 0: must be between 1 and 1099511627776"),
    ({"context": 10, "new_tokens": 10},
     "--new-tokens 10: must be at least 0 and less than --context 10"),
])
def test_bad_requests(catalogue, kwargs, message):
    with pytest.raises(InputError) as err:
        make_plan(PlanRequest(card=catalogue.resolve("llava-1.5-7b"), gpus=parse_gpus("T4"),
                              **kwargs))
    assert str(err.value) == message


def test_cuda_context_constant_is_documented_value():
    assert CUDA_CONTEXT_BYTES == 400 * MIB
