"""`explain` asks the release indexes about any missing name, module or model type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import environment
from vlmdoctor.torchindex import index as torch_index

QWEN25 = ("ValueError: The checkpoint you are trying to load has model type `qwen2_5_vl` but "
          "Transformers does not recognize this architecture. This could be because of an issue "
          "with the checkpoint, or because your version of Transformers is out of date.")


def _explain(tmp_path: Path, text: str, patch: dict[str, Any] | None = None,
             base: str = "a100-cu124") -> tuple[int, list[dict[str, Any]]]:
    env = tmp_path / "env.json"
    env.write_text(json.dumps(environment(base, patch)))
    code, out, err = run("explain", "--format", "json", "--from-report", str(env), "--", text)
    assert code in (0, 1), err
    return code, json.loads(out)["findings"]


def _index_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["id"] == "symptom-release-index"]


def test_a_transformers_name_the_install_has(tmp_path: Path) -> None:
    code, findings = _explain(tmp_path, "ImportError: cannot import name 'is_torch_fx_proxy' "
                              "from 'transformers.utils' (/venv/lib/transformers/utils/__init__.py)")
    [found] = _index_findings(findings)
    assert code == 0
    assert found["severity"] == "warning"
    assert found["title"] == "transformers.utils.is_torch_fx_proxy: present in transformers 4.45.2"
    assert ("has transformers.utils.is_torch_fx_proxy in transformers 4.30.0 and later. The "
            "installed transformers 4.45.2 has it: the failing process imported another "
            "transformers") in found["message"]
    assert found["fix"] == ['python -c "import transformers; print(transformers.__version__, '
                            'transformers.__file__)"   # run with the failing interpreter']


def test_torch_six_is_in_no_indexed_release(tmp_path: Path) -> None:
    code, findings = _explain(tmp_path, "ImportError: cannot import name '_six' from 'torch' "
                              "(/opt/venv/lib/python3.10/site-packages/torch/__init__.py)")
    [found] = _index_findings(findings)
    assert (code, found["severity"]) == (0, "error")
    assert found["title"] == ("torch._six: in no indexed torch release (2.0.0 to 2.15.0): "
                              "removed before 2.0.0 or never there")
    assert "No torch release in the index has it: the code that imports it must change" \
        in found["message"]


def test_a_transformers_model_package_added_later(tmp_path: Path) -> None:
    _, findings = _explain(tmp_path, "ModuleNotFoundError: No module named "
                           "'transformers.models.qwen3_vl'")
    [found] = _index_findings(findings)
    # 4.57.0 was yanked: it is where the package first shipped, and pip skips it for a range
    assert found["title"] == ("module transformers.models.qwen3_vl: added in transformers "
                              "4.57.0")
    assert "in transformers 4.57.0 and later. The installed transformers 4.45.2 does not." \
        in found["message"]
    assert found["fix"] == ["pip install 'transformers>=4.57.0'"]


def test_a_model_type_transformers_does_not_recognise(tmp_path: Path) -> None:
    code, findings = _explain(tmp_path, QWEN25)
    [found] = _index_findings(findings)
    assert code == 0
    assert found["title"] == "model_type 'qwen2_5_vl': added in transformers 4.49.0"
    assert found["fix"] == ["pip install 'transformers>=4.49.0'"]
    # the curated cause still speaks too
    assert "symptom-unknown-model-type" in [f["id"] for f in findings]


@pytest.mark.parametrize(("text", "title"), [
    ("KeyError: 'qwen2_vl'", "model_type 'qwen2_vl': added in transformers 4.45.0"),
    ("KeyError: 'input_ids'", None),
    ("AttributeError: module 'torch' has no attribute 'compiler'",
     "torch.compiler: added in torch 2.1.0"),
    ("ModuleNotFoundError: No module named 'torchvision.transforms.functional_tensor'", None),
])
def test_other_questions(tmp_path: Path, text: str, title: str | None) -> None:
    patch = {"torch": {"version": "2.0.1+cu118", "cuda": "11.8"},
             "packages": {"torch": "2.0.1+cu118", "transformers": "4.44.2"}}
    _, findings = _explain(tmp_path, text, patch)
    assert [f["title"] for f in _index_findings(findings)] == ([title] if title else [])


def test_a_torch_name_answer_carries_the_cuda_fix(tmp_path: Path) -> None:
    patch = {"torch": {"version": "2.6.0+cu124", "cuda": "12.4"},
             "packages": {"torch": "2.6.0+cu124"}}
    _, findings = _explain(tmp_path, "ImportError: cannot import name 'enable_flash_sdp' from "
                           "'torch.nn.attention'", patch)
    [found] = _index_findings(findings)
    assert found["title"] == ("torch.nn.attention.enable_flash_sdp: removed in torch 2.6.0 "
                              "(last in 2.5.1)")
    assert found["fix"] == ["pip install 'torch==2.5.1' 'torchvision==0.20.1' "
                            "--index-url https://download.pytorch.org/whl/cu124"]


def test_an_unreadable_index_is_one_info_line(tmp_path: Path, monkeypatch: Any) -> None:
    broken = tmp_path / "torch-index.json.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00truncated")
    monkeypatch.setattr(torch_index, "INDEX_FILE", broken)
    torch_index.load_index.cache_clear()
    try:
        code, findings = _explain(tmp_path, "ImportError: cannot import name '_six' from 'torch'")
    finally:
        torch_index.load_index.cache_clear()
    assert _index_findings(findings) == [] and code == 1  # nothing recognised
    [info] = [f for f in findings if f["id"] == "release-index-unavailable"]
    assert info["severity"] == "info"
    assert info["title"] == ("A release index cannot be read: explain's release-index answers "
                             "for torch were not given")
    assert info["message"].startswith(f"{broken}: cannot read the torch index (")
    assert "\n" not in info["message"]


def test_members_of_transformers_classes_from_the_members_index(tmp_path: Path) -> None:
    patch = {"packages": {"transformers": "4.49.0"}}
    _, findings = _explain(tmp_path, "AttributeError: 'DynamicCache' object has no attribute "
                           "'get_max_length'", patch)
    [found] = _index_findings(findings)
    assert found["severity"] == "error"
    assert found["title"].startswith("DynamicCache.get_max_length: removed in transformers "
                                     "4.49.0 (last in 4.48.3)")
    assert "in transformers 4.36.0 to 4.48.3" in found["message"]


@pytest.mark.parametrize("text", [
    # from_pretrained takes **kwargs: the members index cannot say where 'dtype' fails
    "TypeError: PreTrainedModel.from_pretrained() got an unexpected keyword argument 'dtype'",
    "AttributeError: 'Qwen2VLConfig' object has no attribute 'vocab_size'",  # not indexed
    "AttributeError: 'NoneType' object has no attribute 'shape'",
])
def test_what_the_members_index_cannot_answer_is_left_alone(tmp_path: Path, text: str) -> None:
    _, findings = _explain(tmp_path, text)
    assert _index_findings(findings) == []
