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
