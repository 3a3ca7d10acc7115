"""Any bytes as a safetensors file, any JSON as saved model facts or a saved target: an
input error (exit 2) or a result, never an internal error."""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import environment, make_knowledge
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.errors import InputError
from vlmdoctor.modelfiles.facts import ModelFacts
from vlmdoctor.modelfiles.safetensors import read_header
from vlmdoctor.reportfile import read_saved
from vlmdoctor.stages import planning

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)
FIELDS = st.sampled_from(["params", "geometry", "images", "quantization", "model_types",
                          "auto_map", "weight_bytes", "dtype", "files", "transformers_version"])
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.binary(max_size=64) | st.builds(
    lambda n, body: struct.pack("<Q", n) + body, st.integers(0, 2**64 - 1),
    st.binary(max_size=64)) | st.builds(
    lambda header: (lambda raw: struct.pack("<Q", len(raw)) + raw)(json.dumps(header).encode()),
    st.dictionaries(st.text(max_size=4), JSON, max_size=3)))
def test_any_bytes_as_safetensors(payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        path.write_bytes(payload)
        try:
            tensors = read_header(path, "model.safetensors")
        except InputError as exc:
            assert "\n" not in str(exc)
        else:
            assert all(0 <= t.count < 2**53 for t in tensors)


@SETTINGS
@given(st.dictionaries(FIELDS, JSON, max_size=4))
def test_any_json_as_model_facts(data: dict[str, Any]) -> None:
    try:
        facts = ModelFacts.from_dict(data)
    except InputError:
        return
    assert ModelFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


@SETTINGS
@given(st.fixed_dictionaries({}, optional={
    "model": st.sampled_from(["acme/x", "qwen2-vl-2b-instruct", ""]) | JSON,
    "dtype": st.sampled_from(["bf16", "auto", None]) | JSON,
    "source": st.fixed_dictionaries({"kind": st.sampled_from(["directory", "hf-cache",
                                                              "catalogue"])}) | JSON,
    "model_facts": st.dictionaries(FIELDS, JSON, max_size=4) | JSON | st.just({
        "params": {"language": 2**52, "total": 2**52}, "geometry": {
            "lm_layers": 2**52, "hidden_size": 2**52, "num_attention_heads": 1,
            "num_kv_heads": 2**52, "head_dim": 2**52, "vocab_size": 2**52},
        "images": {"max_pixels": 2**52, "patch_size": 1, "merge_size": 1}}),
}))
def test_any_saved_target_replays_or_is_an_input_error(target: dict[str, Any]) -> None:
    report = {"schema_version": 1, "environment": environment("a100-cu124"), "target": target}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        path.write_text(json.dumps(report))
        try:
            saved = read_saved(str(path))
            knowledge = make_knowledge()
            run_check(CheckRequest(from_report=str(path)), knowledge, saved=saved,
                      plan_stage=planning(knowledge))
        except InputError as exc:
            assert "\n" not in str(exc)


def test_absurd_but_valid_saved_sizes_plan_without_crashing(tmp_path: Path) -> None:
    facts = {"params": {"language": 2**52, "total": 2**52}, "dtype": "bfloat16",
             "geometry": {"lm_layers": 2**52, "hidden_size": 2**52, "num_attention_heads": 1,
                          "num_kv_heads": 2**52, "head_dim": 2**52, "vocab_size": 2**52},
             "images": {"max_pixels": 2**52, "patch_size": 1, "merge_size": 1}}
    report = {"schema_version": 1, "environment": environment("a100-cu124"),
              "target": {"model": "/x", "dtype": "bf16", "model_facts": facts,
                         "source": {"kind": "directory", "path": "/x"}}}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    knowledge = make_knowledge()
    result = run_check(CheckRequest(from_report=str(path)), knowledge,
                       saved=read_saved(str(path)), plan_stage=planning(knowledge))
    assert result.plan is not None and result.plan.to_dict()["fits"] is False
