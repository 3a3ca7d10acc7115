"""The planner's parameter counts and device maps against real architectures built on the
meta device (accelerate.init_empty_weights; configs written here from the sourced values in
facts.md / models.yaml; nothing is downloaded)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
accelerate = pytest.importorskip("accelerate")

from accelerate import init_empty_weights  # noqa: E402
from accelerate.utils import check_device_map  # noqa: E402

LLAMA2_7B = dict(vocab_size=32064, hidden_size=4096, intermediate_size=11008,
                 num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32)
CLIP_L_336 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                  num_attention_heads=16, image_size=336, patch_size=14, projection_dim=768)
HERMES_70B = dict(vocab_size=128256, hidden_size=8192, intermediate_size=28672,
                  num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8,
                  max_position_embeddings=8192)
INTERNVIT_6B_V1_5 = dict(hidden_size=3200, num_hidden_layers=45, num_attention_heads=25,
                         intermediate_size=12800, use_qk_norm=True, norm_type="rms_norm",
                         attention_bias=False, image_size=448, patch_size=14,
                         use_mean_pooling=False)


def qwen2vl(text: dict[str, Any]) -> Any:
    cfg = transformers.Qwen2VLConfig(
        text_config=dict(rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]}, **text),
        vision_config=dict(depth=32, embed_dim=1280, num_heads=16, mlp_ratio=4, patch_size=14,
                           spatial_merge_size=2, hidden_size=text["hidden_size"]),
        tie_word_embeddings=text["tie_word_embeddings"])
    return transformers.Qwen2VLForConditionalGeneration(cfg)


def qwen2vl_7b() -> Any:
    return qwen2vl(dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                        num_attention_heads=28, num_key_value_heads=4, vocab_size=152064,
                        max_position_embeddings=32768, tie_word_embeddings=False))


def qwen2vl_2b() -> Any:
    return qwen2vl(dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                        num_attention_heads=12, num_key_value_heads=2, vocab_size=151936,
                        tie_word_embeddings=True))


def llava_15() -> Any:
    cfg = transformers.LlavaConfig(vision_config=transformers.CLIPVisionConfig(**CLIP_L_336),
                                   text_config=transformers.LlamaConfig(**LLAMA2_7B),
                                   image_token_index=32000)
    return transformers.LlavaForConditionalGeneration(cfg)


def llava_next() -> Any:
    cfg = transformers.LlavaNextConfig(vision_config=transformers.CLIPVisionConfig(**CLIP_L_336),
                                       text_config=transformers.LlamaConfig(**LLAMA2_7B),
                                       image_token_index=32000)
    return transformers.LlavaNextForConditionalGeneration(cfg)


YI_34B_LLAVA = dict(vocab_size=64064, hidden_size=7168, intermediate_size=20480,
                    num_hidden_layers=60, num_attention_heads=56, num_key_value_heads=8)


def llava_next_34b() -> Any:
    # Nous-Hermes-2-Yi-34B geometry with the llava-hf vocabulary (64000 + 3, padded to 64).
    cfg = transformers.LlavaNextConfig(vision_config=transformers.CLIPVisionConfig(**CLIP_L_336),
                                       text_config=transformers.LlamaConfig(**YI_34B_LLAVA),
                                       image_token_index=64000)
    return transformers.LlavaNextForConditionalGeneration(cfg)


def internvl_hf_native() -> Any:
    cfg = transformers.InternVLConfig(
        vision_config=transformers.InternVLVisionConfig(**INTERNVIT_6B_V1_5),
        text_config=transformers.LlamaConfig(**HERMES_70B), tie_word_embeddings=False)
    return transformers.InternVLForConditionalGeneration(cfg)


def internvl_remote_layout() -> Any:
    """InternVLChatModel's module tree (vision_model, mlp1, language_model), the names
    split_model keys on; the HF-native class renames these modules."""
    nn = torch.nn
    model = nn.Module()
    model.vision_model = transformers.InternVLVisionModel(
        transformers.InternVLVisionConfig(**INTERNVIT_6B_V1_5))
    width = 3200 * 4  # pixel shuffle 0.5 stacks 2x2 patches
    model.mlp1 = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 8192), nn.GELU(),
                               nn.Linear(8192, 8192))
    model.language_model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**HERMES_70B))
    return model


def xcomposer_layout() -> Any:
    """InternLMXComposer2ForCausalLM's module tree (model.tok_embeddings/layers/norm, output,
    vit, vision_proj, plora_glb_GN, plora_sub_GN) with Llama layers of InternLM2-7B size."""
    nn = torch.nn
    cfg = transformers.LlamaConfig(vocab_size=92544, hidden_size=4096, intermediate_size=14336,
                                   num_hidden_layers=32, num_attention_heads=32,
                                   num_key_value_heads=8)
    model = nn.Module()
    model.model = nn.Module()
    model.model.tok_embeddings = nn.Embedding(92544, 4096)
    model.model.layers = nn.ModuleList(
        transformers.models.llama.modeling_llama.LlamaDecoderLayer(cfg, i) for i in range(32))
    model.model.norm = nn.LayerNorm(4096)
    model.output = nn.Linear(4096, 92544, bias=False)
    model.vit = transformers.CLIPVisionModel(transformers.CLIPVisionConfig(**CLIP_L_336))
    model.vision_proj = nn.Sequential(nn.Linear(4096, 4096), nn.GELU(), nn.Linear(4096, 4096))
    model.plora_glb_GN = nn.Parameter(torch.zeros(1, 1, 4096))
    model.plora_sub_GN = nn.Parameter(torch.zeros(1, 1, 1, 4096))
    return model


PHI3_MINI = dict(vocab_size=32064, hidden_size=3072, intermediate_size=8192,
                 num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                 tie_word_embeddings=False)


def phi35_vision_layout() -> Any:
    """Phi3VForCausalLM's module tree (remote modeling_phi3_v.py): the Phi-3-mini LM with
    model.vision_embed_tokens = CLIP ViT-L/14-336 (img_processor) + img_projection
    (4 x 1024 -> 3072, GELU, 3072 -> 3072) + the glb_GN / sub_GN separators."""
    nn = torch.nn
    model = transformers.Phi3ForCausalLM(transformers.Phi3Config(**PHI3_MINI))
    embed = nn.Module()
    embed.img_processor = transformers.CLIPVisionModel(transformers.CLIPVisionConfig(**CLIP_L_336))
    embed.img_projection = nn.Sequential(nn.Linear(4096, 3072), nn.GELU(), nn.Linear(3072, 3072))
    embed.glb_GN = nn.Parameter(torch.zeros(1, 1, 4096))
    embed.sub_GN = nn.Parameter(torch.zeros(1, 1, 1, 4096))
    model.model.vision_embed_tokens = embed
    return model


QWEN2_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864,
                 num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2)


def llava_onevision_05b() -> Any:
    cfg = transformers.LlavaOnevisionConfig(text_config=dict(model_type="qwen2", **QWEN2_05B),
                                            tie_word_embeddings=True)
    return transformers.LlavaOnevisionForConditionalGeneration(cfg)


def build(factory: Any) -> Any:
    with init_empty_weights():
        model = factory()
    if hasattr(model, "tie_weights"):
        model.tie_weights()  # transformers 5.x does not tie under init_empty_weights by itself
    return model


def count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())  # shared (tied) tensors once


# (card id, factory of the real architecture)
NATIVE = [
    ("qwen2-vl-7b-instruct", qwen2vl_7b),
    ("qwen2-vl-2b-instruct", qwen2vl_2b),
    ("llava-1.5-7b-hf", llava_15),
    ("llava-v1.6-vicuna-7b-hf", llava_next),
    ("internvl2-llama3-76b", internvl_hf_native),
]


@pytest.mark.parametrize(("model", "factory"), NATIVE, ids=[m for m, _ in NATIVE])
def test_parameter_count_matches_meta_model_within_1_percent(plan_for, model, factory):
    plan = plan_for(model, "1xH200")
    real = count(build(factory))
    assert plan.params is not None
    assert abs(plan.params - real) / real < 0.01, (plan.params, real)


def test_llava_next_34b_card_counts_the_language_model() -> None:
    # The shipped card once gave 0.4B (vision + projector only): the LM count was missing.
    from pathlib import Path

    from vlmdoctor.knowledge import load_knowledge
    from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus

    card = load_knowledge(Path(__file__).resolve().parents[2] / "rules").catalogue.resolve(
        "llava-hf/llava-v1.6-34b-hf")
    plan = make_plan(PlanRequest(card=card, gpus=parse_gpus("1xH200")))
    real = count(build(llava_next_34b))
    assert plan.params is not None and abs(plan.params - real) / real < 0.01, (plan.params, real)
    assert round(real / 1e9, 1) == 34.8


def test_phi35_vision_count_matches_meta_model_and_published_total(plan_for):
    # Remote code only: the same modules built here from the config's numbers.
    plan = plan_for("phi-3.5-vision-instruct", "1xH100")
    real = count(build(phi35_vision_layout))
    assert plan.params is not None and abs(plan.params - real) / real < 0.01, (plan.params, real)
    assert abs(plan.params - 4_200_000_000) / 4_200_000_000 < 0.02  # the model card's "4.2B"


# InternVL's split_model names both LMs' embeddings and heads (InternLM2's tok_embeddings
# and output, Llama's embed_tokens and lm_head) whatever the LM is; the unused pair is inert.
EXTRA_KEYS = {"internvl2-llama3-76b": ["language_model.model.tok_embeddings",
                                       "language_model.output"]}


def assert_covers(model: Any, device_map: dict[str, Any], extra: list[str]) -> None:
    # Every key names a real module or parameter (XComposer's plora_*_GN and LLaVA-NeXT's
    # image_newline are parameters, which accelerate places fine but warns about).
    names = {n for n, _ in model.named_modules()} | {n for n, _ in model.named_parameters()}
    assert [k for k in device_map if k not in names] == extra
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_device_map(model, device_map)  # raises when a parameter is left uncovered
    keys = set(device_map)
    for name, _ in model.named_parameters():
        parts = name.split(".")
        assert any(".".join(parts[:i]) in keys for i in range(1, len(parts) + 1)), name


COVERAGE = [
    ("qwen2-vl-7b-instruct", qwen2vl_7b, "4xA10"),
    ("qwen2-vl-2b-instruct", qwen2vl_2b, "2xT4"),
    ("llava-1.5-7b-hf", llava_15, "2xT4"),
    ("llava-v1.6-vicuna-7b-hf", llava_next, "3x8GiB"),
    ("internvl2-llama3-76b", internvl_remote_layout, "4xA100-80GB"),
    ("internlm-xcomposer2d5-7b", xcomposer_layout, "4xRTX4090"),
    ("phi-3.5-vision-instruct", phi35_vision_layout, "2xT4"),
    ("llava-onevision-qwen2-0.5b-ov-hf", llava_onevision_05b, "2xT4"),
]


@pytest.mark.parametrize(("model", "factory", "gpus"), COVERAGE, ids=[m for m, _, _ in COVERAGE])
def test_device_map_covers_every_parameter(plan_for, model, factory, gpus):
    plan = plan_for(model, gpus, dtype="fp16")
    meta = build(factory)
    assert_covers(meta, dict(plan.device_map), EXTRA_KEYS.get(model, []))
    # dispatching on real devices is not possible here; what accelerate would place:
    assert set(plan.device_map.values()) <= set(range(len(plan.gpus)))
