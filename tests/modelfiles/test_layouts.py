"""Header-only directories with real checkpoints' layouts: counts equal the published
totals, configs that leave values to the release's defaults are sized, quantised layouts
give the logical count, and the planner sees the geometry the files imply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.modelfiles import layouts as L
from vlmdoctor.modelfiles.card import card_from_facts
from vlmdoctor.modelfiles.facts import ModelFacts
from vlmdoctor.modelfiles.locate import locate
from vlmdoctor.modelfiles.read import read_model


def read(root: Path) -> ModelFacts:
    source = locate(str(root))
    assert source is not None
    return read_model(source)


# Published totals: the checkpoints' model.safetensors.index.json metadata.total_size / 2
# (16-bit weights). LLaVA-1.5-7B: 7,063,427,072 (LlavaForConditionalGeneration parameter
# count from llava-hf/llava-1.5-7b-hf's config, as counted in public code and benchmarks).
# Gemma-3-4B, LLaVA-OneVision-0.5B and PaliGemma2-3B-448 without the SigLIP pooling head
# (issue 15 §4; vision_use_head: false in their configs).
@pytest.mark.parametrize(("name", "config", "layout", "params"), [
    ("gemma-3-4b-it", L.GEMMA3_4B_CONFIG, L.gemma3_4b,
     {"vision": 416_866_032, "projector": 2_950_272, "language": 3_880_263_168,
      "total": 4_300_079_472}),
    # google/medgemma-27b-it index total_size 54,864,813,280 bytes (bf16).
    ("gemma-3-27b-it", L.GEMMA3_27B_CONFIG, L.gemma3_27b,
     {"vision": 416_866_032, "projector": 6_194_304, "language": 27_009_346_304,
      "total": 27_432_406_640}),
    ("llava-1.5-7b-hf", L.LLAVA15_CONFIG, L.llava15_7b,
     {"vision": 303_507_456, "projector": 20_979_712, "language": 6_738_939_904,
      "total": 7_063_427_072}),
    ("llava-onevision-qwen2-0.5b-ov-hf", L.ONEVISION_05B_CONFIG, L.onevision_05b,
     {"vision": 397_747_744, "projector": 1_837_696, "language": 493_773_824,
      "total": 893_359_264}),
    ("paligemma2-3b-pt-448", L.PALIGEMMA2_448_CONFIG, L.paligemma2_3b_448,
     {"vision": 413_327_088, "projector": 2_656_512, "language": 2_617_143_552,
      "total": 3_033_127_152}),
    # Qwen2.5-VL-7B-Instruct: 8,292,166,656 (the Hub's numParameters); its visual module
    # (tower + merger) is 676,550,144.
    ("qwen2.5-vl-7b-instruct", L.QWEN25_VL_7B_CONFIG, L.qwen25_vl_7b,
     {"vision": 631_975_680, "projector": 44_574_464, "language": 7_615_616_512,
      "total": 8_292_166_656}),
])
def test_counts_equal_the_published_totals(tmp_path: Path, name: str, config: dict[str, Any],
                                           layout: Any, params: dict[str, int]) -> None:
    facts = read(L.write_dir(tmp_path / name, config, layout()))
    assert dict(facts.params) == params


def test_gemma3_geometry_left_to_the_release_defaults_is_filled(tmp_path: Path) -> None:
    """google/gemma-3-4b-it's text_config has no heads, KV heads, head_dim or vocab: they are
    Gemma3TextConfig's defaults in transformers 4.50.0 (the .dev0 it was saved with)."""
    facts = read(L.write_dir(tmp_path / "g", L.GEMMA3_4B_CONFIG, L.gemma3_4b()))
    assert facts.defaults_release == "4.50.0"
    g = facts.geometry
    assert (g["num_attention_heads"], g["num_kv_heads"], g["head_dim"], g["vocab_size"],
            g["max_context"], g["tie_word_embeddings"]) == (8, 4, 256, 262208, 131072, True)
    assert facts.config_defaults["text_config.num_key_value_heads"] == 4
    assert "text_config.hidden_size" not in facts.config_defaults  # the file states it
    card = card_from_facts(facts, "g", None)
    assert card.architecture.num_kv_heads == 4 and card.architecture.head_dim == 256
    assert "transformers 4.50.0's config-class defaults" in (card.architecture.source or "")


def test_llava15_text_config_takes_llama_defaults(tmp_path: Path) -> None:
    """The KV cache was counted 0 for LLaVA-1.5 (issue 16): LlamaConfig's 32 layers,
    4096 hidden, 32 heads (KV heads = heads) and 11008 MLP fill the gaps."""
    facts = read(L.write_dir(tmp_path / "l", L.LLAVA15_CONFIG, L.llava15_7b(),
                             L.LLAVA15_PREPROCESSOR))
    g = facts.geometry
    assert (g["lm_layers"], g["hidden_size"], g["num_attention_heads"], g["num_kv_heads"],
            g["head_dim"], g["intermediate_size"]) == (32, 4096, 32, 32, 128, 11008)
    assert g["max_context"] == 4096 and g["vocab_size"] == 32064  # stated in the file


def test_remote_code_model_type_gets_no_defaults(tmp_path: Path) -> None:
    cfg = {**L.LLAVA15_CONFIG, "auto_map": {"AutoModel": "modeling_x.X"}, "model_type": "fuyu",
           "text_config": {"model_type": "acme_text"}}
    facts = read(L.write_dir(tmp_path / "r", cfg, L.gemma3_4b()))
    assert "lm_layers" not in facts.geometry and "num_kv_heads" not in facts.geometry
    card = card_from_facts(facts, "r", None)
    assert card.architecture.lm_layers is None  # unknown, never 0


def test_release_older_than_the_data_fills_nothing(tmp_path: Path) -> None:
    cfg = {**L.LLAVA15_CONFIG, "transformers_version": "4.29.2"}
    facts = read(L.write_dir(tmp_path / "old", cfg, L.llava15_7b()))
    assert facts.defaults_release is None and facts.config_defaults == {}
    assert "lm_layers" not in facts.geometry


@pytest.mark.parametrize("method", ["awq", "gptq", "nf4", "fp8", "w4a16"])
def test_quantised_layouts_give_the_logical_count(tmp_path: Path, method: str) -> None:
    cfg = {**L.LLAVA15_CONFIG, "quantization_config": L.QUANT_CONFIGS[method]}
    facts = read(L.write_dir(tmp_path / method, cfg, L.llava15_7b(
        quantise=L.QUANTISERS[method])))
    assert abs(facts.params["total"] - 7_063_427_072) <= 7_063_427_072 // 100
    # exact: scales, zero points, g_idx and the 4-bit state are not parameters
    assert facts.params["total"] == 7_063_427_072
    assert facts.params["vision"] == 303_507_456  # left unquantised
    card = card_from_facts(facts, method, None)
    assert card.params.total == facts.params["total"]
    assert f"logical counts of the {L.QUANT_CONFIGS[method]['quant_method']} packing" in (
        card.params.source or "")


def test_quantised_storage_bytes(tmp_path: Path) -> None:
    """The stored bytes stay the headers' (fp8 one byte a weight, int4 half a byte)."""
    base = read(L.write_dir(tmp_path / "f16", L.LLAVA15_CONFIG, L.llava15_7b()))
    cfg = {**L.LLAVA15_CONFIG, "quantization_config": L.QUANT_CONFIGS["fp8"]}
    fp8 = read(L.write_dir(tmp_path / "fp8", cfg, L.llava15_7b(quantise=L.fp8)))
    linears = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)
    scales = 32 * 4 * (4 * 32 * 32 + 3 * 86 * 32)  # float32 128x128 block scales
    assert base.weight_bytes == 2 * 7_063_427_072
    assert fp8.weight_bytes == base.weight_bytes - linears + scales
    cfg = {**L.LLAVA15_CONFIG, "quantization_config": L.QUANT_CONFIGS["awq"]}
    awq = read(L.write_dir(tmp_path / "awq", cfg, L.llava15_7b(quantise=L.awq_gemm)))
    assert awq.storage_bytes["language"] < base.storage_bytes["language"] * 0.6
    assert awq.storage_bytes["vision"] == base.storage_bytes["vision"] == 2 * 303_507_456


@pytest.mark.parametrize(("method", "dtype"), [("awq", "int4"), ("gptq", "int4"),
                                               ("nf4", "int4"), ("fp8", "int8"),
                                               ("w4a16", "int4")])
def test_plan_of_a_quantised_directory_weighs_what_is_stored(tmp_path: Path, method: str,
                                                             dtype: str) -> None:
    """Sized (not "the card gives no size"), in the packing's precision, within 10 % of the
    bytes the headers give; an fp16 plan of the same count would be 1.5-3x that."""
    import json

    from tests.cli.test_cli import run

    cfg = {**L.LLAVA15_CONFIG, "quantization_config": L.QUANT_CONFIGS[method]}
    root = L.write_dir(tmp_path / method, cfg, L.llava15_7b(quantise=L.QUANTISERS[method]))
    stored = read(root).weight_bytes or 0
    gpu = "1xH100" if method == "fp8" else "1xA100-80GB"  # FP8 below 8.9: dequantised to bf16
    code, out, _ = run("plan", "--model", str(root), "--gpus", gpu, "--format", "json")
    plan = json.loads(out)
    assert code == 0 and plan["sized"] and plan["dtype"] == dtype
    weights = plan["per_gpu"][0]["weights_bytes"]
    assert abs(weights - stored) <= stored // 10, (weights, stored)
    code, out, _ = run("plan", "--model", str(root), "--gpus", "1xA100-80GB", "--dtype", "fp16",
                       "--format", "json")
    assert json.loads(out)["dtype"] == "fp16"  # an explicit --dtype is kept


def test_florence2_bart_decoder_geometry(tmp_path: Path) -> None:
    """Florence-2-large's language model is BART-style: the decoder's layers and heads hold
    the KV cache (config.json text_config of microsoft/Florence-2-large)."""
    cfg = {"model_type": "florence2", "auto_map": {"AutoModelForCausalLM": "m.F"},
           "text_config": {"model_type": "florence2_language", "d_model": 1024,
                           "decoder_layers": 12, "decoder_attention_heads": 16,
                           "decoder_ffn_dim": 4096, "encoder_layers": 12,
                           "encoder_attention_heads": 16, "vocab_size": 51289,
                           "max_position_embeddings": 1024}}
    facts = read(L.write_dir(tmp_path / "f", cfg, {"lm_head.weight": ("F16", [51289, 1024])}))
    g = facts.geometry
    assert (g["lm_layers"], g["hidden_size"], g["num_attention_heads"], g["num_kv_heads"],
            g["head_dim"], g["intermediate_size"]) == (12, 1024, 16, 16, 64, 4096)


def test_flat_config_keeps_its_top_level_language_model(tmp_path: Path) -> None:
    """A Qwen2.5-VL config saved flat (the language model at the top level), read with a
    release whose Qwen2_5_VLConfig has a text_config: no text_config is made up from the
    class defaults (80 layers, hidden 8192); the file's own values stand."""
    cfg = {"model_type": "qwen2_5_vl", "transformers_version": "4.57.1",
           "hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36,
           "num_attention_heads": 16, "num_key_value_heads": 2, "vocab_size": 151936,
           "max_position_embeddings": 128000, "tie_word_embeddings": True,
           "vision_config": {"depth": 32, "hidden_size": 1280, "out_hidden_size": 2048,
                             "num_heads": 16, "patch_size": 14, "spatial_merge_size": 2}}
    facts = read(L.write_dir(tmp_path / "q", cfg, {"lm_head.weight": ("BF16", [8, 8])}))
    g = facts.geometry
    assert (g["lm_layers"], g["hidden_size"], g["num_kv_heads"], g["vision_hidden_size"]) == (
        36, 2048, 2, 1280)
    assert not any(k.startswith("text_config.") for k in facts.config_defaults)


def _replayed_plan(tmp_path: Path, facts: dict[str, Any], dtype: str) -> dict[str, Any]:
    import json

    from tests.conftest import environment, make_knowledge
    from vlmdoctor.doctor import CheckRequest, run_check
    from vlmdoctor.reportfile import read_saved
    from vlmdoctor.stages import planning

    report = {"schema_version": 1, "environment": environment("a100-cu124"),
              "target": {"model": "/m", "dtype": dtype, "model_facts": facts,
                         "source": {"kind": "directory", "path": "/m"}}}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    knowledge = make_knowledge()
    result = run_check(CheckRequest(from_report=str(path)), knowledge,
                       saved=read_saved(str(path)), plan_stage=planning(knowledge))
    assert result.plan is not None
    plan: dict[str, Any] = result.plan.to_dict()
    return plan


def test_check_plans_a_saved_quantised_directory_in_its_precision(tmp_path: Path) -> None:
    cfg = {**L.LLAVA15_CONFIG, "quantization_config": L.QUANT_CONFIGS["gptq"]}
    facts = read(L.write_dir(tmp_path / "gptq", cfg, L.llava15_7b(quantise=L.gptq)))
    assert _replayed_plan(tmp_path, facts.to_dict(), "auto")["dtype"] == "int4"
    assert _replayed_plan(tmp_path, facts.to_dict(), "fp16")["dtype"] == "fp16"


def test_report_from_before_image_kinds_keeps_its_pixel_budget(tmp_path: Path) -> None:
    """Saved facts without images.kind (older reports): still a Qwen pixel budget."""
    facts = read(L.write_dir(tmp_path / "l", L.LLAVA15_CONFIG, L.llava15_7b())).to_dict()
    facts["images"] = {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14,
                       "merge_size": 2}
    plan = _replayed_plan(tmp_path, facts, "fp16")
    assert any("12,845,056 pixels / 784 per token = 16,384 visual tokens" in n
               for n in plan["notes"]), plan["notes"]


def test_qwen25_vl_awq_directory(tmp_path: Path) -> None:
    """Qwen/Qwen2.5-VL-7B-Instruct-AWQ's layout: AWQ GEMM decoder, 16-bit visual module."""
    cfg = {**L.QWEN25_VL_7B_CONFIG, "torch_dtype": "float16",
           "quantization_config": L.QUANT_CONFIGS["awq"]}
    facts = read(L.write_dir(tmp_path / "awq", cfg, L.qwen25_vl_7b(quantise=L.awq_gemm),
                             L.QWEN25_VL_PREPROCESSOR))
    assert dict(facts.params) == {"vision": 631_975_680, "projector": 44_574_464,
                                  "language": 7_615_616_512, "total": 8_292_166_656}
    images = card_from_facts(facts, "q", None).images
    assert images is not None and images.pixels_per_token == 784 and images.patch_size == 14


@pytest.mark.parametrize("quant", [
    {"quant_method": "awq", "w_bit": 4, "q_group_size": 128, "version": "gemm"},  # AutoAWQ's
    {"quant_method": "gptq", "group_size": 128},  # no bits: GPTQ's default 4
])
def test_bits_under_other_names_or_left_to_the_default(tmp_path: Path,
                                                       quant: dict[str, Any]) -> None:
    quantise = L.awq_gemm if quant["quant_method"] == "awq" else L.gptq
    cfg = {**L.LLAVA15_CONFIG, "quantization_config": quant}
    facts = read(L.write_dir(tmp_path / "q", cfg, L.llava15_7b(quantise=quantise)))
    assert facts.params["total"] == 7_063_427_072
