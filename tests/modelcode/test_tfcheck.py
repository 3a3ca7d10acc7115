"""Index-based requirements: model_type floors, removed names, one combined transformers verdict."""

from __future__ import annotations

import gzip
import json
from typing import Any

from vlmdoctor.evaluate.transformers_window import combine, index_parts
from vlmdoctor.knowledge.cards import PackageRequirement
from vlmdoctor.modelcode.scan import CodeScan, ImportSite
from vlmdoctor.modelcode.tfcheck import code_name_problems, model_type_needs
from vlmdoctor.tfindex.build import build_index
from vlmdoctor.tfindex.index import TransformersIndex, from_document


def _index() -> TransformersIndex:
    gen = "transformers.generation.utils"

    def scan(types: list[str], gen_names: list[str]) -> dict[str, Any]:
        return {"model_types": types,
                "modules": {"transformers": ["PreTrainedModel"], gen: gen_names,
                            "transformers.generation": ["utils"]}}

    scans = {
        "4.40.0": scan(["llama"], ["GenerationMixin", "GreedySearchOutput"]),
        "4.45.0": scan(["llama", "qwen2_vl"], ["GenerationMixin", "GreedySearchOutput"]),
        "4.50.0": scan(["llama", "qwen2_vl"], ["GenerationMixin", "GreedySearchOutput",
                                                "GenerateOutput"]),
        "5.0.0": scan(["llama", "qwen2_vl"], ["GenerationMixin", "GenerateOutput"]),
    }
    return from_document(json.loads(gzip.decompress(build_index(scans))))


def _scan(*sites: ImportSite) -> CodeScan:
    return CodeScan("remote code", tuple(sorted({s.file for s in sites})), sites)


GEN = "transformers.generation.utils"


def test_model_type_floor() -> None:
    [need] = model_type_needs(_index(), ["qwen2_vl", "llama"], "4.40.0")
    assert (need["model_type"], need["spec"], need["first"]) == ("qwen2_vl", ">=4.45.0", "4.45.0")
    assert model_type_needs(_index(), ["qwen2_vl"], "4.45.1") == []
    assert model_type_needs(_index(), ["own_remote_type"], "4.40.0") == []


def test_removed_and_added_names_give_one_window() -> None:
    code = _scan(ImportSite("modeling_x.py", 7, GEN, ("GreedySearchOutput", "GenerateOutput"),
                            False, ""))
    problems = code_name_problems(_index(), [code], "5.0.0")
    assert problems is not None
    assert problems["spec"] == ">=4.50.0,<5.0.0"
    assert [(m["where"], m["name"]) for m in problems["missing"]] == [
        ("modeling_x.py:7", f"{GEN}.GreedySearchOutput")]
    assert "4.40.0 to 4.50.0" in problems["why"]
    assert code_name_problems(_index(), [code], "4.50.0") is None


def test_guarded_unknown_and_module_imports_make_no_claim() -> None:
    guarded = ImportSite("m.py", 2, GEN, ("GreedySearchOutput",), False, "try")
    unknown = ImportSite("m.py", 3, "transformers.not_indexed", ("Thing",), False, "")
    submodule = ImportSite("m.py", 4, "transformers.generation", ("utils",), False, "")
    code = _scan(guarded, unknown, submodule)
    assert code_name_problems(_index(), [code], "5.0.0") is None
    assert code_name_problems(_index(), [code], "9.0.0") is None  # past the index: unknown


def _req(spec: str, severity: str = "error", fix: str = "") -> PackageRequirement:
    return PackageRequirement(package="transformers", spec=spec, why=f"why {spec}.",
                              severity=severity, fix=(fix,) if fix else (), references=())


def test_card_windows_and_index_make_one_record_with_one_fix() -> None:
    index = _index()
    code = _scan(ImportSite("modeling_x.py", 7, GEN, ("GreedySearchOutput",), False, ""))
    reqs = [_req(">=4.40.0", fix="pip install 'transformers==4.40.0'"),
            _req("==4.45.0", "warning", "pip install 'transformers==4.45.0' 'tokenizers==0.19.1'")]
    parts = index_parts(index, "5.0.0", ["qwen2_vl"], [code])
    [record] = combine(reqs, "5.0.0", parts, index)
    assert record["severity"] == "error"
    assert record["spec"] == ">=4.40.0,<5.0.0"
    assert record["fix"] == ["pip install 'transformers==4.45.0' 'tokenizers==0.19.1'"]
    assert record["why"].startswith("The model's code imports names transformers 5.0.0")


def test_fix_is_built_from_the_index_when_no_curated_fix_fits() -> None:
    index = _index()
    reqs = [_req("<5", fix="pip install 'transformers<5'"), _req(">=4.45")]
    [record] = combine(reqs, "5.0.0", [], index)
    assert record["fix"] == ["pip install 'transformers>=4.45.0,<5.0.0'"]


def test_inside_every_window_is_no_record() -> None:
    assert combine([_req(">=4.40.0")], "4.45.0", [], _index()) == []


def _gen_index() -> TransformersIndex:
    """GenerateOutput exists from 5.0.0 on; 4.46.0 is yanked; 5.0.0rc0 is a release candidate."""
    gen = ["GenerationMixin"]
    scans = {v: {"model_types": ["llama"], "modules": {GEN: gen + (["GenerateOutput"] if new else [])}}
             for v, new in [("4.40.0", False), ("4.46.0", False), ("4.47.0", False),
                            ("5.0.0rc0", True), ("5.0.0", True), ("5.1.0", True), ("5.2.0", True)]}
    return from_document(json.loads(gzip.decompress(build_index(scans, yanked=["4.46.0"]))))


def test_a_release_the_card_knows_broken_is_never_recommended() -> None:
    index = _gen_index()
    code = _scan(ImportSite("modeling_x.py", 3, GEN, ("GenerateOutput",), False, ""))
    parts = index_parts(index, "4.47.0", [], [code])
    assert [p["spec"] for p in parts] == [">=5.0.0"]
    broken = _req("!=5.1.0", "warning")  # the card: 5.1.0 breaks this model
    [record] = combine([_req(">=4.40.0"), broken], "4.47.0", parts, index)
    assert (record["severity"], record["spec"]) == ("error", ">=4.40.0,>=5.0.0")
    assert record["fix"] == ["pip install 'transformers>=5.0.0,!=5.1.0'"]
    capped = [_req(">=4.40.0"), _req("<5.1", fix="pip install 'transformers==5.1.0'")]
    [record] = combine(capped, "4.47.0", parts, index)
    assert record["fix"] == ["pip install 'transformers>=5.0.0,<5.1.0'"]


def test_a_yanked_pin_in_a_card_is_not_offered() -> None:
    index = _gen_index()
    [record] = combine([_req("<4.47", fix="pip install 'transformers==4.46.0'")], "5.2.0", [], index)
    assert record["fix"] == ["pip install 'transformers>=4.40.0,<4.46.0'"]


def test_a_missed_info_window_alone_stays_info() -> None:
    index = _gen_index()
    tested = _req("==4.47.0", "info", "pip install 'transformers==4.47.0' 'tokenizers==0.19.1'")
    [record] = combine([_req(">=4.40.0"), tested], "5.0.0", [], index)
    assert (record["severity"], record["spec"], record["why"]) == ("info", "==4.47.0", "why ==4.47.0.")
    assert record["fix"] == ["pip install 'transformers==4.47.0' 'tokenizers==0.19.1'"]
    [record] = combine([_req("<5.2", "warning"), tested], "5.2.0", [], index)
    assert (record["severity"], record["spec"]) == ("warning", "<5.2")
    assert record["why"] == "why <5.2. Also: why ==4.47.0."
    assert combine([tested], "4.47.0", [], index) == []
