"""The engine index at its edges (issue 19 §6): the last release of a span, the newest
release the index read, metadata bodies and the update() form of LMDeploy's registries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engines.test_findings import _check
from vlmdoctor.engines.index import load_engine_index
from vlmdoctor.engines.scan import archs, pins


def _model_dir(tmp_path: Path, architecture: str) -> str:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama",
                                                    "architectures": [architecture]}))
    return str(folder)


def test_the_last_release_that_registers_an_architecture_serves_it(tmp_path: Path) -> None:
    # vLLM registered Phi4MultimodalForCausalLM up to 0.12.0 (test_findings); 0.12.0 serves it.
    model = _model_dir(tmp_path, "Phi4MultimodalForCausalLM")
    assert _check(tmp_path, {"vllm": "0.12.0"}, "-m", model)[1] == []


def test_the_newest_release_read_is_not_called_newer_than_the_index(tmp_path: Path) -> None:
    newest = load_engine_index().engines["vllm"].releases[-1]
    model = _model_dir(tmp_path, "ToyVLMForCausalLM")
    found: list[dict[str, Any]] = _check(tmp_path, {"vllm": newest}, "-m", model)[1]
    assert [f["severity"] for f in found] == ["info"]
    assert "checked as that release" not in found[0]["message"]
    assert found[0]["message"].startswith(f"No vLLM release up to {newest} registers "
                                          "ToyVLMForCausalLM")


def test_a_requirement_quoted_in_the_description_is_not_a_pin() -> None:
    metadata = ("Metadata-Version: 2.1\nName: vllm\nRequires-Dist: torch==2.5.1\n\n"
                "Install notes:\nRequires-Dist: torch==2.4.0\nRequires-Dist: transformers<4\n")
    assert pins(metadata) == {"torch": "==2.5.1"}


def test_lmdeploy_registrations_added_with_update_are_read() -> None:
    source = (b"SUPPORTED_ARCHS = dict(InternLM2ForCausalLM='internlm2')\n"
              b"SUPPORTED_ARCHS.update({'Qwen2ForCausalLM': 'qwen2'})\n")
    assert archs("lmdeploy", [("lmdeploy/turbomind/supported_models.py", source)]) == [
        "InternLM2ForCausalLM", "Qwen2ForCausalLM"]
