"""The model's classes against the members of transformers' base classes, per release
(model-code-member-missing, model-code-override-signature). The model code here is our
own stand-in, shaped like remote code written for transformers 4.3x."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, environment
from tests.hostile.test_reports import run
from vlmdoctor.modelcode.membercheck import member_problems
from vlmdoctor.modelcode.scan import CodeScan, scan_files
from vlmdoctor.tfmembers.index import load_members

# Our own stand-in of remote code written for transformers 4.3x (also a rule fixture).
MODELING = (FIXTURES / "modelcode" / "old-generation-hooks" / "modeling_toy.py").read_text()
CONFIG = "from transformers import PretrainedConfig\nclass ToyConfig(PretrainedConfig):\n    model_type = 'toy'\n"


def _model(tmp_path: Path) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir(exist_ok=True)
    (folder / "modeling_toy.py").write_text(MODELING)
    (folder / "configuration_toy.py").write_text(CONFIG)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "toy", "architectures": ["ToyForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_toy.ToyConfig",
                     "AutoModelForCausalLM": "modeling_toy.ToyForCausalLM"}}))
    return folder


def _scan(tmp_path: Path) -> CodeScan:
    folder = _model(tmp_path)
    return scan_files(folder, sorted(folder.glob("*.py")), "remote code")


def test_classes_resolve_bases_through_aliases_and_local_classes(tmp_path: Path) -> None:
    classes = {c.name: c for c in _scan(tmp_path).classes}
    assert classes["ToyPreTrainedModel"].bases == ("transformers:PreTrainedModel",)
    assert classes["ToyForCausalLM"].bases == ("ToyPreTrainedModel",)
    assert ("_extract_past_from_model_output", 28) in classes["ToyForCausalLM"].uses
    assert "lm_head" in classes["ToyForCausalLM"].defines


@pytest.mark.parametrize(("version", "missing"), [
    ("4.45.2", []), ("4.48.3", []),
    ("4.49.0", [("modeling_toy.py:28", "_extract_past_from_model_output", "4.30.0 to 4.48.3")]),
    ("5.24.0", [("modeling_toy.py:28", "_extract_past_from_model_output", "4.30.0 to 4.48.3")]),
])
def test_a_removed_helper_is_missing_from_its_release_on(tmp_path: Path, version: str,
                                                         missing: list[tuple[str, str, str]]) -> None:
    found, _ = member_problems(load_members(), [_scan(tmp_path)], version)
    assert [(m["where"], m["name"], m["present"]) for m in found] == missing


@pytest.mark.parametrize(("version", "expected"), [
    ("4.34.1", []),  # the base had no _set_gradient_checkpointing, nor num_new_tokens
    ("4.40.0", [("modeling_toy.py:38", "_set_gradient_checkpointing",
                 "enable', 'gradient_checkpointing_func", "4.35.0")]),
    ("4.45.2", [("modeling_toy.py:25", "_update_model_kwargs_for_generation", "num_new_tokens",
                 "4.41.0"),
                ("modeling_toy.py:38", "_set_gradient_checkpointing",
                 "enable', 'gradient_checkpointing_func", "4.35.0")]),
])
def test_an_override_without_a_parameter_the_base_gained(
        tmp_path: Path, version: str, expected: list[tuple[str, str, str, str]]) -> None:
    """num_parameters(self, only_trainable=False) lacks exclude_embeddings, which the base
    has had since the first indexed release: written against it, never reported."""
    _, found = member_problems(load_members(), [_scan(tmp_path)], version)
    assert [(o["where"], o["method"], o["param"], o["added"]) for o in found] == expected


def _check(tmp_path: Path, transformers: str) -> list[dict[str, Any]]:
    env = environment("a100-cu124")
    env["packages"]["transformers"] = transformers
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    code, out, err = run("check", "--no-probe", "-m", str(_model(tmp_path)), "--from-report",
                         str(path), "--format", "json")
    assert code in (0, 1), err
    return [f for f in json.loads(out)["findings"] if f["id"].startswith("model-code-")]


def test_through_check_with_the_window_and_the_fix(tmp_path: Path) -> None:
    found = {f["id"]: f for f in _check(tmp_path, "4.50.0")}
    member = found["model-code-member-missing"]
    assert member["severity"] == "error"
    assert member["message"].startswith(
        "modeling_toy.py:28 ToyForCausalLM uses _extract_past_from_model_output (in "
        "transformers 4.30.0 to 4.48.3).")
    assert member["fix"] == ["pip install 'transformers>=4.30.0,<4.49.0'   # the releases whose "
                             "base classes have every member it uses"]
    overrides = sorted((f["severity"], f["title"]) for f in _check(tmp_path, "4.50.0")
                       if f["id"] == "model-code-override-signature")
    assert overrides == [
        ("warning", "ToyForCausalLM._set_gradient_checkpointing cannot take 'enable', "
                    "'gradient_checkpointing_func', which transformers 4.50.0 passes to it"),
        ("warning", "ToyForCausalLM._update_model_kwargs_for_generation cannot take "
                    "'num_new_tokens', which transformers 4.50.0 passes to it")]


def test_replayed_from_the_report_without_the_files(tmp_path: Path) -> None:
    env = environment("a100-cu124")
    env["packages"]["transformers"] = "4.50.0"
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    code, out, err = run("check", "--no-probe", "-m", str(_model(tmp_path)), "--from-report",
                         str(path), "--format", "json")
    assert code == 1, err
    report = tmp_path / "report.json"
    report.write_text(out)
    import shutil
    shutil.rmtree(tmp_path / "toy")
    _, again, err = run("check", "--no-probe", "--from-report", str(report), "--format", "json")
    ids = [f["id"] for f in json.loads(again)["findings"]]
    assert "model-code-member-missing" in ids and "model-code-override-signature" in ids, err
