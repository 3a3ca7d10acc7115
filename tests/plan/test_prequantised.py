"""Pre-quantised checkpoints (config.json ``quantization_config``) are planned as stored.

The model directories are built here: Qwen/Qwen2.5-VL-7B-Instruct's config and tensor
layout, its decoder's Linear layers packed the way AutoAWQ, GPTQ and fine-grained FP8 store
them (``tests.modelfiles.layouts``), written as safetensors headers with no tensor data
after them (the reader never reads past the header). Nothing comes from the hub.

Expected bytes, from the shapes (H 3584, MLP I 18944, vocab V 152064, 28 layers, 4 KV
heads x 128 = 512):

- vision tower and merger, bf16, never quantised: patch_embed 1280*3*2*14*14 = 1,505,280;
  32 blocks of 19,702,200 (norms 2*1280, qkv 3840*1280+3840, proj 1280*1280+1280, gate
  and up 3420*1280+3420 each, down 1280*3420+1280) = 630,470,400; merger 1280 +
  (5120*5120+5120) + (3584*5120+3584) = 44,574,464; 676,550,144 params x 2 = 1,353,100,288 B.
- language model parts left 16-bit: embed_tokens and lm_head 2*V*H = 1,089,994,752, final
  norm H, per layer two norms 2*H and the q/k/v biases H+512+512: 1,090,328,064 params x 2
  = 2,180,656,128 B.
- the seven Linear weights per layer (out x in): q and o H*H, k and v 512*H, gate and up
  I*H, down H*I = 233,046,016 weights; x 28 layers = 6,525,288,448 weights.
  - AWQ GEMM 4-bit, group 128: qweight int32 [in, out/8] = in*out/2 B, qzeros int32
    [in/128, out/8] = in*out/256 B, scales fp16 [in/128, out] = in*out/64 B: 133/256 B a
    weight -> 6,525,288,448 * 133/256 = 3,390,091,264 B.
  - GPTQ 4-bit, group 128: the same three, plus g_idx int32 [in] per Linear: 4 * (6*H + I)
    = 161,792 B per layer -> 4,530,176 B.
  - FP8: one byte a weight (6,525,288,448 B) plus an fp32 weight_scale_inv per 128x128
    block: per layer 28*28 (q) + 4*28 (k) + 4*28 (v) + 28*28 (o) + 3 * 148*28 (MLP) =
    14,224 blocks x 4 B, x 28 layers = 1,593,088 B.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.modelfiles import layouts as L
from vlmdoctor.modelfiles import config as cfgmod
from vlmdoctor.modelfiles.facts import ModelFacts
from vlmdoctor.modelfiles.read import read_model
from vlmdoctor.plan.checkpoint import Checkpoint, checkpoint_of, quantised_rate

VISION_BYTES = 1_353_100_288
LM_16BIT_BYTES = 2_180_656_128
AWQ_BYTES = VISION_BYTES + LM_16BIT_BYTES + 3_390_091_264  # = 6,923,847,680
GPTQ_BYTES = AWQ_BYTES + 4_530_176  # = 6,928,377,856
FP8_BYTES = VISION_BYTES + LM_16BIT_BYTES + 6_525_288_448 + 1_593_088  # = 10,060,637,952
BF16_BYTES = 2 * (676_550_144 + 1_090_328_064 + 6_525_288_448)  # = 16,584,333,312
# A workload that keeps the numbers small: 4096 tokens, one image of 1280 visual tokens.
WORKLOAD = ("--context", "4096", "--max-pixels", "1003520", "--format", "json")

QUANT = {
    "awq": {**L.QUANT_CONFIGS["awq"], "modules_to_not_convert": ["visual"]},  # as the
    # Qwen2.5-VL-7B-Instruct-AWQ config.json states
    "gptq": L.QUANT_CONFIGS["gptq"],
    "fp8": L.QUANT_CONFIGS["fp8"],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("prequantised")
    out = {}
    for method, quant in QUANT.items():
        cfg = {**L.QWEN25_VL_7B_CONFIG, "quantization_config": quant}
        out[method] = L.write_dir(root / method, cfg, L.qwen25_vl_7b(quantise=L.QUANTISERS[method]),
                                  L.QWEN25_VL_PREPROCESSOR)
    return out


def plan(model: Path, gpus: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("plan", "--model", str(model), "--gpus", gpus, *WORKLOAD, *extra)
    assert err == "" or "Traceback" not in err
    data: dict[str, Any] = json.loads(out)
    return code, data


def _bitsandbytes(data: dict[str, Any]) -> list[str]:
    texts = [o["summary"] for o in data.get("options", [])] + list(data.get("notes", []))
    return [t for t in texts if "bitsandbytes" in t]


@pytest.mark.parametrize(("method", "label", "weights", "dtype"), [
    ("awq", "AWQ 4-bit (group 128)", AWQ_BYTES, "int4"),
    ("gptq", "GPTQ 4-bit (group 128)", GPTQ_BYTES, "int4"),
])
def test_4bit_checkpoint_weighs_its_headers_and_fits_a_t4(models: dict[str, Path], method: str,
                                                          label: str, weights: int,
                                                          dtype: str) -> None:
    """On a 16 GiB T4 the 4-bit checkpoint fits as stored, with exactly the headers' bytes;
    the same model in 16-bit (what the planner used to assume) does not."""
    code, data = plan(models[method], "T4")
    assert (code, data["fits"], data["dtype"], data["checkpoint"]) == (0, True, dtype, label)
    assert data["per_gpu"][0]["weights_bytes"] == weights
    assert f"{label} checkpoint: weights {weights:,} bytes, as its safetensors headers store " \
           "them (the packed 4-bit weights with their scales and zero points); embeddings, " \
           "lm_head and norms 16-bit; the vision tower and projector 16-bit" in \
           " | ".join(data["notes"])
    assert data["options"] == [] and _bitsandbytes(data) == []
    assert not any("compute capability" in n for n in data["notes"])  # T4 is 7.5: AWQ runs


def test_awq_names_what_the_config_keeps_16bit(models: dict[str, Path]) -> None:
    _, data = plan(models["awq"], "T4")
    assert any(n.endswith("the vision tower and projector 16-bit; modules_to_not_convert: "
                          "visual") for n in data["notes"]), data["notes"]


def test_awq_text_headline_and_no_bitsandbytes(models: dict[str, Path]) -> None:
    code, out, _ = run("plan", "--model", str(models["awq"]), "--gpus", "T4",
                       "--context", "4096", "--max-pixels", "1003520")
    assert code == 0
    assert out.splitlines()[0].startswith(
        f"Plan: {models['awq']} in AWQ 4-bit (group 128) as stored on 1 GPU(s): fits")
    assert "bitsandbytes" not in out and "Verdict: FITS (exit 0" in out


def test_16bit_plan_of_the_same_model_does_not_fit_the_t4(models: dict[str, Path]) -> None:
    """--dtype fp16 on a GPTQ checkpoint is the compute dtype: still as stored. Only the
    dense 16-bit model (FP8 dequantised here) needs the 16,584,333,312 bytes a T4 lacks."""
    code, data = plan(models["gptq"], "T4", "--dtype", "fp16")
    assert (code, data["dtype"], data["checkpoint"]) == (0, "fp16", "GPTQ 4-bit (group 128)")
    assert data["per_gpu"][0]["weights_bytes"] == GPTQ_BYTES
    assert "--dtype fp16 is the compute dtype: the GPTQ weights stay as stored " \
           "(transformers' quantizer takes the dtype for the unquantised modules and " \
           "activations only)" in data["notes"]
    code, data = plan(models["fp8"], "T4", "--dtype", "fp16")
    assert (code, data["fits"], data["dtype"]) == (1, False, "fp16")
    assert "checkpoint" not in data
    assert data["per_gpu"][0]["weights_bytes"] == BF16_BYTES
    assert _bitsandbytes(data) == []


def test_fp8_checkpoint_as_stored_on_an_l4(models: dict[str, Path]) -> None:
    """L4 is compute capability 8.9, FP8's floor: the FP8 bytes, not a bitsandbytes int8."""
    code, data = plan(models["fp8"], "L4")
    assert (code, data["fits"], data["dtype"], data["checkpoint"]) == (
        0, True, "int8", "FP8 (128x128 blocks)")
    assert data["per_gpu"][0]["weights_bytes"] == FP8_BYTES
    assert f"FP8 (128x128 blocks) checkpoint: weights {FP8_BYTES:,} bytes, as its " \
           "safetensors headers store them (the FP8 weights with their scales); embeddings, " \
           "lm_head and norms 16-bit; the vision tower and projector 16-bit" in data["notes"]
    assert _bitsandbytes(data) == []


def test_fp8_below_89_is_planned_dequantised(models: dict[str, Path]) -> None:
    """transformers dequantises FP8 to bf16 below 8.9 (quantizer_finegrained_fp8.py): on an
    A10 (8.6, 24 GiB) the plan is the bf16 size, and says why."""
    code, data = plan(models["fp8"], "A10")
    assert (code, data["fits"]) == (0, True)
    assert (data["dtype"], data["per_gpu"][0]["weights_bytes"]) == ("bf16", BF16_BYTES)
    assert "checkpoint" not in data
    assert "planned dequantised to bf16: transformers dequantises the FP8 (128x128 blocks) " \
           "checkpoint to bf16 on load below compute capability 8.9 (GPU 0 (A10, 8.6)), " \
           "twice its stored size; on GPUs of 8.9 or newer it stays FP8" in data["notes"]
    assert _bitsandbytes(data) == []


def test_fp8_that_does_not_fit_is_offered_only_gpus_its_kernels_run_on(
        models: dict[str, Path]) -> None:
    """Too long a context for one L4: a larger GPU is offered, but none below 8.9 (an A40 or
    A6000 would dequantise it); no bitsandbytes re-quantisation, no dtype option."""
    code, data = plan(models["fp8"], "L4", "--context", "150000")
    assert code == 1 or not data["fits"]
    kinds = [o["kind"] for o in data["options"]]
    assert "dtype" not in kinds and _bitsandbytes(data) == []
    larger = [o["value"] for o in data["options"] if o["kind"] == "larger-gpus"]
    assert larger == ["1xL40"], data["options"]


def test_a_quantised_dtype_does_not_requantise(models: dict[str, Path]) -> None:
    code, data = plan(models["awq"], "T4", "--dtype", "int8")
    assert (code, data["dtype"], data["per_gpu"][0]["weights_bytes"]) == (0, "int4", AWQ_BYTES)
    assert "--dtype int8 not applied: the checkpoint is already AWQ 4-bit (group 128); " \
           "transformers loads it as stored and does not re-quantise it with bitsandbytes" \
           in data["notes"]


def test_awq_on_a_v100_says_its_kernels_need_75(models: dict[str, Path]) -> None:
    _, data = plan(models["awq"], "V100-16GB")
    assert any(n.startswith("GPU 0 (V100-16GB, compute capability 7.0) is below the 7.5 the "
                            "AWQ kernels need: ") for n in data["notes"]), data["notes"]


def test_dequantised_fp8_is_offered_as_stored_not_bitsandbytes(models: dict[str, Path]) -> None:
    """An FP8 checkpoint planned in bf16 on an H100 (as --dtype bf16 asks) does not fit a
    tight budget; the option is the checkpoint as stored, never bitsandbytes int8/int4."""
    code, data = plan(models["fp8"], "1x16GiB", "--dtype", "bf16")
    assert (code, data["fits"]) == (1, False)
    dtype = [o for o in data["options"] if o["kind"] == "dtype"]
    assert [(o["value"], o["supported"]) for o in dtype] == [("int8", None)]
    assert dtype[0]["summary"] == ("load the FP8 (128x128 blocks) checkpoint as stored, not "
                                   "dequantised (no --dtype; needs compute capability >= 8.9: "
                                   "GPU support unknown)")
    assert _bitsandbytes(data) == []
    # 11 GiB: even as stored (11.24 GiB at 4096 tokens) it needs a shorter context too
    _, data = plan(models["fp8"], "1x11GiB", "--dtype", "bf16")
    dtype = [o for o in data["options"] if o["kind"] == "dtype"]
    assert [o["summary"] for o in dtype] == [
        "load the FP8 (128x128 blocks) checkpoint as stored, not dequantised (no --dtype and "
        "--context 2816; needs compute capability >= 8.9: GPU support unknown)"]


def test_split_across_two_gpus_gives_each_layer_its_stored_bytes(models: dict[str, Path]) -> None:
    """With a device map (a curated card's placement), each decoder layer weighs what is left
    of the language model's stored bytes after the 16-bit embeddings, head and norm:
    (2,180,656,128 + 3,390,091,264 - 2 * 1,089,994,752 - 7,168) / 28 = 121,098,240 B
    (= 3,390,091,264 / 28 packed + 11,776 norm and bias params x 2 B)."""
    from vlmdoctor.knowledge.cards import Placement
    from vlmdoctor.modelfiles.card import card_from_facts
    from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus
    from vlmdoctor.record import replace as with_fields

    facts = read_model(_source(models["awq"]))
    card = with_fields(card_from_facts(facts, "awq", None), placement=Placement(layers="model.layers"))
    result = make_plan(PlanRequest(card=card, gpus=parse_gpus("2x8GiB"),
                                   checkpoint=checkpoint_of(facts), context=4096,
                                   max_pixels=1003520))
    on_1 = sum(1 for name, gpu in result.device_map.items()
               if name.startswith("model.layers.") and gpu == 1)
    assert 0 < on_1 < 28 and result.checkpoint == "AWQ 4-bit (group 128)"
    assert result.per_gpu[1].weights_bytes == on_1 * 121_098_240 + 1_089_994_752 + 7_168
    assert sum(u.weights_bytes for u in result.per_gpu) == AWQ_BYTES


def test_vllm_uses_the_same_weight_bytes(models: dict[str, Path]) -> None:
    code, out, _ = run("plan", "--model", str(models["awq"]), "--gpus", "T4", "--engine",
                       "vllm", "--max-model-len", "4096", "--format", "json")
    data = json.loads(out)
    assert data["per_rank"]["weights_bytes"] == AWQ_BYTES
    assert (f"weights: the AWQ 4-bit (group 128) checkpoint as stored ({AWQ_BYTES:,} bytes "
            "before tensor parallelism)") in data["notes"]
    assert (code, data["starts"]) == (0, True)
    code, out, _ = run("plan", "--model", str(models["fp8"]), "--gpus", "2xA100-80GB",
                       "--engine", "vllm", "--tensor-parallel-size", "2",
                       "--max-model-len", "4096", "--format", "json")
    # vLLM runs FP8 weight-only (Marlin) on Ampere: stored bytes, halved by TP 2.
    data = json.loads(out)
    assert (code, data["per_rank"]["weights_bytes"]) == (0, FP8_BYTES // 2)


def test_checkpoint_of_reads_method_bits_group_and_kept_modules() -> None:
    def of(quant: dict[str, Any]) -> Checkpoint | None:
        return checkpoint_of(ModelFacts(quantization=cfgmod.quantization(
            {"quantization_config": quant})))

    awq = of({"quant_method": "awq", "w_bit": 4, "q_group_size": 64, "version": "gemm",
              "modules_to_not_convert": ["visual", "lm_head"]})
    assert awq is not None and (awq.label, awq.dtype, awq.min_cc, awq.not_converted) == (
        "AWQ 4-bit (group 64)", "int4", "7.5", ("visual", "lm_head"))
    gptq = of({"quant_method": "gptq", "bits": 8, "group_size": -1})
    assert gptq is not None and (gptq.label, gptq.dtype, gptq.group_size) == (
        "GPTQ 8-bit", "int8", None)
    fp8 = of({"quant_method": "fp8", "weight_block_size": [128, 128]})
    assert fp8 is not None and (fp8.label, fp8.group_size, fp8.dequantised_below) == (
        "FP8 (128x128 blocks)", 16384, "8.9")
    w4 = of(L.QUANT_CONFIGS["w4a16"])
    assert w4 is not None and (w4.label, w4.not_converted) == (
        "compressed-tensors 4-bit (group 128)", ("lm_head",))
    assert (awq.dequantised_below, gptq.dequantised_below) == (None, None)
    nf4 = of(L.QUANT_CONFIGS["nf4"])
    assert nf4 is not None and (nf4.label, nf4.bits) == ("bitsandbytes NF4 4-bit", 4)
    int8 = of({"quant_method": "bitsandbytes", "load_in_8bit": True})
    assert int8 is not None and (int8.label, int8.dtype, int8.min_cc) == (
        "bitsandbytes 8-bit", "int8", "7.5")
    ct8 = of({"quant_method": "compressed-tensors", "config_groups": {"group_0": {
        "weights": {"num_bits": 8, "type": "float", "strategy": "channel"}}}})
    assert ct8 is not None and (ct8.label, ct8.dtype, ct8.parts) == (
        "FP8 (compressed-tensors)", "int8", "the FP8 weights with their scales")
    assert of({"quant_method": "hqq", "nbits": 4}) is None  # unknown packing: as before
    three = of({"quant_method": "gptq", "bits": 3, "group_size": 128})
    assert three is not None and (three.label, three.dtype, three.bits) == (
        "GPTQ 3-bit (group 128)", "int4", 3)
    assert quantised_rate(three, 3584) == 3 / 8 + (2 + 3 / 8) / 128
    assert checkpoint_of(None) is None and checkpoint_of(ModelFacts()) is None


def test_rate_without_headers_follows_bits_and_group() -> None:
    """Scale (2 B) and packed zero point (bits/8 B) per group; FP8 one fp32 per block."""
    def ckpt(method: str, bits: int, group: int | None) -> Checkpoint:
        return Checkpoint(method, "int4" if bits == 4 else "int8", bits, group, "x")

    assert quantised_rate(ckpt("awq", 4, 128), 3584) == 0.5 + 2.5 / 128  # 0.51953125
    assert quantised_rate(ckpt("gptq", 8, 32), 3584) == 1 + 3 / 32
    assert quantised_rate(ckpt("gptq", 4, None), 4096) == 0.5 + 2.5 / 4096  # per channel
    assert quantised_rate(ckpt("fp8", 8, 128 * 128), 3584) == 1 + 4 / 16384
    assert quantised_rate(ckpt("fp8", 8, None), 3584) == 1.0


def test_saved_facts_without_storage_bytes_are_estimated(models: dict[str, Path]) -> None:
    """A report written before storage_bytes existed: the weights come from bits and group
    (AWQ g128: 133/256 B a decoder weight, the 16-bit parts at 2 B), within 0.1 % of the
    headers' exact bytes."""
    from vlmdoctor.modelfiles.card import card_from_facts
    from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus

    facts = read_model(_source(models["awq"]))
    old = ModelFacts.from_dict({k: v for k, v in facts.to_dict().items()
                                if k != "storage_bytes"})
    card = card_from_facts(old, "awq", None)
    ckpt = checkpoint_of(old)
    assert ckpt is not None and ckpt.stored == {}
    result = make_plan(PlanRequest(card=card, gpus=parse_gpus("T4"), checkpoint=ckpt,
                                   context=4096, max_pixels=1003520))
    weights = result.per_gpu[0].weights_bytes
    assert abs(weights - AWQ_BYTES) < AWQ_BYTES // 1000, weights
    assert any("bytes estimated (no safetensors headers to read): 0.5195 bytes per quantised "
               "weight, 4 bits plus its group's scale and zero point" in n for n in result.notes)


def _source(root: Path) -> Any:
    from vlmdoctor.modelfiles.locate import ModelSource

    return ModelSource(kind="directory", path=str(root), local=root)


def _awq_card_and_facts(models: dict[str, Path]) -> tuple[Any, ModelFacts]:
    from vlmdoctor.modelfiles.card import card_from_facts

    facts = read_model(_source(models["awq"]))
    return card_from_facts(facts, "awq", None), facts


def test_stored_bytes_win_over_any_split_that_does_not_add_up(models: dict[str, Path]) -> None:
    """Headers smaller than the 16-bit embeddings and head (those are quantised too): the
    language model's stored bytes are kept whole, not made negative."""
    from vlmdoctor.plan.stored import stored_weights
    from vlmdoctor.plan.weights import components

    card, facts = _awq_card_and_facts(models)
    comp = components(card)
    assert comp is not None
    ckpt = checkpoint_of(facts)
    assert ckpt is not None
    small = stored_weights(card, comp, replace(ckpt, stored={"vision": 1_000, "language": 5_000}))
    assert (small.total(comp.layers), small.embeddings, small.head, small.body) == (
        6_000, 0, 0, 5_000 - 28 * small.per_layer)
    assert small.quantised_vision  # 1,000 B for 676,550,144 params: quantised too
    exact = stored_weights(card, comp, ckpt)
    assert (exact.total(comp.layers), exact.vision, exact.quantised_vision) == (
        AWQ_BYTES, VISION_BYTES, False)


def test_without_headers_a_config_that_keeps_only_lm_head_quantises_the_vision_tower(
        models: dict[str, Path]) -> None:
    """modules_to_not_convert naming only language modules: the vision tower is quantised at
    the method's rate (676,550,144 params x 0.51953125 B = 351,481,441 B after rounding)."""
    from vlmdoctor.plan.stored import stored_weights
    from vlmdoctor.plan.weights import components

    card, facts = _awq_card_and_facts(models)
    comp = components(card)
    ckpt = checkpoint_of(facts)
    assert comp is not None and ckpt is not None
    bare = replace(ckpt, stored={})
    kept_visual = stored_weights(card, comp, bare)
    assert (kept_visual.vision, kept_visual.quantised_vision) == (VISION_BYTES, False)
    lm_only = stored_weights(card, comp, replace(bare, not_converted=("lm_head",)))
    assert (lm_only.vision, lm_only.quantised_vision) == (round(676_550_144 * 133 / 256), True)
    assert lm_only.embeddings == kept_visual.embeddings == 1_089_994_752
    ignored = stored_weights(card, comp, replace(bare, not_converted=("re:.*visual.*",
                                                                      "lm_head")))
    assert ignored.vision == VISION_BYTES  # a compressed-tensors ignore pattern


def test_a_checkpoint_that_does_not_fit_says_so_in_its_own_terms(models: dict[str, Path]) -> None:
    """AWQ on a 6 GiB GPU: exit 1, the finding names the packing, and the options are a
    bigger GPU, never a bitsandbytes dtype."""
    code, out, _ = run("plan", "--model", str(models["awq"]), "--gpus", "1x6GiB",
                       "--context", "4096", "--max-pixels", "1003520", "--format", "json")
    data = json.loads(out)
    assert (code, data["fits"]) == (1, False)
    titles = [(f["id"], f["title"]) for f in data["findings"]]
    assert (("plan-does-not-fit", f"{models['awq']} in AWQ 4-bit (group 128) as stored does "
             "not fit 1 x 6GiB") in titles), titles
    assert [o["kind"] for o in data["options"]] == ["larger-gpus"]
    # the smallest larger GPU AWQ's kernels run on (7.5): not the K80 (3.7) or P100 (6.0)
    assert data["options"][0]["value"] == "1xT4"


def test_check_plans_the_saved_checkpoint_as_stored(models: dict[str, Path],
                                                    tmp_path: Path) -> None:
    """`check --from-report` re-plans a saved GPTQ directory from its facts alone: as stored,
    on the report's A100s, with the headers' bytes."""
    from tests.conftest import environment, make_knowledge
    from vlmdoctor.doctor import CheckRequest, run_check
    from vlmdoctor.reportfile import read_saved
    from vlmdoctor.stages import planning

    facts = read_model(_source(models["gptq"])).to_dict()
    path = tmp_path / "report.json"
    path.write_text(json.dumps({
        "schema_version": 1, "environment": environment("a100-cu124"),
        "target": {"model": "/m", "dtype": "auto", "model_facts": facts,
                   "source": {"kind": "directory", "path": "/m"}}}))
    knowledge = make_knowledge()
    result = run_check(CheckRequest(from_report=str(path)), knowledge,
                       saved=read_saved(str(path)), plan_stage=planning(knowledge))
    assert result.plan is not None
    data = result.plan.to_dict()
    assert (data["dtype"], data["checkpoint"]) == ("int4", "GPTQ 4-bit (group 128)")
    assert sum(u["weights_bytes"] for u in data["per_gpu"]) == GPTQ_BYTES


def test_a_smaller_variant_is_planned_from_its_own_card(models: dict[str, Path],
                                                        catalogue: Any) -> None:
    """The 'smaller variant' option plans the variant in its own dtype, not with this
    checkpoint's stored bytes nor a bitsandbytes int4 the user never asked for."""
    from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus

    card, facts = _awq_card_and_facts(models)
    small = catalogue.resolve("qwen2-vl-2b-instruct")
    gpus = parse_gpus("1x6GiB")  # under the AWQ 7B's 6.45 GiB of weights
    asked = PlanRequest(card=card, gpus=gpus, checkpoint=checkpoint_of(facts), dtype="int4",
                        context=512, max_pixels=200704, variants=(small,))
    result = make_plan(asked)
    options = {o.kind: o for o in result.options}
    own = make_plan(PlanRequest(card=small, gpus=gpus, context=512, max_pixels=200704))
    assert not result.fits and own.dtype == "bf16" and own.fits
    assert options["smaller-variant"].required_bytes == own.required_bytes
    assert options["smaller-variant"].value == "qwen2-vl-2b-instruct"


def test_vllm_refuses_awq_below_75_as_it_says(models: dict[str, Path]) -> None:
    """vLLM stops before loading an AWQ checkpoint on a V100 (vllm-project/vllm#1488); FP8
    starts on a T4 (7.5, weight-only FP8 Marlin) where transformers would dequantise it."""
    code, out, _ = run("plan", "--model", str(models["awq"]), "--gpus", "V100-16GB",
                       "--engine", "vllm", "--max-model-len", "4096")
    assert code == 1
    assert ("vLLM would stop with: ValueError: The quantization method awq is not supported "
            "for the current GPU. Minimum capability: 75. Current capability: 70.") in out
    assert "[error] plan-vllm-does-not-start" in out and "Verdict: DOES NOT START" in out
    code, out, _ = run("plan", "--model", str(models["awq"]), "--gpus", "T4", "--engine",
                       "vllm", "--max-model-len", "4096", "--format", "json")
    assert (code, json.loads(out)["message"]) == (0, "")
    code, out, _ = run("plan", "--model", str(models["fp8"]), "--gpus", "T4", "--engine",
                       "vllm", "--max-model-len", "2048", "--format", "json")
    data = json.loads(out)
    assert data["message"] == "" and data["per_rank"]["weights_bytes"] == FP8_BYTES
    code, out, _ = run("plan", "--model", str(models["gptq"]), "--gpus", "V100-16GB",
                       "--engine", "vllm", "--max-model-len", "4096", "--format", "json")
    assert json.loads(out)["per_rank"]["weights_bytes"] == GPTQ_BYTES  # no vLLM floor recorded for GPTQ


def test_the_checkpoint_key_is_in_the_report_schema(models: dict[str, Path]) -> None:
    from tests.schema.test_schema import GOLDEN, REPORT, errors

    _, data = plan(models["awq"], "T4")
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    report["plan"] = data
    assert errors(REPORT, report) == []
    report["plan"]["checkpoint"] = 4
    assert errors(REPORT, report) != []  # a string, as the schema says
