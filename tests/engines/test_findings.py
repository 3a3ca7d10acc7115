"""`engine-model-unsupported`: an installed vLLM, SGLang or LMDeploy that does not serve the
model's architecture, answered from the shipped engine index for catalogue models and for
model directories alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import environment
from tests.hostile.test_reports import run


def _check(tmp_path: Path, packages: dict[str, Any], *model: str) -> tuple[int, list[dict[str, Any]]]:
    env = environment("a100-cu124")
    env["packages"].update(packages)
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    code, out, err = run("check", "--no-probe", "--from-report", str(path), "--format", "json",
                         *model)
    assert code in (0, 1), err
    return code, [f for f in json.loads(out)["findings"] if f["id"] == "engine-model-unsupported"]


def _model_dir(tmp_path: Path, architectures: list[str]) -> str:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama",
                                                    "architectures": architectures}))
    return str(folder)


def test_a_release_before_the_first_that_serves_the_model(tmp_path: Path) -> None:
    _, found = _check(tmp_path, {"vllm": "0.6.4"}, "-m", "qwen2.5-vl-7b-instruct")
    assert [(f["severity"], f["title"]) for f in found] == [
        ("warning", "vllm 0.6.4 does not serve Qwen2_5_VLForConditionalGeneration")]
    assert found[0]["fix"][0].startswith("pip install 'vllm>=0.7.2'   # the first release that "
                                         "serves it (vLLM 0.7.2 pins torch==2.5.1 and transformers")
    assert "registers Qwen2_5_VLForConditionalGeneration (the model's architecture, from its " \
           "config.json) from release 0.7.2 on" in found[0]["message"]
    assert "https://docs.vllm.ai/en/latest/models/supported_models.html" in found[0]["references"]


@pytest.mark.parametrize(("packages", "model"), [
    ({"vllm": "0.7.2"}, "qwen2.5-vl-7b-instruct"),         # the first release that serves it
    ({"vllm": "0.7.3+cu118"}, "qwen2.5-vl-7b-instruct"),   # a local build of a later one
    ({"vllm": "0.6.1"}, "qwen2-vl-7b-instruct"),           # Qwen2-VL from 0.6.1 (vLLM docs)
    ({}, "qwen2.5-vl-7b-instruct"),                        # no engine installed
    ({"vllm": "0.6.4"}, "minigemini-34b"),                 # a card without architectures
])
def test_silent_where_the_engine_serves_it_or_nothing_is_known(
        tmp_path: Path, packages: dict[str, Any], model: str) -> None:
    assert _check(tmp_path, packages, "-m", model)[1] == []


def test_one_finding_per_engine_that_misses_it(tmp_path: Path) -> None:
    _, found = _check(tmp_path, {"vllm": "0.6.0", "sglang": "0.3.0"}, "-m", "qwen2-vl-7b-instruct")
    assert [f["title"] for f in found] == [
        "sglang 0.3.0 does not serve Qwen2VLForConditionalGeneration",
        "vllm 0.6.0 does not serve Qwen2VLForConditionalGeneration"]
    assert found[1]["fix"][0].startswith("pip install 'vllm>=0.6.1'")


def test_an_architecture_the_engine_dropped(tmp_path: Path) -> None:
    """vLLM's own registry lists Phi4MultimodalForCausalLM as previously supported, up to 0.12.0."""
    model = _model_dir(tmp_path, ["Phi4MultimodalForCausalLM"])
    _, found = _check(tmp_path, {"vllm": "0.20.0"}, "-m", model)
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert "served Phi4MultimodalForCausalLM up to release 0.12.0 and no longer registers it " \
           "from 0.13.0 on" in found[0]["message"]
    assert found[0]["fix"][0].startswith("pip install 'vllm==0.12.0'   # the last release")


def test_an_architecture_no_release_registers_is_info(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, ["ToyVLMForCausalLM"])
    code, found = _check(tmp_path, {"lmdeploy": "0.9.2"}, "-m", model)
    assert code == 0
    assert [(f["severity"], f["title"]) for f in found] == [
        ("info", "lmdeploy 0.9.2 does not serve ToyVLMForCausalLM")]
    assert found[0]["fix"] == ["# serve ToyVLMForCausalLM with transformers, or with an "
                               "engine that registers it"]


def test_lmdeploy_dropped_minigemini_after_0_9_1(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, ["MGMLlamaForCausalLM"])
    _, found = _check(tmp_path, {"lmdeploy": "0.10.0"}, "-m", model)
    assert "served MGMLlamaForCausalLM up to release 0.9.1" in found[0]["message"]


def test_a_release_newer_than_the_index_says_so(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, ["ToyVLMForCausalLM"])
    _, found = _check(tmp_path, {"vllm": "99.0.0"}, "-m", model)
    assert "was checked as that release" in found[0]["message"]
    assert "99.0.0" in found[0]["message"]


def _explain(tmp_path: Path, packages: dict[str, Any], text: str) -> tuple[int, list[dict[str, Any]]]:
    env = environment("a100-cu124")
    env["packages"].update(packages)
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    code, out, err = run("explain", "--from-report", str(path), "--format", "json", text)
    assert code in (0, 1), err
    return code, [f for f in json.loads(out)["findings"]
                  if f["id"] == "symptom-engine-architecture-unsupported"]


REFUSAL = ("ValueError: Model architectures ['Qwen2_5_VLForConditionalGeneration'] are not "
           "supported for now. Supported architectures: dict_keys(['AquilaModel'])")


def test_explain_answers_vllms_refusal_from_the_index(tmp_path: Path) -> None:
    code, found = _explain(tmp_path, {"vllm": "0.6.4"}, REFUSAL)
    assert code == 0 and len(found) == 1 and found[0]["severity"] == "error"
    assert found[0]["title"] == ("vLLM refused Qwen2_5_VLForConditionalGeneration: vllm 0.6.4 "
                                 "does not register it")
    assert found[0]["fix"][0].startswith("pip install 'vllm>=0.7.2'")


def test_explain_without_vllm_here_names_the_first_release(tmp_path: Path) -> None:
    code, found = _explain(tmp_path, {}, REFUSAL)
    assert code == 0 and "from release 0.7.2 on" in found[0]["message"]


def test_explain_stays_quiet_when_the_installed_vllm_serves_it(tmp_path: Path) -> None:
    _, found = _explain(tmp_path, {"vllm": "0.8.0"}, REFUSAL)
    assert found == []


def test_a_yanked_release_is_never_the_recommended_one() -> None:
    """pip skips a yanked release for a range, so the first release named is the first
    that installs (our own three-release index: 0.2.0 serves it but was yanked)."""
    from vlmdoctor.engines.index import from_document
    from vlmdoctor.evaluate.facts.engines import _record

    index = from_document({"format": 1, "engines": {"vllm": {
        "releases": ["0.1.0", "0.2.0", "0.2.1"], "yanked": ["0.2.0"],
        "pins": {"0.2.1": {"torch": "==2.5.1"}}, "archs": {"ToyForCausalLM": "1-2"}}}})
    record = _record(index.engines["vllm"], "0.1.0", ["ToyForCausalLM"], 0)
    assert record is not None and record["spec"] == ">=0.2.1"
    assert record["fix"][0].startswith("pip install 'vllm>=0.2.1'   # the first release that "
                                       "serves it (vLLM 0.2.1 pins torch==2.5.1)")
