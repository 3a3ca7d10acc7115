from __future__ import annotations

import json

from vlmdoctor.plan import plan_findings, plan_text_lines

KEYS = ["model", "dtype", "gpus", "device_map", "per_gpu", "required_bytes", "fits", "sized",
        "notes",
        "options", "frontier", "not_sized"]
GPU_KEYS = ["index", "weights_bytes", "kv_bytes", "activation_bytes", "overhead_bytes",
            "total_bytes", "capacity_bytes"]


def test_json_shape(plan_for):
    data = json.loads(json.dumps(plan_for("internvl2-76b", "4xA100-80GB").to_dict()))
    assert list(data) == KEYS
    assert [list(g) for g in data["per_gpu"]] == [GPU_KEYS] * 4
    assert data["gpus"][0] == {"index": 0, "name": "A100-80GB", "memory_total_bytes": 80 * 2**30,
                               "memory_free_bytes": None, "compute_capability": "8.0"}
    assert data["fits"] is True and data["options"] == []
    assert data["required_bytes"] == sum(g["total_bytes"] for g in data["per_gpu"])


def test_does_not_fit_with_ranked_options(plan_for):
    plan = plan_for("internvl2-76b", "2xA100-80GB")
    assert not plan.fits
    # split_model on 2 GPUs: per_gpu = ceil(80 / 1.5) = 54, GPU 0 takes 27 + layer 79, GPU 1
    # the other 52. The card's vocab_size is null, so the 70,553,706,496 language params
    # spread over the 80 layers: 881,921,331 each. GPU 1 in bf16:
    #   weights 52 x 881,921,331 x 2                               = 91,719,818,424
    #   KV      52 x (2 x 8 KV heads x 128 x 2 B) x 7424 tokens    =  1,581,252,608
    #           (7424 = 4096 context + 13 tiles x 256 for the default image)
    #   act     carry 7424 x 8192 x 2 + layer 7424 x (2 x 8192 + 3 x 28672) x 2
    #                                                              =  1,642,070,016
    #   + 400 MiB + 5% of the 94,943,141,048 above                 =  5,166,587,452
    #   = 100,109,728,500 B = 93.2 GiB: no context or pixel budget brings 85 GiB of weights
    #   under 80 GiB, so the options change the precision, the GPUs or the model.
    assert plan.per_gpu[1].total_bytes == 100_109_728_500
    assert [(o.kind, o.value, o.supported) for o in plan.options] == [
        ("dtype", "int8", True), ("dtype", "int4", True),
        ("more-gpus", 3, True), ("larger-gpus", "2xH100-NVL", True),
        ("smaller-variant", "internvl2-40b", True)]
    fit, unknown = plan_findings(plan)
    assert fit.id == "plan-does-not-fit" and fit.severity == "error"
    assert fit.title == "InternVL2-Llama3-76B in bf16 does not fit 2 x A100-80GB"
    assert fit.message.startswith("GPU 1 needs 93.2 GiB of 80.0 GiB.")
    assert fit.fix == tuple(o.summary for o in plan.options[:3])
    assert fit.fix[2] == "use 3 x A100-80GB (80 GiB each) instead of 2"
    # the card's vocab_size is null: the logits are not sized, said as an info
    assert (unknown.id, unknown.severity) == ("plan-unknown-size", "info")
    assert unknown.message.startswith("The model card lacks: prefill logits (vocab_size unknown)")


def test_pixel_budget_option_for_qwen(plan_for):
    plan = plan_for("qwen2-vl-7b-instruct", "1xA10", dtype="fp16", context=2048)
    kinds = [o.kind for o in plan.options]
    assert kinds[0] == "max-pixels"
    best = plan.options[0].value
    assert best % 784 == 0
    assert plan_for("qwen2-vl-7b-instruct", "1xA10", dtype="fp16", context=2048,
                    max_pixels=best).fits
    assert not plan_for("qwen2-vl-7b-instruct", "1xA10", dtype="fp16", context=2048,
                        max_pixels=best + 784).fits


def test_int8_flagged_unsupported_below_cc_75(plan_for):
    plan = plan_for("llava-1.5-7b", "1xP100-12GB", dtype="fp16", context=2048)
    dtype = {o.value: o.supported for o in plan.options if o.kind == "dtype"}
    assert dtype == {"int8": False, "int4": True}
    assert plan.options[-1].value == "int8"  # unsupported options rank last


def test_int8_flagged_unsupported_on_volta(plan_for):
    # LLM.int8() needs sm_75; a V100 is sm_70. The 17,247,613,542 B of the 2048-token plan
    # (test_arithmetic's llava case) is 67 MB over the V100's 16 GiB.
    plan = plan_for("llava-1.5-7b", "1xV100-16GB", dtype="fp16", context=2048, images=1)
    assert not plan.fits and plan.required_bytes == 17_247_613_542
    dtype = {o.value: o.supported for o in plan.options if o.kind == "dtype"}
    assert dtype == {"int8": False, "int4": True}


def test_larger_gpus_for_bf16_skip_pre_ampere_cards(plan_for):
    # 14.9 GiB in bf16 (test_low_headroom_warning's numbers) on a 12 GB P100: every 16 GB card
    # (P100-16GB, T4, V100-16GB) predates bf16, so the first larger one is a 24 GB A10.
    plan = plan_for("llava-1.5-7b", "1xP100-12GB", dtype="bf16", context=1024, images=0)
    assert ("larger-gpus", "1xA10") in [(o.kind, o.value) for o in plan.options]
    plan = plan_for("llava-1.5-7b", "1xP100-12GB", dtype="fp16", context=1024, images=0)
    assert ("larger-gpus", "1xP100-16GB") in [(o.kind, o.value) for o in plan.options]


def test_smaller_variant_option(plan_for):
    plan = plan_for("qwen2-vl-7b-instruct", "1xT4", dtype="fp16", context=2048, images=0)
    assert ("smaller-variant", "qwen2-vl-2b-instruct") in [(o.kind, o.value) for o in plan.options]


def test_low_headroom_warning(plan_for):
    # LLaVA-1.5-7B, fp16, 1024 text tokens, no image, one 16 GiB GPU:
    #   weights 2 x 7,062,902,784                                  = 14,125,805,568
    #   KV      32 layers x 2 x 32 x 128 x 2 B x 1024               =    536,870,912
    #   act     carry 1024 x 4096 x 2 + logits 1024 x 32000 x 6     =    204,996,608
    #   + 400 MiB + round(5% of 14,867,673,088)                     =  1,162,814,054
    #   = 16,030,487,142 B of 17,179,869,184: 6.69% left, under the 10% bar
    plan = plan_for("llava-1.5-7b", "1x16GiB", dtype="fp16", context=1024, images=0)
    assert plan.fits and plan.required_bytes == 16_030_487_142
    (finding,) = plan_findings(plan)
    assert finding.id == "plan-low-headroom" and finding.severity == "warning"
    assert finding.title == ("LLaVA-1.5-7B (haotian-liu/LLaVA checkpoint) in fp16 fits "
                             "1 x 16GiB with under 10% headroom")
    assert finding.message.startswith("GPU 0 would hold 14.9 GiB of 16.0 GiB (6.7% left);")
    assert finding.evidence["headroom"] == 0.0669


def test_unknown_size_info(plan_for):
    # The IXC2-VL card has no parameter counts (rules/models/xcomposer.yaml defaults)
    plan = plan_for("internlm-xcomposer2-vl-7b", "2xRTX4090")
    assert not plan.sized and not plan.fits and plan.per_gpu == ()
    (finding,) = plan_findings(plan)
    assert finding.id == "plan-unknown-size" and finding.severity == "info"
    assert finding.message == "The model card lacks: parameter counts. No estimate was made."
    assert plan.device_map["output"] == 1  # the family's map is still given


def test_text_lines(plan_for):
    lines = plan_text_lines(plan_for("internvl2-76b", "4xA100-80GB"))
    assert lines[0].startswith("Plan: InternVL2-Llama3-76B in bf16 on 4 GPU(s): fits (needs ")
    assert "  language_model.model.layers.0-11 -> 0" in lines
    assert "  language_model.model.layers.79 -> 0" in lines
