"""The engine registries read from release artefacts: our own stand-ins of each engine's
registry layout (never upstream code), in the shapes their releases used."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from vlmdoctor.engines.index import from_document, load_engine_index
from vlmdoctor.engines.scan import archs, pins, wanted
from vlmdoctor.errors import InputError

VLLM_REGISTRY = b'''
logger = init_logger(__name__)
_TEXT_GENERATION_MODELS = {
    "LlamaForCausalLM": ("llama", "LlamaForCausalLM"),
    "AquilaModel": ("llama", "LlamaForCausalLM"),
}
_MULTIMODAL_MODELS: dict[str, tuple[str, str]] = {
    "Qwen2VLForConditionalGeneration": ("qwen2_vl", "Qwen2VLForConditionalGeneration"),
}
_VLLM_MODELS = {**_TEXT_GENERATION_MODELS, **_MULTIMODAL_MODELS}
_PREVIOUSLY_SUPPORTED_MODELS = {"Phi3SmallForCausalLM": "0.9.2"}
_OOT_SUPPORTED_MODELS = {"BartModel": "https://example.invalid/plugin"}
_ROCM_PARTIALLY_SUPPORTED_MODELS = {"Qwen2ForCausalLM": ("q", "Q")}
'''
VLLM_02_LOADER = b'''
from vllm.model_executor.models import *
_MODEL_REGISTRY = {
    "AquilaModel": AquilaForCausalLM,
    "BaiChuanForCausalLM": BaiChuanForCausalLM,
}
'''
SGLANG_MODEL = b'''
class Qwen2_5_VLForConditionalGeneration: ...
EntryClass = [Qwen2_5_VLForConditionalGeneration, models.Qwen2VLForConditionalGeneration]
'''
LMDEPLOY_MAP = b'''
MODULE_MAP = dict()
ASCEND_MODULE_MAP = dict()
REMOVED_MODEL_MAP = {"QWenLMHeadModel": "Qwen"}
MODULE_MAP.update({"LlamaForCausalLM": f"{PATH}.llama.LlamaForCausalLM"})
ASCEND_MODULE_MAP.update({"AscendOnly": "x"})
'''
LMDEPLOY_TM = b'SUPPORTED_ARCHS = dict(InternLM2ForCausalLM="internlm2", MiniCPMV="minicpmv")\n'
LMDEPLOY_VL = b"class Qwen2VLModel:\n    _arch = ['Qwen2VLForConditionalGeneration', 'Qwen2_5_VLForConditionalGeneration']\n"


def test_vllm_registrations_but_not_removed_plugins_or_rocm_notes() -> None:
    assert archs("vllm", [("vllm/model_executor/models/registry.py", VLLM_REGISTRY)]) == [
        "AquilaModel", "LlamaForCausalLM", "Qwen2VLForConditionalGeneration"]


def test_vllm_02_registry_maps_to_classes() -> None:
    assert archs("vllm", [("vllm/model_executor/model_loader.py", VLLM_02_LOADER)]) == [
        "AquilaModel", "BaiChuanForCausalLM"]


def test_sglang_entry_classes() -> None:
    assert archs("sglang", [("sglang/srt/models/qwen2_5_vl.py", SGLANG_MODEL)]) == [
        "Qwen2VLForConditionalGeneration", "Qwen2_5_VLForConditionalGeneration"]


def test_lmdeploy_pytorch_turbomind_and_vision_registrations() -> None:
    files = [("lmdeploy/pytorch/models/module_map.py", LMDEPLOY_MAP),
             ("lmdeploy/turbomind/supported_models.py", LMDEPLOY_TM),
             ("lmdeploy/vl/model/qwen2.py", LMDEPLOY_VL)]
    assert archs("lmdeploy", files) == [
        "InternLM2ForCausalLM", "LlamaForCausalLM", "MiniCPMV",
        "Qwen2VLForConditionalGeneration", "Qwen2_5_VLForConditionalGeneration"]


def test_a_file_that_does_not_parse_is_skipped() -> None:
    files = [("vllm/model_executor/models/registry.py", b"_MODELS = {\n"),
             ("vllm/model_executor/models/__init__.py", VLLM_REGISTRY)]
    assert "LlamaForCausalLM" in archs("vllm", files)


@pytest.mark.parametrize(("engine", "path", "expected"), [
    ("vllm", "vllm-0.6.4/vllm/model_executor/models/registry.py", True),
    ("vllm", "vllm/model_executor/models/llama.py", False),
    ("sglang", "sglang/srt/models/qwen2.py", True),
    ("sglang", "sglang/srt/models/sub/qwen2.py", False),
    ("lmdeploy", "lmdeploy/vl/model/qwen2.py", True),
    ("lmdeploy", "lmdeploy/pytorch/models/qwen2.py", False),
])
def test_which_files_are_read(engine: str, path: str, expected: bool) -> None:
    assert wanted(engine, path) is expected


def test_pins_are_the_unconditional_torch_and_transformers_requirements() -> None:
    metadata = ("Metadata-Version: 2.1\nName: vllm\nRequires-Dist: transformers>=4.45.2\n"
                "Requires-Dist: torch ==2.5.1\nRequires-Dist: torch==2.4.0; extra == \"old\"\n"
                "Requires-Dist: numpy<2.0.0\n\nRequires-Dist: torch==9 (body, not header)\n")
    assert pins(metadata) == {"transformers": ">=4.45.2", "torch": "==2.5.1"}


def test_release_placement() -> None:
    index = from_document({"format": 1, "engines": {"vllm": {
        "releases": ["0.6.0", "0.6.1", "0.7.2"], "yanked": [], "pins": {},
        "archs": {"Q": "1-2"}}}})
    vllm = index.engines["vllm"]
    assert vllm.position("0.6.1") == 1 and vllm.position("0.6.1+cu118") == 1
    assert vllm.position("0.7.0") == 1  # between releases: the one before
    assert vllm.position("0.7.2rc1") == 1  # a pre-release reads as its predecessor
    assert vllm.position("0.5.0") is None and vllm.position("not-a-version") is None
    assert vllm.position("0.9.0") == 2 and vllm.newer_than_index("0.9.0")
    assert vllm.serves("Q", 1) and not vllm.serves("Q", 0)


@pytest.mark.parametrize(("content", "message"), [
    (b"not gzip", "cannot read the serving-engine index"),
    (gzip.compress(b'{"format": 9}'), "engine index: format 9, expected 1"),
    (gzip.compress(b'{"format": 1, "engines": {"vllm": 3}}'), "the 'vllm' section is malformed"),
    (gzip.compress(b'{"format": 1, "engines": {"vllm": {"releases"')[:20], "cannot read"),
])
def test_a_broken_index_is_one_error_naming_it(tmp_path: Path, content: bytes,
                                                message: str) -> None:
    path = tmp_path / "engines-index.json.gz"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_engine_index(path)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    path = tmp_path / "fifo"
    os.mkfifo(path)
    with pytest.raises(InputError, match="is a FIFO, not a serving-engine index"):
        load_engine_index(path)


def test_the_shipped_index_agrees_with_the_engines_release_notes() -> None:
    """Cross-checks with what the engines announced (release notes and docs)."""
    index = load_engine_index()
    vllm = index.engines["vllm"]
    first = {a: vllm.releases[vllm.spans(a)[0][0]] for a in
             ("Qwen2VLForConditionalGeneration", "Qwen2_5_VLForConditionalGeneration")}
    # vLLM docs: "You need to use vllm>=0.6.1 to enable Qwen2-VL support"; Qwen2.5-VL came
    # with v0.7.2 (release notes: "Qwen2.5-VL support").
    assert first == {"Qwen2VLForConditionalGeneration": "0.6.1",
                     "Qwen2_5_VLForConditionalGeneration": "0.7.2"}
    assert vllm.pins["0.6.4"] == {"torch": "==2.5.1", "transformers": ">=4.45.2"}
    assert json.dumps(sorted(index.engines)) == '["lmdeploy", "sglang", "vllm"]'
