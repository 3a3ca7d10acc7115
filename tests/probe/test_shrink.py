"""Shrinking a model's own config to toy size: plain dicts, no torch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vlmdoctor.probe.shrink import overlay, rope_defaults_in, shrink

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "probe" / "models"


def _config(name: str) -> dict[str, Any]:
    data = json.loads((MODELS / name / "config.json").read_text())
    assert isinstance(data, dict)
    return data


def _configs(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    out = [cfg]
    for value in cfg.values():
        if isinstance(value, dict) and "hidden_size" in value:
            out += _configs(value)
    return out


def test_llava_layout_shrinks_every_dimension_and_remaps_tokens() -> None:
    small, changed = shrink(_config("llava-1.5-7b-layout"))
    text, vision = small["text_config"], small["vision_config"]
    assert {k: text[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                 "num_attention_heads", "num_key_value_heads", "vocab_size")} == {
        "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 1024}
    assert {k: vision[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                   "num_attention_heads", "image_size", "patch_size",
                                   "projection_dim")} == {
        "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
        "num_attention_heads": 4, "image_size": 56, "patch_size": 14, "projection_dim": 128}
    assert (small["image_token_index"], small["pad_token_id"]) == (1000, 0)
    assert small["vision_feature_layer"] == -2  # still the second-to-last hidden state
    assert changed == 14


def test_qwen2_vl_layout_keeps_its_constraints() -> None:
    small, _ = shrink(_config("qwen2-vl-7b-layout"))
    vision = small["vision_config"]
    # the merger's output width is the text width; heads divide widths; GQA stays GQA
    assert (small["hidden_size"], vision["hidden_size"], vision["embed_dim"]) == (128, 128, 128)
    assert (small["num_attention_heads"], small["num_key_value_heads"], vision["num_heads"]) == (
        4, 2, 4)
    assert (vision["depth"], small["num_hidden_layers"], small["max_window_layers"]) == (2, 2, 2)
    # M-RoPE sections cover head_dim / 2 = 16 frequencies, in the original proportions
    assert small["rope_scaling"]["mrope_section"] == [4, 6, 6]
    assert {k: small[k] for k in small if k.endswith("token_id")} == {
        "bos_token_id": 1, "eos_token_id": 2, "vision_start_token_id": 1002,
        "vision_end_token_id": 1003, "vision_token_id": 1004, "image_token_id": 1000,
        "video_token_id": 1001}
    assert small["max_position_embeddings"] == 4096


def test_widths_are_heads_times_head_dim_everywhere() -> None:
    for name in ("llava-1.5-7b-layout", "qwen2-vl-7b-layout", "toyvlm-remote"):
        small, _ = shrink(_config(name))
        for cfg in _configs(small):
            heads = cfg.get("num_attention_heads") or cfg.get("num_heads")
            width = cfg.get("embed_dim") or cfg.get("hidden_size")
            assert bool(heads) == bool(width), (name, cfg)
            assert not heads or (width % heads == 0 and width // heads == 32), (name, cfg)


def test_per_layer_lists_and_layer_indexes_follow_the_new_depth() -> None:
    cfg = {"num_hidden_layers": 34, "hidden_size": 2560, "num_attention_heads": 8,
           "num_key_value_heads": 4, "head_dim": 256,
           "layer_types": ["sliding_attention"] * 5 + ["full_attention"] + ["sliding_attention"] * 28,
           "vision_config": {"depth": 27, "hidden_size": 1152, "num_heads": 16,
                             "deepstack_visual_indexes": [8, 16, 24],
                             "fullatt_block_indexes": [7, 15, 23]},
           "cross_attention_layers": [3, 8, 13], "mlp_only_layers": [],
           "num_local_experts": 64, "num_experts_per_tok": 8,
           "rope_scaling": {"rope_type": "longrope", "short_factor": [1.0] * 128,
                            "long_factor": [2.0] * 128, "mrope_section": [24, 20, 20]},
           "quantization_config": {"quant_method": "fp8"}}
    small, _ = shrink(cfg, layers=2)
    assert small["layer_types"] == ["sliding_attention", "full_attention"]
    assert small["head_dim"] == 32 and small["num_key_value_heads"] == 2
    assert small["vision_config"]["deepstack_visual_indexes"] == [0, 1]
    assert small["vision_config"]["fullatt_block_indexes"] == [0, 1]
    assert small["cross_attention_layers"] == [0]
    assert small["mlp_only_layers"] == []
    assert (small["num_local_experts"], small["num_experts_per_tok"]) == (4, 2)
    rope = small["rope_scaling"]
    assert (len(rope["short_factor"]), len(rope["long_factor"])) == (16, 16)
    # in proportion to head_dim (256 -> 32): the sections add up to 64 * 32 / 256
    assert rope["mrope_section"] == [3, 2, 3]
    assert "quantization_config" not in small
    assert cfg["num_hidden_layers"] == 34  # the input is not modified


@pytest.mark.parametrize(("kv", "expected"), [(32, 4), (8, 2), (1, 1)])
def test_key_value_heads_keep_their_relation_to_the_heads(kv: int, expected: int) -> None:
    small, _ = shrink({"hidden_size": 4096, "num_attention_heads": 32,
                       "num_key_value_heads": kv, "num_hidden_layers": 32})
    assert small["num_key_value_heads"] == expected


def test_small_configs_are_left_small() -> None:
    cfg = {"hidden_size": 64, "num_attention_heads": 2, "num_hidden_layers": 1,
           "vocab_size": 500, "intermediate_size": 100}
    small, changed = shrink(cfg)
    assert small == cfg and changed == 0


def test_overlay_copies_only_the_named_keys_where_both_have_them() -> None:
    target = {"image_token_id": 1004, "hidden_size": 128,
              "vision_config": {"patch_size": 16, "image_size": 64, "depth": 2}}
    recipe = {"image_token_id": 1000, "hidden_size": 64, "extra": 1,
              "vision_config": {"patch_size": 14, "image_size": 56, "depth": 4}}
    overlay(target, recipe, frozenset({"image_token_id", "patch_size", "image_size", "extra"}))
    assert target == {"image_token_id": 1000, "hidden_size": 128,
                      "vision_config": {"patch_size": 14, "image_size": 56, "depth": 2}}


GLM_TEXT = {"hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 2,
            "num_hidden_layers": 40, "model_type": "glm4v_text",
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                "partial_rotary_factor": 0.5}}
GLM_VISION = {"hidden_size": 1536, "depth": 24, "num_heads": 12, "model_type": "glm4v",
              "rope_parameters": {"rope_type": "axial", "rope_theta": 10000.0}}


def test_sections_left_to_the_modeling_default_are_written_out_and_rescaled() -> None:
    """GLM-4.1V: the text config leaves mrope_section to modeling_glm4v's default [8, 12, 12]
    (sum 32 = head_dim 128 x partial_rotary_factor 0.5 / 2); at head_dim 32 it must add up
    to 8, or the toy model fails in transformers' rotary code for the probe's own reason."""
    cfg = {"model_type": "glm4v", "text_config": dict(GLM_TEXT),
           "vision_config": dict(GLM_VISION)}
    small, _ = shrink(cfg, layers=2, rope_defaults={"mrope_section": [8, 12, 12]})
    text = small["text_config"]
    assert text["hidden_size"] // text["num_attention_heads"] == 32
    assert text["rope_parameters"]["mrope_section"] == [2, 3, 3]
    assert "mrope_section" not in small["vision_config"]["rope_parameters"]
    assert "mrope_section" not in cfg["text_config"]["rope_parameters"]
    stated = {**GLM_TEXT, "rope_parameters": {**GLM_TEXT["rope_parameters"],
                                              "mrope_section": [16, 24, 24]}}
    small, _ = shrink(stated, layers=2, rope_defaults={"mrope_section": [8, 12, 12]})
    assert small["rope_parameters"]["mrope_section"] == [4, 6, 6]  # stated ones win
    small, _ = shrink(dict(GLM_TEXT), layers=2)
    assert "mrope_section" not in small["rope_parameters"]  # no default known: none made up


def test_rope_defaults_are_read_from_the_modeling_source() -> None:
    assert rope_defaults_in(
        'self.mrope_section = config.rope_parameters.get("mrope_section", [8, 12, 12])\n'
    ) == {"mrope_section": [8, 12, 12]}
    assert rope_defaults_in("self.mrope_section = config.rope_scaling['mrope_section']") == {}
    try:
        import transformers.models.glm4v.modeling_glm4v as glm
    except ImportError:
        return
    with open(str(glm.__file__), encoding="utf-8") as handle:
        assert rope_defaults_in(handle.read()) == {"mrope_section": [8, 12, 12]}


def test_parts_of_a_head_keep_their_share_of_the_head_dim() -> None:
    """GPT-J's rotary_dim 64 of head_dim 256 and MLA's rope/nope/value widths would exceed
    a 32-wide toy head if left alone: each keeps its share, even."""
    gptj, _ = shrink({"n_embd": 4096, "n_head": 16, "rotary_dim": 64, "n_layer": 28})
    assert (gptj["n_embd"] // gptj["n_head"], gptj["rotary_dim"]) == (32, 8)
    mla, _ = shrink({"hidden_size": 5120, "num_attention_heads": 128, "head_dim": 192,
                     "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128})
    assert (mla["head_dim"], mla["qk_rope_head_dim"], mla["qk_nope_head_dim"],
            mla["v_head_dim"]) == (32, 10, 20, 20)
