"""The first-target scenarios from the design, end to end through the CLI, and a healthy
environment per family (false alarms are bugs too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import FIXTURES, environment
from vlmdoctor.yamlio import load_yaml

SCENARIOS = FIXTURES / "scenarios"


def findings(path: Path, model: str, *extra: str) -> tuple[int, list[tuple[str, str]]]:
    code, out, err = run("check", "--from-report", str(path), "-m", model, "--format", "json",
                         *extra)
    assert code in (0, 1), err
    return code, sorted((f["severity"], f["id"]) for f in json.loads(out)["findings"])


@pytest.mark.parametrize(("scenario", "model", "expected_code", "expected"), [
    ("mgm-34b-wrong-transformers-h100", "minigemini-34b", 1,
     [("error", "model-transformers-version"), ("error", "torch-arch-missing"),
      ("info", "plan-unknown-size")]),
    ("internvl2-76b-4gpu-device-map-auto", "OpenGVLab/InternVL2-Llama3-76B", 0,
     [("info", "model-needs-family-device-map"), ("info", "plan-unknown-size")]),
    ("xcomposer2d5-2gpu-new-transformers", "internlm/internlm-xcomposer2d5-7b", 1,
     [("error", "model-transformers-version"), ("info", "model-needs-family-device-map"),
      ("info", "plan-unknown-size")]),
    # The default pixel budget (16384 visual tokens per image) does not fit a 32 GB V100 but
    # a smaller one does: a warning naming it (issue 16), not an error.
    ("qwen2-vl-7b-v100-bf16-flash-attn", "Qwen/Qwen2-VL-7B-Instruct", 1,
     [("error", "bf16-unsupported-gpu"), ("warning", "flash-attn-unsupported-gpu"),
      ("warning", "plan-smaller-budget")]),  # no ms-swift: MAX_PIXELS is not read
    # Sized now that its crops are read as tiles (17 x 144 visual tokens per image).
    ("phi35-vision-without-flash-attn", "microsoft/Phi-3.5-vision-instruct", 0,
     [("warning", "model-flash-attn-missing")]),
    # The popular myth: a 12.2 driver needs a cu122 build. A newer driver runs cu118 fine.
    ("cuda122-driver-cu118-torch", "qwen2-vl-7b-instruct", 0, []),
    ("opencv-variants-mixed", "internvl2-8b", 1,
     [("error", "opencv-variants-conflict"), ("info", "plan-unknown-size")]),  # accelerate 1.x is fine
])
def test_scenario(scenario: str, model: str, expected_code: int,
                  expected: list[tuple[str, str]]) -> None:
    code, found = findings(SCENARIOS / f"{scenario}.json", model)
    assert found == expected
    assert code == expected_code


def test_mgm_fix_keeps_the_torch_pin_but_uses_the_cu118_build() -> None:
    _, out, _ = run("check", "--from-report", str(SCENARIOS / "mgm-34b-wrong-transformers-h100.json"),
                    "-m", "mgm-34b", "--format", "json")
    fixes = {f["id"]: f["fix"] for f in json.loads(out)["findings"]}
    assert fixes["torch-arch-missing"] == [
        "pip install 'torch==2.0.1' 'torchvision==0.15.2' --index-url "
        "https://download.pytorch.org/whl/cu118"]
    assert fixes["model-transformers-version"] == [
        "pip install 'transformers==4.36.2' 'tokenizers==0.15.0'"]


HEALTHY: list[tuple[str, str, dict[str, Any]]] = [
    ("minigemini-7b", "a100-cu124", {"packages": {"transformers": "4.36.2", "accelerate": "0.21.0"}}),
    ("minigemini-2b", "a100-cu124", {"packages": {"transformers": "4.38.2", "accelerate": "0.21.0"}}),
    ("internvl2-8b", "h100x4-cu121", {"packages": {"accelerate": "0.33.0"}}),
    ("internvl2.5-8b", "h100x4-cu121", {"packages": {"transformers": "4.51.3", "accelerate": "1.6.0"}}),
    ("internvl2-llama3-76b", "h100x4-cu121", {}),
    ("internlm-xcomposer2.5-7b", "a100-cu124", {"packages": {"transformers": "4.33.2", "timm": "0.4.12"}}),
    ("qwen2-vl-7b-instruct", "a100-cu124", {"env": {"MAX_PIXELS": "1003520"}}),
    ("qwen2.5-vl-7b-instruct", "a100-cu124", {"packages": {"transformers": "4.49.0"},
                                              "env": {"MAX_PIXELS": "1003520"}}),
    ("phi-3.5-vision-instruct", "a100-cu124", {"packages": {"transformers": "4.43.0", "accelerate": "0.30.0",
                                                            "flash-attn": "2.5.8"}}),
    ("llava-1.5-7b-hf", "a100-cu124", {}),
    ("llava-1.5-7b", "a100-cu124", {"packages": {"transformers": "4.37.2", "accelerate": "0.21.0"}}),
    ("llava-v1.6-mistral-7b-hf", "a100-cu124", {}),
]
# The families added later keep their healthy (and broken) environments as data.
HEALTHY += [(f["model"], f["base"], f["patch"]) for f in load_yaml(SCENARIOS / "families.yaml",
                                                                    "families.yaml")["families"]]


@pytest.mark.parametrize(("model", "base", "patch"), HEALTHY)
def test_healthy_environment_has_no_errors_or_warnings(tmp_path: Path, model: str, base: str,
                                                       patch: dict[str, Any]) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(environment(base, patch)))
    code, found = findings(path, model)
    assert [f for f in found if f[0] != "info"] == []
    assert code == 0


def test_every_family_has_a_healthy_fixture() -> None:
    from tests.conftest import make_knowledge
    catalogue = make_knowledge().catalogue
    families = {c.family for c in catalogue.cards if c.family != "test"}
    covered = {catalogue.resolve(model).family for model, _, _ in HEALTHY}
    assert families - covered == set()


@pytest.mark.parametrize(("text", "model", "expected"), [
    ("RuntimeError: Expected all tensors to be on the same device, but found at least two "
     "devices, cpu and cuda:0!", "internvl2-llama3-76b", "symptom-device-mismatch"),
    ("TypeError: forward() got an unexpected keyword argument 'cache_position'", "mgm-7b",
     "symptom-cache-position"),
    ("RuntimeError: CUDA error: no kernel image is available for execution on the device",
     None, "symptom-no-kernel-image"),
])
def test_explain_recognises_and_exits_0(text: str, model: str | None, expected: str) -> None:
    args = ["explain", "--from-report", str(SCENARIOS / "mgm-34b-wrong-transformers-h100.json"),
            "--format", "json", text]
    if model:
        args[1:1] = ["-m", model]
    code, out, _ = run(*args)
    assert code == 0
    assert json.loads(out)["findings"][0]["id"] == expected


def test_explain_unknown_text_exits_1_and_says_what_to_attach() -> None:
    code, out, _ = run("explain", "--from-report", str(SCENARIOS / "opencv-variants-mixed.json"),
                       "Segmentation fault in libfoo")
    assert code == 1
    assert out.rstrip().endswith(
        "No known failure signature matched this text. For a bug report, attach the full "
        "traceback and `vlmdoctor check --model MODEL --format json` output.")


def test_explain_reads_standard_input() -> None:
    from click.testing import CliRunner

    from vlmdoctor.cli import cli
    result = CliRunner().invoke(cli, ["explain", "--from-report",
                                      str(SCENARIOS / "opencv-variants-mixed.json")],
                                input="ImportError: libGL.so.1: cannot open shared object file\n")
    assert result.exit_code == 0
    assert "[symptom-libgl-missing]" in result.output


def test_explain_without_text_is_a_usage_error() -> None:
    code, _, err = run("explain", "--from-report", str(SCENARIOS / "opencv-variants-mixed.json"), "  ")
    assert code == 2
    assert err == ("vlmdoctor: error: no error text given (pass it as arguments or on standard "
                   "input)\n")
