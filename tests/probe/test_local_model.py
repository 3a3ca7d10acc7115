"""The probe runs a local model's own code: its architecture from its own config.json at toy
size (remote code included), the meta-device fallback, and failures quoted from its code.

The fixture models under fixtures/probe/models/ were written for these tests: configs with
realistic full-size dimensions, and a small remote-code model (ToyVLM). Every real run checks
that the child's process group is gone and the run's temp dir removed afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from vlmdoctor.probe import ProbeRequest, ProbeResult, probe_findings, run_probe
from vlmdoctor.probe import runner as probe_runner

from .helpers import needs_torch

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "probe" / "models"
TOY = MODELS / "toyvlm-remote"
TAIL = r"loaded in \d+\.\d\d s; generated 8/8 tokens in \d+\.\d\d s, logits finite"


def _alive_in_session(sid: int) -> list[int]:
    """Processes (not zombies) whose session is ``sid``: the child leads its own session."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry))
    return found


@pytest.fixture
def hygiene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Record the child's pid and keep the run's temp dir and HF_HOME under tmp_path; after
    the test, no process of the child's session may be left and no temp dir, and nothing
    may have been written to the Hugging Face home (remote code is copied into the run's
    temp dir, not the user's modules cache)."""
    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    pids: list[int] = []
    real_popen = subprocess.Popen

    class Spy(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            pids.append(self.pid)

    temp, home = tmp_path / "tmp", tmp_path / "hf-home"
    temp.mkdir()
    monkeypatch.setattr(probe_runner.subprocess, "Popen", Spy)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_MODULES_CACHE", raising=False)
    yield {"pids": pids}
    assert len(pids) == 1
    assert _alive_in_session(pids[0]) == []
    assert list(temp.iterdir()) == []
    assert not home.exists()


def _variant(tmp_path: Path, **changes: Any) -> str:
    """A copy of the ToyVLM directory with its config.json changed."""
    target = tmp_path / "model"
    shutil.copytree(TOY, target)
    config = json.loads((target / "config.json").read_text())
    (target / "config.json").write_text(json.dumps({**config, **changes}))
    return str(target)


def _probe(path: str, trust: bool = True) -> ProbeResult:
    return run_probe(ProbeRequest(model_path=path, device="cpu", timeout=120,
                                  trust_remote_code=trust))


@needs_torch
def test_check_builds_a_native_llava_layout_at_toy_size_with_an_image(hygiene: Any) -> None:
    code, out, err = run("check", "--model", str(MODELS / "llava-1.5-7b-layout"),
                         "--format", "json")
    report = json.loads(out)
    assert code in (0, 1), err  # 1 on a box without a GPU: the model needs one
    probe = report["probe"]
    assert (probe["status"], probe["generated_tokens"]) == ("passed", 8), probe
    assert probe["steps"][-1]["name"] == "local-model"
    assert re.fullmatch(
        r"llava \(transformers llava\) at toy size, 15 config values shrunk, image prompt "
        r"\(LlavaForConditionalGeneration, \d+\.\d MB safetensors, (fp32|bf16|fp16), "
        r"8 modules over (cpu|0)\); " + TAIL, probe["steps"][-1]["detail"])
    assert [f["id"] for f in report["findings"] if f["id"].startswith("probe-")] in (
        [], ["probe-cpu-only"])


@needs_torch
def test_native_qwen2_vl_layout_keeps_m_rope_and_merger_constraints(hygiene: Any) -> None:
    result = _probe(str(MODELS / "qwen2-vl-7b-layout"), trust=False)
    assert (result.status, result.generated_tokens) == ("passed", 8), result.to_dict()
    assert re.fullmatch(
        r"qwen2_vl \(transformers qwen2_vl\) at toy size, 21 config values shrunk, image "
        r"prompt \(Qwen2VLForConditionalGeneration, \d+\.\d MB safetensors, fp32, 7 modules "
        r"over cpu\); " + TAIL, result.steps[-1].detail)


@needs_torch
def test_glm_4_1v_layout_with_rope_sections_left_to_the_class_default_builds_at_toy_size(
        hygiene: Any) -> None:
    """The text config leaves mrope_section to modeling_glm4v's default: the shrinker writes
    it out rescaled, so the toy model runs (before, the probe failed in transformers' rotary
    code for its own reason and blamed the model)."""
    result = _probe(str(MODELS / "glm-4.1v-9b-layout"), trust=False)
    assert (result.status, result.generated_tokens) == ("passed", 8), result.to_dict()
    assert re.fullmatch(
        r"glm4v \(transformers glm4v\) at toy size, \d+ config values shrunk, text-only "
        r"prompt: the vision part is built and loaded, not run \(Glm4vForConditionalGeneration, "
        r"\d+\.\d MB safetensors, fp32, 7 modules over cpu\); " + TAIL, result.steps[-1].detail)


@needs_torch
def test_remote_code_model_runs_its_own_code_through_the_cli_with_consent(
        hygiene: Any, tmp_path: Path) -> None:
    from tests.probe.test_consent import marked_copy

    model, marker = marked_copy(tmp_path)
    code, out, err = run("probe", "--model", model, "--device", "cpu", "--format", "json",
                         "--trust-remote-code")
    assert code == 0, (out, err)
    # the config (read by AutoConfig) and the modeling file (imported with it) both ran
    assert set(marker.read_text().split()) == {"configuration_toyvlm.py", "modeling_toyvlm.py"}
    report = json.loads(out)
    assert [f["id"] for f in report["findings"] if f["id"].startswith("probe-")] == []
    probe = report["probe"]
    assert re.fullmatch(
        r"toyvlm \(remote code from the model directory\) at toy size, 11 config values "
        r"shrunk, text-only prompt: the vision part is built and loaded, not run "
        r"\(ToyVLMForCausalLM, \d+\.\d MB safetensors, fp32, 7 modules over cpu\); " + TAIL,
        probe["steps"][-1]["detail"])


@needs_torch
def test_remote_code_that_fails_in_forward_is_quoted_from_the_model_file(
        hygiene: Any, tmp_path: Path) -> None:
    result = _probe(_variant(tmp_path, legacy_mask_api=True))
    assert (result.status, result.failed_step) == ("failed", "local-model")
    assert result.error is not None
    assert result.error.kind == "api-mismatch"
    assert result.error.message == (
        "AttributeError: 'ToyVLMForCausalLM' object has no attribute "
        "'get_extended_attention_mask'\nin the model's code: modeling_toyvlm.py:86 in forward: "
        "attention_mask = self.get_extended_attention_mask(attention_mask, input_ids.shape)")
    (finding,) = probe_findings(result)
    assert finding.id == "probe-api-mismatch"
    assert finding.message.startswith(
        "Probe step 'local-model' failed: AttributeError: 'ToyVLMForCausalLM' object has no "
        "attribute 'get_extended_attention_mask'. In the model's code at modeling_toyvlm.py:86 "
        "in forward: attention_mask = self.get_extended_attention_mask(attention_mask, "
        "input_ids.shape). A keyword, attribute")
    # a saved report gives the same finding (the child's stderr tail is not saved)
    replayed = probe_findings(ProbeResult.from_dict(result.to_dict()))
    assert [(f.id, f.message) for f in replayed] == [(finding.id, finding.message)]


@needs_torch
def test_unshrinkable_config_falls_back_to_the_meta_device(hygiene: Any, tmp_path: Path) -> None:
    result = _probe(_variant(tmp_path, fused_rope_head_dim=128))
    assert result.status == "passed", result.to_dict()
    assert result.generated_tokens == 0
    assert result.steps[-1].detail == (
        "meta device only: ToyVLMForCausalLM.__init__ ran at full size (1.27 B parameters) on "
        "the meta device; the toy-size build failed (ValueError: the fused rotary kernel needs "
        "head_dim 128, got 32 at modeling_toyvlm.py:72 in __init__: raise ValueError(f\"the "
        "fused rotary kernel needs head_dim {config.fused_rope_head_dim}, \"); not exercised: "
        "weights, device map, forward, generate")
    assert [(f.id, f.severity) for f in probe_findings(result)] == [("probe-meta-only", "info")]
