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
    # split_model puts 52 layers (89 GB) on GPU 1: no context or pixel budget helps there
    assert [(o.kind, o.value, o.supported) for o in plan.options] == [
        ("dtype", "int8", True), ("dtype", "int4", True),
        ("more-gpus", 3, True), ("larger-gpus", "2xH100-NVL", True)]
    (finding,) = plan_findings(plan)
    assert finding.id == "plan-does-not-fit" and finding.severity == "error"
    assert finding.title == "InternVL2-Llama3-76B in bf16 does not fit 2 x A100-80GB"
    assert finding.message.startswith("GPU 1 needs 90.6 GiB of 80.0 GiB.")
    assert finding.fix == tuple(o.summary for o in plan.options[:3])


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


def test_smaller_variant_option(plan_for):
    plan = plan_for("qwen2-vl-7b-instruct", "1xT4", dtype="fp16", context=2048, images=0)
    assert ("smaller-variant", "qwen2-vl-2b-instruct") in [(o.kind, o.value) for o in plan.options]


def test_low_headroom_warning(plan_for):
    plan = plan_for("internvl2-76b", "4xA100-40GB", context=1024, images=0)
    assert plan.fits
    (finding,) = plan_findings(plan)
    assert finding.id == "plan-low-headroom" and finding.severity == "warning"
    assert 0 <= finding.evidence["headroom"] < 0.10


def test_unknown_size_info(plan_for):
    plan = plan_for("ixc2.5", "2xRTX4090")
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
