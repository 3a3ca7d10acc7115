"""The common consumer setups through the CLI (issue 16): one and two 24 GB GPUs and a T4 with
7B-class VLMs give "fits" or a warning with the flag, never an error, with the SHIPPED cards.
The stack is pinned with --transformers/--torch so the result does not depend on what is
installed where the tests run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vlmdoctor.cli import plan_cmd


def run(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(plan_cmd.command, [*args, "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def ids(data: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(f["id"], f["severity"]) for f in data["findings"]]


@pytest.mark.parametrize(("model", "gpus", "tf", "expected"), [
    ("qwen2.5-vl-3b-instruct", "1xRTX4090", "4.57.1", []),
    ("qwen2.5-vl-7b-instruct", "2xRTX4090", "4.57.1", []),
    ("qwen2.5-vl-7b-instruct", "2xRTX4090", "4.49.0", []),
    ("qwen3-vl-8b-instruct", "1xRTX4090", "4.57.1", [("plan-low-headroom", "warning")]),
    ("llava-1.5-7b", "1xT4", "4.37.2", [("plan-smaller-budget", "warning")]),
    ("llava-1.5-7b-hf", "1xT4", "4.57.1", [("plan-smaller-budget", "warning")]),
])
def test_consumer_setup_never_errors(model, gpus, tf, expected) -> None:  # type: ignore[no-untyped-def]
    code, data = run("-m", model, "--gpus", gpus, "--transformers", tf, "--torch", "2.5.1")
    assert code == 0
    assert ids(data) == expected


def test_two_4090s_use_both_gpus() -> None:
    _, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "2xRTX4090",
                  "--transformers", "4.57.1", "--torch", "2.5.1")
    layers = {k: v for k, v in data["device_map"].items() if ".layers." in k}
    assert set(layers.values()) == {0, 1}
    assert data["device_map"]["lm_head"] == 1
    assert all(u["weights_bytes"] > 0 for u in data["per_gpu"])


def test_t4_llava_names_the_largest_context_and_its_flags() -> None:
    code, data = run("-m", "llava-1.5-7b", "--gpus", "1xT4", "--transformers", "4.37.2")
    assert code == 0 and data["fits"] is False
    finding = data["findings"][0]
    assert finding["title"] == ("LLaVA-1.5-7B (haotian-liu/LLaVA checkpoint) in fp16 fits 1 x T4 "
                                "only with a smaller context")
    assert finding["fix"] == [
        "vlmdoctor plan --context 1958",
        "keep prompt + max_new_tokens <= 1958 tokens of text in generate()",
        "vllm serve ... --max-model-len 2534",  # 1958 text + 576 visual tokens
    ]
    assert data["frontier"] == [{"kind": "context", "requested": 4096, "largest": 1958,
                                 "smallest": 1, "detail": "1,958 text tokens per sequence",
                                 "flags": finding["fix"]}]


def test_a_given_context_is_kept_and_a_model_that_cannot_run_is_an_error() -> None:
    code, data = run("-m", "llava-1.5-7b", "--gpus", "1xT4", "--transformers", "4.37.2",
                     "--context", "4096")
    assert code == 1
    assert ids(data)[0] == ("plan-does-not-fit", "error")
    code, data = run("-m", "qwen2.5-vl-72b-instruct", "--gpus", "1xRTX4090",
                     "--transformers", "4.57.1")
    assert code == 1 and ids(data)[0] == ("plan-does-not-fit", "error")


def test_qwen_pixel_budget_warning_names_processor_and_vllm_flags() -> None:
    code, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "1xRTX4090",
                     "--transformers", "4.49.0", "--torch", "2.5.1", "--batch", "2")
    assert code == 0
    assert ids(data) == [("plan-smaller-budget", "warning")]
    pixels = data["frontier"][0]
    assert pixels["kind"] == "max-pixels" and pixels["requested"] == 12845056
    n = pixels["largest"]
    assert n % 784 == 0 and 0 < n < 12845056
    assert pixels["flags"] == [
        f"vlmdoctor plan --max-pixels {n}",
        f"AutoProcessor.from_pretrained(..., max_pixels={n})",
        f"MAX_PIXELS={n} (qwen-vl-utils, ms-swift)",
        f"vllm serve ... --mm-processor-kwargs '{{\"max_pixels\": {n}}}'",
    ]
    # the named budget really fits, and one token more does not
    code, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "1xRTX4090", "--transformers",
                     "4.49.0", "--torch", "2.5.1", "--batch", "2", "--max-pixels", str(n))
    assert data["fits"] is True
    _, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "1xRTX4090", "--transformers",
                  "4.49.0", "--torch", "2.5.1", "--batch", "2", "--max-pixels", str(n + 784))
    assert data["fits"] is False


@pytest.mark.parametrize(("args", "message"), [
    (["--context", "1000000000000"], "--context 1000000000000: cannot plan for more than 2147483648"),
    (["--context", "0"], "--context 0: must be at least 1"),
    (["--max-pixels", "-5"], "--max-pixels -5: must be between 1 and 1099511627776"),
    (["--engine", "vllm", "--max-model-len", "0"],
     "--max-model-len 0: must be between 1 and 2147483648"),
    (["--engine", "vllm", "--gpu-memory-utilization", "0"],
     "--gpu-memory-utilization 0.0: must be more than 0 and at most 1"),
    (["--engine", "vllm", "--limit-mm-per-prompt", '{"image": -1}'],
     '--limit-mm-per-prompt \'{"image": -1}\': the image count must be an integer from 0 to 1024'),
    (["--engine", "vllm", "--mm-processor-kwargs", '{"max_pixels": 0}'],
     "--mm-processor-kwargs: max_pixels 0 must be an integer from 1 to 1099511627776"),
    (["--engine", "vllm", "--tensor-parallel-size", "2"],
     "--tensor-parallel-size 2: must be between 1 and the 1 GPU(s)"),
])
def test_absurd_flags_cannot_plan_naming_the_flag(args, message) -> None:  # type: ignore[no-untyped-def]
    from vlmdoctor.errors import InputError

    result = CliRunner().invoke(plan_cmd.command, ["-m", "llava-1.5-7b-hf", "--gpus", "1xT4",
                                                   *args])
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == message


def test_video_frontier_frames_and_frame_size() -> None:
    base = ["-m", "qwen2.5-vl-7b-instruct", "--gpus", "1xRTX4090", "--transformers", "4.49.0",
            "--torch", "2.5.1", "--images", "0", "--videos", "1"]
    code, data = run(*base, "--frames", "768")
    assert code == 0 and ids(data) == [("plan-smaller-budget", "warning")]
    frames = next(b for b in data["frontier"] if b["kind"] == "frames")
    assert frames["largest"] == 42
    assert frames["flags"] == ["vlmdoctor plan --frames 42",
                               'FPS_MAX_FRAMES=42 (qwen-vl-utils), or "nframes": 42 in the video '
                               "message"]
    assert run(*base, "--frames", "42")[1]["fits"] is True
    assert run(*base, "--frames", "44")[1]["fits"] is False
    size = next(b for b in data["frontier"] if b["kind"] == "video-max-pixels")
    assert size["largest"] is None  # at 768 frames qwen-vl-utils' minimum frame size wins


def test_video_tokens_follow_qwen_vl_utils() -> None:
    from vlmdoctor.knowledge import load_knowledge
    from vlmdoctor.plan.tokens import video_load

    images = load_knowledge(None).catalogue.resolve("qwen2.5-vl-7b-instruct").images
    assert video_load(images, 64, None).tokens == 32 * 768  # 602,112 px = 768 tokens a pair
    assert video_load(images, 128, None).tokens == 64 * 384  # VIDEO_TOTAL_PIXELS shares out
    assert video_load(images, 768, None).tokens == 384 * 134  # floor: 128 x 1.05 tokens
    assert video_load(images, 3, 200704).tokens == 2 * 256


def test_vllm_through_the_cli_prints_vllms_message_and_exit_codes() -> None:
    result = CliRunner().invoke(plan_cmd.command, ["-m", "qwen2.5-vl-7b-instruct", "--gpus",
                                                   "1xRTX4090", "--engine", "vllm"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("vLLM plan: Qwen2.5-VL-7B-Instruct with --tensor-parallel-size 1 "
                        "--max-model-len 128000: does NOT start")
    assert "  --max-model-len 59936" in lines
    assert any(line.startswith("vLLM would stop with: ValueError: To serve at least one "
                               "request with the model's max seq len (128000)") for line in lines)
    assert lines[-1] == "Verdict: DOES NOT START (exit 1: vLLM stops with the message above)"
    code, data = run("-m", "qwen2.5-vl-7b-instruct", "--gpus", "2xRTX4090", "--engine", "vllm",
                     "--tensor-parallel-size", "2", "--max-model-len", "32768",
                     "--limit-mm-per-prompt", '{"image": 2}',
                     "--mm-processor-kwargs", '{"max_pixels": 1003520}')
    assert code == 0 and data["starts"] is True and data["findings"] == []
    assert data["notes"][2] == ("profiling run with 2 image(s) at the largest size: 1,003,520 "
                                "pixels / 784 per token = 1,280 visual tokens per image")
