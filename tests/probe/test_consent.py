"""Consent for model code: without --trust-remote-code nothing imports or runs a model
directory's own Python, in any command that can reach it; with it, the probe runs it.

Each model directory here is a copy of the ToyVLM remote-code fixture whose every ``*.py``
first appends its own name to a marker file when imported: no marker means no code ran.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import ROOT
from vlmdoctor.probe.findings import probe_findings
from vlmdoctor.probe.model import ProbeResult, ProbeStep

from .helpers import needs_torch

TOY = ROOT / "fixtures" / "probe" / "models" / "toyvlm-remote"
NOT_RUN = ("remote code not run: configuration_toyvlm.py, modeling_toyvlm.py not imported "
           "(--trust-remote-code not given); ")


def marked_copy(tmp_path: Path, where: Path | None = None) -> tuple[str, Path]:
    """A copy of ToyVLM whose modules leave their name in ``tmp_path/MARKER`` at import."""
    target = where or tmp_path / "model"
    shutil.copytree(TOY, target)
    marker = tmp_path / "MARKER"
    for module in target.glob("*.py"):
        line = f"open({str(marker)!r}, 'a').write({module.name!r} + '\\n')\n"
        module.write_text(line + module.read_text())
    return str(target), marker


def _probe_ids(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["id"], f["severity"]) for f in report["findings"] if f["id"].startswith("probe-")]


@needs_torch
def test_probe_without_the_flag_runs_no_model_code_and_says_so(tmp_path: Path) -> None:
    model, marker = marked_copy(tmp_path)
    code, out, err = run("probe", "--model", model, "--device", "cpu", "--format", "json")
    assert not marker.exists()
    assert code == 0, (out, err)
    report = json.loads(out)
    step = report["probe"]["steps"][-1]
    assert (step["name"], step["status"]) == ("local-model", "passed")
    assert step["detail"].startswith(
        NOT_RUN + "ran instead: LLaVA-style stand-in for toyvlm (transformers ships no such "
        "architecture) (LlavaForConditionalGeneration, "), step["detail"]
    assert _probe_ids(report) == [("probe-remote-code-not-run", "warning")]
    (finding,) = [f for f in report["findings"] if f["id"] == "probe-remote-code-not-run"]
    assert finding["message"].startswith(
        "Probe step 'local-model' did not import or run the model's own code "
        "(configuration_toyvlm.py, modeling_toyvlm.py): --trust-remote-code was not given. "
        "Not exercised: the model's own configuration and modeling classes (build, load, "
        "forward, generate). Ran instead: LLaVA-style stand-in for toyvlm")
    assert "Pass --trust-remote-code to run that code, only if you trust it." in finding["message"]
    assert any("--trust-remote-code" in fix for fix in finding["fix"])


def marked_native(tmp_path: Path, where: Path) -> Path:
    """A LLaVA-1.5 layout (a model_type transformers ships) whose auto_map names its own
    marker-writing code, as many hub repos do."""
    where.mkdir(parents=True)
    config = json.loads((ROOT / "fixtures" / "probe" / "models" / "llava-1.5-7b-layout"
                         / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "configuration_llavax.LlavaXConfig",
                          "AutoModelForCausalLM": "modeling_llavax.LlavaXForCausalLM"}
    (where / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "MARKER"
    for name in ("configuration_llavax.py", "modeling_llavax.py"):
        (where / name).write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    return marker


@needs_torch
def test_check_of_a_cached_repo_without_the_flag_builds_transformers_own_class(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """check -m org/name from the HF cache: the repo names its own code, but its model_type
    is one transformers ships: that class is built at toy size instead, with an image."""
    revision = "c0" * 20
    repo = tmp_path / "hub" / "models--acme--llava-remote"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    marker = marked_native(tmp_path, repo / "snapshots" / revision)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    code, out, err = run("check", "-m", "acme/llava-remote", "--format", "json",
                         "--fail-on", "never")
    assert not marker.exists()
    assert code == 0, (out, err)
    report = json.loads(out)
    assert report["target"]["source"]["kind"] == "hf-cache"
    probe = report["probe"]
    assert (probe["status"], probe["generated_tokens"]) == ("passed", 8), probe
    assert re.fullmatch(
        r"remote code not run: configuration_llavax\.py, modeling_llavax\.py not imported "
        r"\(--trust-remote-code not given\); ran instead: llava \(transformers llava\) at toy "
        r"size, \d+ config values shrunk, image prompt \(LlavaForConditionalGeneration, .*",
        probe["steps"][-1]["detail"]), probe["steps"][-1]["detail"]
    assert ("probe-remote-code-not-run", "warning") in _probe_ids(report)


@needs_torch
def test_probe_weights_without_the_flag_runs_no_model_code(tmp_path: Path) -> None:
    model, marker = marked_copy(tmp_path)
    code, out, err = run("probe", "--weights", model, "--device", "cpu", "--format", "json")
    assert not marker.exists()
    assert code == 0, (out, err)
    report = json.loads(out)
    step = report["probe"]["steps"][-1]
    assert step["name"] == "weights"
    assert step["detail"].startswith(NOT_RUN + "weights not loaded; ran instead: "), step
    (finding,) = [f for f in report["findings"] if f["id"] == "probe-remote-code-not-run"]
    assert "The weights were not loaded." in finding["message"]


@needs_torch
def _assert_both_refused(tmp_path: Path, script: str, marker: Path) -> None:
    """``script`` (offline, in a fresh interpreter) prints one refusal for each of its two
    loads, and the model's code never ran (its import would write ``marker``)."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=str(tmp_path),
                          env={"PYTHONPATH": str(ROOT), "HF_MODULES_CACHE": str(tmp_path / "m"),
                               "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert done.stdout.splitlines() == ["refused: remote code not run: transformers asked"] * 2, \
        done.stderr[-2000:]
    assert not marker.exists()


def test_transformers_itself_cannot_load_dynamic_code_once_guarded(tmp_path: Path) -> None:
    """The belt behind the braces: even a trust_remote_code=True call inside the child is
    refused once the import rung has disarmed transformers' dynamic-module loaders."""
    model, marker = marked_copy(tmp_path)
    script = (
        "import sys, transformers\n"
        "from vlmdoctor.probe import consent\n"
        "consent.guard()\n"
        "from transformers import AutoConfig, AutoModelForCausalLM\n"
        "for load in (AutoConfig.from_pretrained, AutoModelForCausalLM.from_pretrained):\n"
        "    try:\n"
        f"        load({model!r}, trust_remote_code=True, local_files_only=True)\n"
        "    except consent.RemoteCodeRefused as exc:\n"
        "        print('refused:', str(exc)[:39])\n")
    _assert_both_refused(tmp_path, script, marker)


def test_every_command_forwards_the_flag_and_defaults_to_no_trust(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """check, probe and cluster check hand the probe exactly the user's flag; a catalogue
    card that needs remote code no longer implies trust."""
    import vlmdoctor.probe as probe
    import vlmdoctor.probe.runner as probe_runner
    import vlmdoctor.stages as stages

    seen: list[bool] = []

    def fake(request: Any, **_: Any) -> ProbeResult:
        seen.append(request.trust_remote_code)
        return ProbeResult.skipped("test")

    for module in (probe, probe_runner, stages):
        monkeypatch.setattr(module, "run_probe", fake, raising=False)
        monkeypatch.setattr(module, "torch_importable", lambda *_: True, raising=False)
    import vlmdoctor.cli.probe_cmd as probe_cmd
    monkeypatch.setattr(probe_cmd, "run_probe", fake)
    monkeypatch.setattr(probe_cmd, "torch_importable", lambda *_: True)
    model, marker = marked_copy(tmp_path)
    for args in (["check", "--model", model], ["probe", "--model", model],
                 ["probe", "-m", "internvl2-8b"]):
        for flag in ([], ["--trust-remote-code"]):
            run(*args, *flag, "--format", "json")
    assert seen == [False, True] * 3
    assert not marker.exists()  # the static checks read the code with ast only


def test_cluster_check_forwards_each_nodes_own_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    import vlmdoctor.cluster.gate as gate
    import vlmdoctor.stages as stages

    seen: list[bool] = []
    real = stages.probing

    def probing(timeout: float, *args: Any, **kwargs: Any) -> Any:
        seen.append(bool(kwargs.get("trust_remote_code")))
        return real(timeout, *args, **kwargs)

    def judge(*_: Any, **__: Any) -> Any:
        raise SystemExit(0)

    monkeypatch.setattr(stages, "probing", probing)
    monkeypatch.setattr(gate, "judge", judge)
    monkeypatch.setattr(stages, "run_probe", None, raising=False)
    import vlmdoctor.probe as probe
    monkeypatch.setattr(probe, "torch_importable", lambda *_: False)
    for key, value in {"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": "29999"}.items():
        monkeypatch.setenv(key, value)
    for flag in ([], ["--trust-remote-code"]):
        with pytest.raises(SystemExit):
            run("cluster", "check", "--probe", *flag)
    assert seen == [False, True]


def test_the_finding_is_read_back_from_a_saved_report() -> None:
    detail = NOT_RUN + "ran instead: llava architecture (LlavaForConditionalGeneration, 2.5 MB)"
    result = ProbeResult(status="passed", device="cpu",
                         steps=(ProbeStep("local-model", "passed", 1.0, detail),))
    again = ProbeResult.from_dict(result.to_dict())
    found = [(f.id, f.severity) for f in probe_findings(again)]
    assert found == [("probe-remote-code-not-run", "warning")]
    other = ProbeResult(status="passed", device="cpu",
                        steps=(ProbeStep("local-model", "passed", 1.0, "llava at toy size"),))
    assert probe_findings(other) == ()



def test_an_auto_map_that_is_not_an_object_is_refused_before_any_probe(tmp_path: Path) -> None:
    # a bare-string auto_map never reaches the consent check: the config reader refuses it
    model, marker = marked_copy(tmp_path)
    config_path = Path(model) / "config.json"
    config = json.loads(config_path.read_text())
    config["auto_map"] = "modeling_toyvlm.ToyVLMForCausalLM"
    config_path.write_text(json.dumps(config))
    code, out, err = run("probe", "--model", model, "--device", "cpu", "--format", "json")
    assert not marker.exists()
    assert (code, out, err) == (2, "", f"vlmdoctor: error: {config_path}: auto_map: "
                                         "expected an object\n")


@needs_torch
def test_both_dynamic_module_loaders_refuse_once_guarded(tmp_path: Path) -> None:
    """Whichever of transformers' two loaders a code path reaches, the guarded child refuses
    with the same message and imports nothing."""
    model, marker = marked_copy(tmp_path)
    script = (
        "import transformers.dynamic_module_utils as dmu\n"
        "from vlmdoctor.probe import consent\n"
        "consent.guard()\n"
        f"for load, args in ((dmu.get_class_in_module, ('ToyVLMConfig', {model!r} + "
        "'/configuration_toyvlm.py')),\n"
        f"                   (dmu.get_class_from_dynamic_module, ('configuration_toyvlm.ToyVLMConfig', "
        f"{model!r}))):\n"
        "    try:\n"
        "        load(*args)\n"
        "    except consent.RemoteCodeRefused as exc:\n"
        "        print('refused:', str(exc)[:39])\n")
    _assert_both_refused(tmp_path, script, marker)
