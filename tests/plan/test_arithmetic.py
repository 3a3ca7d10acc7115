"""Each memory term, checked against arithmetic done by hand from the card's numbers."""

from __future__ import annotations

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus
from vlmdoctor.plan.constants import CUDA_CONTEXT_BYTES
from vlmdoctor.plan.stack import Stack
from vlmdoctor.plan.tokens import image_load
from vlmdoctor.plan.weights import components, weigh
from vlmdoctor.record import replace

MIB = 2**20


def test_llava_weights_kv_activations_overhead(plan_for):
    # rules/models/llava.yaml, llava-1.5-7b: vision 303,507,456 + projector 20,979,712 +
    # language 6,738,415,616 = 7,062,902,784 params x 2 bytes (fp16) = 14,125,805,568 B.
    plan = plan_for("llava-1.5-7b", "1xA100-80GB", dtype="fp16", context=2048, images=1)
    (gpu,) = plan.per_gpu
    assert gpu.weights_bytes == 2 * (303_507_456 + 20_979_712 + 6_738_415_616) == 14_125_805_568
    # 2048 text + 576 image tokens ((336/14)^2, CLIP ViT-L/14-336) = 2624 tokens;
    # K and V x 32 layers x 32 KV heads x head_dim 128 x 2 bytes = 512 KiB per token.
    tokens = 2048 + 576
    assert gpu.kv_bytes == 2 * 32 * 32 * 128 * 2 * tokens == 1_375_731_712
    # The card pins transformers==4.37.2 (< 4.46: logits for every prompt position, upcast):
    # vocab 32000 x (2 fp16 + 4 fp32) bytes per token; it beats one decoder layer's
    # 2624 x (2 x 4096 + 3 x 11008) x 2 = 216,301,568 B and the ViT's 576 x 10 x 1024 x 2.
    logits = tokens * 32000 * (2 + 4)
    carry = tokens * 4096 * 2  # hidden states, hidden 4096, fp16
    assert gpu.activation_bytes == carry + logits == 21_495_808 + 503_808_000
    allocated = 14_125_805_568 + 1_375_731_712 + 525_303_808
    # 400 MiB CUDA context + 5% allocator margin (docs/planner.md)
    assert gpu.overhead_bytes == 400 * MIB + round(0.05 * allocated)
    assert plan.required_bytes == gpu.total_bytes == allocated + gpu.overhead_bytes


def test_batch_multiplies_kv_hidden_states_and_logits(plan_for):
    # The llava case above at --batch 4: every per-token term holds 4 sequences
    plan = plan_for("llava-1.5-7b", "1xH200", dtype="fp16", context=2048, images=1, batch=4)
    (gpu,) = plan.per_gpu
    assert gpu.weights_bytes == 14_125_805_568  # weights do not grow with the batch
    assert gpu.kv_bytes == 4 * 1_375_731_712
    assert gpu.activation_bytes == 4 * (2624 * 4096 * 2 + 2624 * 32000 * 6)


def test_tied_head_counted_once(catalogue):
    # Qwen2-VL-2B ties lm_head to embed_tokens: vocab 151936 x hidden 1536 counted once.
    comp = components(catalogue.resolve("qwen2-vl-2b-instruct"))
    assert comp is not None
    assert comp.embeddings == 151936 * 1536 and comp.head == 0
    assert comp.total == 631_183_360 + 34_087_936 + 1_543_714_304  # the card's 2,208,985,600
    # What is left after embeddings and the final norm spreads over 28 Qwen2 layers; one
    # layer is q 1536x1536+b, k and v 1536x256+b (2 KV heads x 128), o 1536x1536,
    # MLP 3 x 1536 x 8960 and two RMSNorms: exactly the language count's remainder / 28.
    layer = (1536 * 1536 + 1536) + 2 * (1536 * 256 + 256) + 1536 * 1536 \
        + 3 * 1536 * 8960 + 2 * 1536
    assert comp.layers == 28 and comp.per_layer == layer == 46_797_824
    assert comp.body == 0 and comp.norm == 1536


def test_int8_and_int4_keep_embeddings_head_and_vision_16_bit(catalogue):
    card = catalogue.resolve("llava-1.5-7b")
    comp = components(card)
    assert comp is not None
    # Llama-2-7B layer: 4 attention projections 4096x4096, SwiGLU 3 x 4096 x 11008, 2 norms.
    layer = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096
    assert comp.per_layer == layer == 202_383_360
    w8, w4 = weigh(card, comp, "int8"), weigh(card, comp, "int4")
    assert w8.vision == w4.vision == 2 * (303_507_456 + 20_979_712)
    assert w8.embeddings == w8.head == w4.head == 2 * 32000 * 4096
    # LLM.int8(): 1 byte + one fp32 scale per row of 4096 inputs; NF4: 0.5 + 4/64 bytes
    assert w8.per_layer == 202_383_360 + 202_383_360 * 4 // 4096 == 202_581_000
    assert w4.per_layer == 202_383_360 * 9 // 16 == 113_840_640


def test_kv_uses_kv_heads_and_head_dim(plan_for):
    # Phi-3.5-V: 32 layers x 32 KV heads x 96 -> 384 KiB per token in 16-bit (facts G.2)
    plan = plan_for("phi-3.5-vision-instruct", "1xH200", context=131072, images=0)
    assert sum(u.kv_bytes for u in plan.per_gpu) == 2 * 32 * 32 * 96 * 2 * 131072 \
        == 384 * 1024 * 131072
    # InternVL2-76B: 80 x 8 x 128 -> 320 KiB per token
    plan = plan_for("internvl2-76b", "4xH100", context=8192, images=0)
    assert sum(u.kv_bytes for u in plan.per_gpu) == 2 * 80 * 8 * 128 * 2 * 8192 \
        == 320 * 1024 * 8192


def test_visual_tokens_per_family(catalogue):
    qwen = catalogue.resolve("qwen2-vl-7b-instruct").images
    assert image_load(qwen, None).tokens == 16384  # 12,845,056 / 784
    assert image_load(qwen, 602112).tokens == 768  # MAX_PIXELS=602112
    assert image_load(qwen, 1000).tokens == 4  # bounded below by min_pixels 3136
    assert image_load(qwen, 602112).patches == 768 * 4  # 28x28 px per token, 14x14 per patch
    ivl = catalogue.resolve("internvl2-76b").images
    assert image_load(ivl, None).tokens == 13 * 256  # 12 tiles + thumbnail
    # No shipped tile card gives pixels per token: 448x448 px / 256 tokens = 784, added here
    # to reach the --max-pixels tile cap.
    tiles = replace(ivl, pixels_per_token=784)
    assert image_load(tiles, 448 * 448).tokens == 256  # one tile, no thumbnail
    assert image_load(tiles, 3 * 448 * 448).tokens == (3 + 1) * 256  # 3 tiles + thumbnail
    phi = catalogue.resolve("phi-3.5-vision-instruct").images
    assert image_load(phi, None).tokens == 17 * 144  # 16 crops + the global view
    assert image_load(catalogue.resolve("llava-1.5-7b").images, None).tokens == 576
    # LLaVA-NeXT: 2 x 2 grid of 336-px tiles + the base image, 576 tokens each
    assert image_load(catalogue.resolve("llava-v1.6-vicuna-7b").images, None).tokens == 5 * 576
    assert image_load(catalogue.resolve("ixc2.5").images, None) is None


def test_vision_peak_on_gpu0(plan_for):
    # Qwen2-VL-7B at the default 12,845,056 px: 16384 visual tokens, 4 ViT patches (14x14)
    # per 28x28-px token; 16 text + 16384 image tokens = 16400 in the prefill.
    plan = plan_for("qwen2-vl-7b-instruct", "2xA100-80GB", context=16, images=1)
    patches = 16384 * 4
    # ViT width 1280: residual + LN out (2) and fc1 out + its activation (2 x 4), bf16
    vision_peak = patches * (2 + 2 * 4) * 1280 * 2
    layer_peak = 16400 * (2 * 3584 + 3 * 18944) * 2  # hidden 3584, MLP 18944
    logits = 16400 * 152064 * 6  # card's floor transformers 4.45.0 < 4.46: bf16 + fp32 upcast
    # transients never coexist: the largest counts, plus the hidden states carried
    assert plan.per_gpu[0].activation_bytes == 16400 * 3584 * 2 + max(vision_peak, layer_peak)
    assert plan.per_gpu[1].activation_bytes == 16400 * 3584 * 2 + max(logits, layer_peak)


def test_vision_peak_dominates_a_small_language_model_on_gpu0(plan_for):
    # Qwen2-VL-2B under transformers 5.0 (logits for the last position only: qwen2_vl takes
    # logits_to_keep from 5.0.0), bf16, one default image (16384 tokens, 65536 patches):
    #   ViT block: 65536 x (2 + 2 x 4) x 1280 x 2          = 1,677,721,600
    #   decoder layer: 16400 x (2 x 1536 + 3 x 8960) x 2   =   982,425,600
    #   logits: 1 x 151936 x 2                             =       303,872
    plan = plan_for("qwen2-vl-2b-instruct", "2xA100-80GB", context=16, images=1,
                    stack=Stack(transformers="5.0.0", source="--transformers"))
    carry = 16400 * 1536 * 2
    assert plan.per_gpu[0].activation_bytes == carry + 65536 * 10 * 1280 * 2
    assert plan.per_gpu[1].activation_bytes == carry + 16400 * 29952 * 2


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


def test_llava_next_plans_its_image_tokens(plan_for):
    # The shipped LLaVA-NeXT cards once gave tokens_per_image for an anyres kind, which the
    # planner cannot read: every plan said "visual tokens per image" unknown.
    plan = plan_for("llava-v1.6-vicuna-7b-hf", "1xA100-80GB", context=1024, images=1)
    assert plan.unknown == ()
    assert plan.workload.sequence == 1024 + 5 * 576  # 2 x 2 grid + base image, 576 each
    # 32 layers x 2 x 32 KV heads x 128 x 2 B per token
    assert plan.per_gpu[0].kv_bytes == 32 * 2 * 32 * 128 * 2 * (1024 + 2880)
