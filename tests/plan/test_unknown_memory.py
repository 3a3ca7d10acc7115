"""GPU memory that is unknown, zero or implausible means "cannot plan on this GPU"."""

from __future__ import annotations

import pytest

from vlmdoctor.plan import PlanRequest, gpus_from_snapshot, make_plan, plan_findings, unplannable
from vlmdoctor.plan.text import plan_text_lines
from vlmdoctor.snapshot import Gpu, Snapshot


def _snapshot(*gpus: Gpu) -> Snapshot:
    return Snapshot(gpus=gpus)


@pytest.mark.parametrize(("total", "free", "reason"), [
    (None, None, "its memory size is unknown (NVML did not report it)"),
    (0, 0, "its reported memory size (0 MiB) is not plausible"),
    (-5, -3, "its reported memory size (-5 MiB) is not plausible"),
    (1 << 40, None, f"its reported memory size ({1 << 40} MiB) is not plausible"),
])
@pytest.mark.parametrize("model", ["internvl2-8b", "llava-1.5-7b", "minigemini-34b"])
def test_unplannable_gpu_gives_info_not_a_crash(knowledge, model, total, free, reason):
    snap = _snapshot(Gpu(index=0, name="X", memory_total_mib=total, memory_free_mib=free,
                         compute_capability="8.0"))
    assert gpus_from_snapshot(snap) == ()
    assert unplannable(snap) == (f"cannot plan on GPU 0 (X): {reason}",)
    plan = make_plan(PlanRequest(card=knowledge.catalogue.resolve(model), gpus=(),
                                 excluded=unplannable(snap)))
    assert not plan.fits and plan.device_map == {}
    assert plan.notes[:2] == (f"cannot plan on GPU 0 (X): {reason}",
                              "no GPU with a known memory size was found; pass --gpus to plan "
                              "for GPUs you name, e.g. --gpus 1xA100-80GB, --gpus 2xL40S or "
                              "--gpus 2x24GiB")
    findings = plan_findings(plan)
    assert [(f.id, f.severity) for f in findings][:1] == [("plan-no-gpu-memory", "info")]
    assert "does-not-fit" not in {f.id for f in findings}
    assert plan_text_lines(plan)[0].startswith(f"Plan: {plan.model_name} in {plan.dtype}: "
                                               "no GPU to plan on")


@pytest.mark.parametrize("free", [0, -1, None, 10**9])
def test_free_memory_zero_or_odd_never_divides_by_zero(knowledge, free):
    snap = _snapshot(Gpu(index=0, name="A", memory_total_mib=40960, memory_free_mib=free),
                     Gpu(index=1, name="B", memory_total_mib=40960, memory_free_mib=0))
    gpus = gpus_from_snapshot(snap)
    assert len(gpus) == 2
    for model in ("internvl2-8b", "minigemini-8x7b", "qwen2-vl-7b-instruct"):
        plan = make_plan(PlanRequest(card=knowledge.catalogue.resolve(model), gpus=gpus))
        assert len(plan.per_gpu) == 2
