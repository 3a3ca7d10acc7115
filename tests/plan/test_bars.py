"""The per-GPU memory bar in `plan` text output."""

from __future__ import annotations

from tests.cli.test_cli import run
from vlmdoctor.plan.bars import LEGEND, memory_bar
from vlmdoctor.plan.constants import GIB
from vlmdoctor.plan.result import GpuUsage


def usage(w: float, k: float, a: float, o: float, cap: float) -> GpuUsage:
    return GpuUsage(index=0, weights_bytes=int(w * GIB), kv_bytes=int(k * GIB),
                    activation_bytes=int(a * GIB), overhead_bytes=int(o * GIB),
                    capacity_bytes=int(cap * GIB))


def test_bar_splits_used_memory_and_free_space() -> None:
    assert memory_bar(usage(20, 6, 4, 2, 80)) == f"[{'W' * 10}KKKAAO{'.' * 24}]  40% used"


def test_every_present_part_gets_a_cell_and_absent_parts_none() -> None:
    bar = memory_bar(usage(40, 0.01, 0, 0.01, 80))
    assert bar == f"[{'W' * 20}KO{'.' * 18}]  50% used"


def test_over_capacity_runs_past_a_capacity_mark() -> None:
    bar = memory_bar(usage(90, 4, 4, 2, 80))
    assert bar == f"[{'W' * 40}|{'W' * 5}KKAAO] 125% used: over by 20.00 GiB"


def test_unknown_capacity_draws_nothing() -> None:
    assert memory_bar(usage(1, 0, 0, 0, 0)) == "(capacity unknown: cannot draw)"


def test_plan_text_shows_one_bar_per_gpu_and_the_legend() -> None:
    code, out, _ = run("plan", "-m", "internvl2-76b", "--gpus", "2xA100-80GB")
    assert code == 1
    bars = [line for line in out.splitlines() if "[" in line and "used" in line]
    assert [line.split()[0] for line in bars] == ["0", "1"]
    assert "over by" in bars[1] and "over by" not in bars[0]
    assert LEGEND in out.splitlines()
    assert LEGEND == "  W weights, K KV cache, A activations, O overhead, . free"
