"""The probe's real torch build against the wheel table: the truth wins, disagreements
are reported (torch-build-differs-from-table), and agreement says nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_knowledge, snapshot
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.evaluate.torchtruth import compare
from vlmdoctor.probe.assemble import ChildOutcome, assemble
from vlmdoctor.probe.model import ProbeRequest
from vlmdoctor.reportfile import SavedEnvironment

TABLE_CU124 = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
RTX_5090 = {"gpus": [{"index": 0, "name": "NVIDIA GeForce RTX 5090", "memory_total_mib": 32607,
                      "memory_free_mib": 31000, "compute_capability": "12.0"}],
            "driver": {"version": "570.124.06", "cuda": "12.8"}}


def _compare(patch: dict[str, Any] | None, real: dict[str, Any]) -> Any:
    return compare(snapshot("a100-cu124", patch), make_knowledge().tables, real)


def test_agreement_is_silent() -> None:
    assert _compare(None, {"cuda": "12.4", "arch_list": TABLE_CU124}) is None


def test_no_table_row_no_comparison() -> None:
    patch = {"torch": {"version": "2.5.1+cu999", "cuda": "99.9"}}
    assert _compare(patch, {"cuda": "12.4", "arch_list": ["sm_80"]}) is None


def test_a_real_list_that_covers_the_gpu_withdraws_the_table_finding() -> None:
    finding = _compare(RTX_5090, {"cuda": "12.4", "arch_list": [*TABLE_CU124, "sm_120"]})
    assert (finding.id, finding.severity) == ("torch-build-differs-from-table", "warning")
    assert finding.evidence["withdraws"] == ["torch-arch-missing"]
    assert "GPU 0: NVIDIA GeForce RTX 5090 (sm_120) runs this build" in finding.message


def test_a_real_list_without_the_gpu_arch_is_an_error() -> None:
    finding = _compare(None, {"cuda": "12.4", "arch_list": ["sm_90"]})
    assert (finding.severity, "withdraws" in finding.evidence) == ("error", False)
    assert "GPU 0: NVIDIA A100-SXM4-80GB (sm_80) does NOT run this build" in finding.message


def test_another_cuda_than_the_files_say_is_info() -> None:
    finding = _compare(None, {"cuda": "12.1", "arch_list": TABLE_CU124})
    assert (finding.severity, finding.message.split(". ")[0]) == (
        "info", "The imported torch reports CUDA 12.1 (the installed files say 12.4)")


def test_run_check_drops_what_the_truth_withdraws() -> None:
    knowledge = make_knowledge()
    snap = snapshot("a100-cu124", RTX_5090)
    real = {"cuda": "12.4", "arch_list": [*TABLE_CU124, "sm_120"]}

    def stage(snapshot_: Any, model: Any, dtype: Any) -> Any:
        differs = compare(snapshot_, knowledge.tables, real)
        return None, (differs,)

    saved = SavedEnvironment(snapshot=snap, redactions=(), target_model=None, target_dtype=None)
    ids = lambda probe: [f.id for f in run_check(  # noqa: E731
        CheckRequest(from_report="saved.json"), knowledge, probe_stage=probe, saved=saved).findings]
    assert "torch-arch-missing" in ids(None)
    after = ids(stage)
    assert "torch-arch-missing" not in after and "torch-build-differs-from-table" in after


def test_the_child_result_carries_the_torch_build_into_evidence() -> None:
    result_event = {"event": "result", "device": "cuda", "device_reason": "", "dtype": "bf16",
                    "generated_tokens": 0, "tokens_per_second": None, "peak_memory_bytes": {},
                    "error": None, "torch_build": {"cuda": "12.4", "arch_list": ["sm_80"]}}
    result = assemble(ChildOutcome(events=(result_event,), returncode=0), ProbeRequest())
    assert result.evidence["torch_build"] == {"cuda": "12.4", "arch_list": ["sm_80"]}
