"""Visual tokens per image from each family's own config / processor values, the component
split of real tensor names, and absurd values named as input errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_knowledge
from tests.modelfiles import layouts as L
from vlmdoctor.errors import InputError
from vlmdoctor.modelfiles.card import card_from_facts
from vlmdoctor.modelfiles.components import component
from vlmdoctor.modelfiles.locate import locate
from vlmdoctor.modelfiles.read import read_model
from vlmdoctor.plan.tokens import image_load
from vlmdoctor.target import resolve

TINY = {"model.embed_tokens.weight": ("BF16", [8, 4])}


def facts_of(tmp_path: Path, config: dict[str, Any], pre: dict[str, Any] | None = None,
             proc: dict[str, Any] | None = None, name: str = "m") -> Any:
    source = locate(str(L.write_dir(tmp_path / name, config, dict(TINY), pre, proc)))
    assert source is not None
    return read_model(source)


def tokens(tmp_path: Path, config: dict[str, Any], pre: dict[str, Any] | None = None,
           proc: dict[str, Any] | None = None) -> tuple[str, int]:
    facts = facts_of(tmp_path, config, pre, proc)
    images = card_from_facts(facts, "m", None).images
    assert images is not None, dict(facts.images)
    load = image_load(images, None)
    assert load is not None
    return images.kind, load.tokens


QWEN3_VL_PRE = {"size": {"longest_edge": 16777216, "shortest_edge": 65536}, "patch_size": 16,
                "temporal_patch_size": 2, "merge_size": 2,
                "image_processor_type": "Qwen2VLImageProcessorFast"}
QWEN3_VL_CONFIG = {"model_type": "qwen3_vl", "transformers_version": "4.57.0.dev0",
                   "vision_config": {"model_type": "qwen3_vl", "patch_size": 16,
                                     "spatial_merge_size": 2, "hidden_size": 1152, "depth": 27},
                   "text_config": {"model_type": "qwen3_vl_text", "hidden_size": 4096,
                                   "num_hidden_layers": 36, "num_attention_heads": 32,
                                   "num_key_value_heads": 8, "head_dim": 128}}


def test_qwen3_vl_directory_keeps_its_patch_size(tmp_path: Path) -> None:
    """Issue 19 §5: 16,384 tokens of 32x32 pixels are 65,536 vision patches of 16x16, not
    85,598 of the 14x14 default."""
    facts = facts_of(tmp_path, QWEN3_VL_CONFIG, QWEN3_VL_PRE)
    images = card_from_facts(facts, "q", None).images
    assert images is not None and images.patch_size == 16 and images.pixels_per_token == 1024
    load = image_load(images, None)
    assert load is not None and (load.tokens, load.patches) == (16_384, 65_536)


@pytest.mark.parametrize(("family", "config", "pre", "proc", "expected"), [
    # Gemma 3: mm_tokens_per_image (Gemma3Config default 256, also in config.json).
    ("gemma3", L.GEMMA3_4B_CONFIG, None, None, ("fixed", 256)),
    # Gemma 3 with the field left out: the release default.
    ("gemma3-default", {k: v for k, v in L.GEMMA3_4B_CONFIG.items()
                        if k != "mm_tokens_per_image"}, None, None, ("fixed", 256)),
    # LLaVA-1.5: (336 / 14)^2, CLS dropped by the 'default' feature strategy.
    ("llava", L.LLAVA15_CONFIG, L.LLAVA15_PREPROCESSOR, None, ("fixed", 576)),
    ("llava-full", {**L.LLAVA15_CONFIG, "vision_feature_select_strategy": "full"},
     None, None, ("fixed", 577)),
    # Florence-2: its processor states image_seq_length 577.
    ("florence2", {"model_type": "florence2", "auto_map": {"AutoModel": "m.F"},
                   "vision_config": {"model_type": "davit", "patch_size": [7, 3, 3, 3]}},
     {"image_seq_length": 577, "crop_size": {"height": 768, "width": 768}}, None,
     ("fixed", 577)),
    # PaliGemma 2 at 448 px: text_config.num_image_tokens 1024.
    ("paligemma2", L.PALIGEMMA2_448_CONFIG, None, None, ("fixed", 1024)),
    # Llama-3.2-Vision: 4 tiles x (40^2 + 1 class token).
    ("mllama", {"model_type": "mllama", "transformers_version": "4.45.0.dev0",
                "vision_config": {"model_type": "mllama_vision_model", "image_size": 560,
                                  "patch_size": 14}},
     {"max_image_tiles": 4, "size": {"height": 560, "width": 560}}, None, ("fixed", 6404)),
    # Fuyu-8B: 1080 x 1920 in 30-px patches, a newline token per row: 36 x (64 + 1).
    ("fuyu", {"model_type": "fuyu", "transformers_version": "4.35.0.dev0"},
     {"size": {"height": 1080, "width": 1920}, "patch_size": {"height": 30, "width": 30}},
     None, ("fixed", 2340)),
    # InternVL2: (448 / 14)^2 x 0.5^2 = 256 per tile, 12 tiles + a thumbnail.
    ("internvl2", {"model_type": "internvl_chat", "auto_map": {"AutoModel": "m.I"},
                   "force_image_size": 448, "downsample_ratio": 0.5, "max_dynamic_patch": 12,
                   "vision_config": {"model_type": "intern_vit_6b", "image_size": 448,
                                     "patch_size": 14}},
     None, None, ("internvl-tiles", 13 * 256)),
    # InternVL3-hf (transformers' own InternVL): list-valued sizes, max_patches in the processor.
    ("internvl-hf", {"model_type": "internvl", "transformers_version": "4.52.0.dev0",
                     "downsample_ratio": 0.5,
                     "vision_config": {"model_type": "internvl_vision", "image_size": [448, 448],
                                       "patch_size": [14, 14]}},
     {"max_patches": 12, "crop_to_patches": True}, None, ("internvl-tiles", 13 * 256)),
    # MiniCPM-V 2.6: 64 resampler queries per slice, 9 slices + the source image.
    ("minicpm-v", {"model_type": "minicpmv", "auto_map": {"AutoModel": "m.M"},
                   "query_num": 64, "slice_config": {"max_slice_nums": 9, "patch_size": 14}},
     {"max_slice_nums": 9, "image_feature_size": 64}, None, ("slices", 10 * 64)),
    # Idefics3-8B: image_seq_len 169 per 364-px tile, (1456 / 364)^2 tiles + global.
    ("idefics3", {"model_type": "idefics3", "transformers_version": "4.46.0.dev0",
                  "scale_factor": 2, "vision_config": {"model_type": "idefics3",
                                                        "image_size": 364, "patch_size": 14}},
     {"do_image_splitting": True, "max_image_size": {"longest_edge": 364},
      "size": {"longest_edge": 1456}}, {"image_seq_len": 169}, ("slices", 17 * 169)),
    # Idefics3 with splitting off: one tile.
    ("idefics3-nosplit", {"model_type": "idefics3", "transformers_version": "4.46.0.dev0",
                          "scale_factor": 2, "vision_config": {"model_type": "idefics3",
                                                               "image_size": 364,
                                                               "patch_size": 14}},
     {"do_image_splitting": False, "max_image_size": {"longest_edge": 364},
      "size": {"longest_edge": 1456}}, {"image_seq_len": 169}, ("fixed", 169)),
    # SmolVLM-Instruct: (384 / 14)^2 / 3^2 = 81 per tile when no processor_config.
    ("smolvlm", {"model_type": "idefics3", "transformers_version": "4.46.0.dev0",
                 "scale_factor": 3, "vision_config": {"model_type": "idefics3",
                                                       "image_size": 384, "patch_size": 14}},
     {"do_image_splitting": True, "max_image_size": {"longest_edge": 384},
      "size": {"longest_edge": 1536}}, None, ("slices", 17 * 81)),
    # Phi-3.5-vision: 144 tokens per crop, num_crops 4 (+ the global view).
    ("phi3-v", {"model_type": "phi3_v", "auto_map": {"AutoModelForCausalLM": "m.P"},
                "img_processor": {"num_img_tokens": 144, "image_dim_out": 1024}},
     {"num_crops": 4}, None, ("phi-crops", 5 * 144)),
    # LLaVA-OneVision: 729 per 384-px tile, anyres_max_9 caps 36 grid cells at 9 (+ base).
    ("onevision", L.ONEVISION_05B_CONFIG, None, None, ("llava-anyres", 10 * 729)),
    # Qwen2.5-VL: 12,845,056 pixels / (14 x 2)^2.
    ("qwen2.5-vl", {"model_type": "qwen2_5_vl"},
     {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "merge_size": 2},
     None, ("qwen-pixels", 16384)),
])
def test_visual_tokens_per_family(tmp_path: Path, family: str, config: dict[str, Any],
                                  pre: dict[str, Any] | None, proc: dict[str, Any] | None,
                                  expected: tuple[str, int]) -> None:
    assert tokens(tmp_path, config, pre, proc) == expected


def test_unknown_visual_tokens_keep_the_curated_card(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {"model_type": "acme", "vision_config": {"hidden_size": 8}})
    assert "kind" not in facts.images
    assert card_from_facts(facts, "m", None).images is None


@pytest.mark.parametrize(("name", "part"), [
    # DeepSeek-OCR: the SAM encoder and the CLIP encoder are both vision; projector and the
    # learned separators bridge; the MoE decoder is language.
    ("model.sam_model.blocks.0.attn.qkv.weight", "vision"),
    ("model.sam_model.neck.0.weight", "vision"),
    ("model.vision_model.transformer.layers.0.mlp.fc1.weight", "vision"),
    ("model.projector.layers.weight", "projector"),
    ("model.image_newline", "projector"),
    ("model.view_seperator", "projector"),
    ("model.layers.1.mlp.experts.0.gate_proj.weight", "language"),
    # MiniCPM-V: SigLIP (vpm), the resampler, the Qwen2 LLM.
    ("vpm.encoder.layers.0.self_attn.q_proj.weight", "vision"),
    ("resampler.query", "projector"),
    ("resampler.attn.in_proj_weight", "projector"),
    ("llm.model.layers.0.self_attn.q_proj.weight", "language"),
    # Idefics2 perceiver, BLIP-2 Q-Former, Ovis, Florence-2, Pixtral's own format.
    ("model.connector.perceiver_resampler.latents", "projector"),
    ("qformer.encoder.layer.0.attention.attention.query.weight", "projector"),
    ("query_tokens", "projector"),
    ("language_projection.weight", "projector"),
    ("visual_tokenizer.backbone.trunk.blocks.0.attn.qkv.weight", "vision"),
    ("vte.weight", "projector"),
    ("image_pos_embed.row_embeddings.weight", "projector"),
    ("vision_language_adapter.w_in.weight", "projector"),
    # CogVLM's visual experts live in the decoder layers.
    ("model.layers.0.self_attn.vision_expert_query_key_value.weight", "language"),
    ("model.layers.0.mlp.vision_mlp.fc1.weight", "language"),
])
def test_components_of_real_tensor_names(name: str, part: str) -> None:
    assert component(name) == part


def test_deepseek_ocr_sam_is_counted_as_vision(tmp_path: Path) -> None:
    layout = {"model.sam_model.blocks.0.attn.qkv.weight": ("BF16", [2304, 768]),
              "model.vision_model.transformer.layers.0.mlp.fc1.weight": ("BF16", [4096, 1024]),
              "model.projector.layers.weight": ("BF16", [1280, 2048]),
              "model.view_seperator": ("BF16", [1280]),
              "model.layers.0.self_attn.q_proj.weight": ("BF16", [1280, 1280]),
              "lm_head.weight": ("BF16", [129280, 1280])}
    root = L.write_dir(tmp_path / "ocr", {"model_type": "deepseek_vl_v2",
                                          "auto_map": {"AutoModel": "m.D"}}, layout)
    facts = read_model(locate(str(root)))  # type: ignore[arg-type]
    assert dict(facts.params) == {"vision": 2304 * 768 + 4096 * 1024,
                                  "projector": 1280 * 2048 + 1280,
                                  "language": 1280 * 1280 + 129280 * 1280,
                                  "total": 2304 * 768 + 4096 * 1024 + 1280 * 2049
                                  + 1280 * 1280 + 129280 * 1280}


@pytest.mark.parametrize(("config", "pre", "message"), [
    ({**L.GEMMA3_4B_CONFIG, "text_config": {**L.GEMMA3_4B_CONFIG["text_config"],
                                            "num_attention_heads": 0}}, None,
     "config.json: text_config.num_attention_heads is 0; expected a positive integer up to "
     "65,536 (cannot plan with it)"),
    ({**L.LLAVA15_CONFIG, "text_config": {**L.LLAVA15_CONFIG["text_config"],
                                          "hidden_size": -4096}}, None,
     "config.json: text_config.hidden_size is -4096; expected a positive integer up to "
     "1,048,576 (cannot plan with it)"),
    ({**L.LLAVA15_CONFIG, "vision_config": {**L.LLAVA15_CONFIG["vision_config"],
                                            "num_hidden_layers": 10**12}}, None,
     "config.json: vision_config.num_hidden_layers is 1000000000000; expected a positive "
     "integer up to 4,096 (cannot plan with it)"),
    ({"model_type": "qwen2_5_vl"}, {"min_pixels": 3136, "max_pixels": 0, "patch_size": 14,
                                    "merge_size": 2},
     "preprocessor_config.json: max_pixels is 0; expected a positive integer up to "
     "17,179,869,184 (cannot plan the visual tokens)"),
    ({"model_type": "qwen2_5_vl"}, {"max_pixels": 12845056, "patch_size": 0, "merge_size": 2},
     "preprocessor_config.json: patch_size is 0; expected a positive integer up to 65,536 "
     "(cannot plan the visual tokens)"),
    ({**L.GEMMA3_4B_CONFIG, "mm_tokens_per_image": 10**12}, None,
     "config.json: mm_tokens_per_image is 1000000000000; expected a positive integer up to "
     "1,048,576 (cannot plan the visual tokens)"),
    ({"model_type": "internvl_chat", "downsample_ratio": 0, "max_dynamic_patch": 12,
      "force_image_size": 448, "vision_config": {"patch_size": 14}}, None,
     "config.json: downsample_ratio is 0; expected a number in (0.0, 1.0] (cannot plan the "
     "visual tokens)"),
    ({"model_type": "minicpmv", "query_num": -64, "slice_config": {"max_slice_nums": 9}},
     None, "config.json: query_num is -64; expected a positive integer up to 1,048,576 "
     "(cannot plan the visual tokens)"),
])
def test_absurd_values_are_input_errors_naming_the_field(
        tmp_path: Path, config: dict[str, Any], pre: dict[str, Any] | None,
        message: str) -> None:
    root = L.write_dir(tmp_path / "bad", config, dict(TINY), pre)
    with pytest.raises(InputError) as exc:
        resolve(make_knowledge().catalogue, str(root))
    shown = locate(str(root)).path  # type: ignore[union-attr]
    assert str(exc.value) == f"{shown}/{message}"


def test_absurd_value_through_the_cli_is_exit_2(tmp_path: Path) -> None:
    from tests.cli.test_cli import run

    cfg = {**L.GEMMA3_4B_CONFIG, "mm_tokens_per_image": 0}
    root = L.write_dir(tmp_path / "zero", cfg, dict(TINY))
    code, out, err = run("plan", "--model", str(root), "--gpus", "1xA100-80GB")
    assert code == 2, (out, err)
    assert "mm_tokens_per_image is 0; expected a positive integer" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_values_of_another_shape_are_unknown_not_errors(tmp_path: Path) -> None:
    """Per-layer lists (OpenELM-style) and strings are not absurd numbers: unknown."""
    cfg = {"model_type": "acme", "auto_map": {"AutoModel": "m.A"},
           "text_config": {"intermediate_size": [768, 1024], "num_attention_heads": "8",
                           "hidden_size": 512},
           "mm_tokens_per_image": "256", "downsample_ratio": "0.5"}
    facts = facts_of(tmp_path, cfg)
    assert dict(facts.geometry) == {"hidden_size": 512}
    assert "kind" not in facts.images
