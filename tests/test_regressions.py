"""Tests that kill the mutants a mutation run of the suite left alive (see
benchmarks/mutants.py): each asserts the behaviour a small deliberate bug would break,
through the real CLI where the wiring is what matters, with hand-written invariants
where golden files alone would be regenerated from the bug."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import ROOT, environment
from tests.probe.helpers import needs_torch
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.probe import ProbeRequest, ProbeResult, run_probe

GOLDEN = ROOT / "tests" / "golden"


def saved(tmp_path: Path, base: str, patch: dict[str, Any] | None = None) -> str:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(environment(base, patch)))
    return str(path)


# -- check's wiring ---------------------------------------------------------------------

def test_check_hands_the_models_family_to_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    import vlmdoctor.probe as probe

    asked: list[ProbeRequest] = []

    def fake_run(request: ProbeRequest, **_: Any) -> ProbeResult:
        asked.append(request)
        return ProbeResult.skipped("fake probe")

    monkeypatch.setattr(probe, "run_probe", fake_run)
    monkeypatch.setattr(probe, "torch_importable", lambda *a, **k: True)
    code, _, err = run("check", "-m", "internvl2-8b", "--fail-on", "never")
    assert code == 0, err
    assert [r.family for r in asked] == ["internvl"]


@needs_torch
@pytest.mark.slow
def test_check_with_a_live_cpu_probe_end_to_end() -> None:
    code, out, err = run("check", "-m", "internvl2-8b", "--format", "json", "--fail-on", "never",
                         "--probe-timeout", "240")
    report = json.loads(out)
    assert code == report["summary"]["exit_code"], err
    probe = report["probe"]
    assert probe["status"] == "passed", probe
    tiny = next(s for s in probe["steps"] if s["name"] == "tiny-vlm")
    assert tiny["status"] == "passed"
    assert tiny["detail"].startswith("internvl architecture (")


def test_check_plans_with_the_environments_max_pixels(tmp_path: Path) -> None:
    def required(pixels: str | None) -> int:
        patch = {"env": {"MAX_PIXELS": pixels}} if pixels else None
        path = saved(tmp_path, "a100-cu124", patch)
        code, out, err = run("check", "--from-report", path, "-m", "qwen2-vl-7b-instruct",
                             "--format", "json", "--fail-on", "never")
        assert code == 0, err
        plan = json.loads(out)["plan"]
        assert plan is not None
        return int(plan["required_bytes"])

    default, small = required(None), required(str(256 * 28 * 28))
    assert small < default


# -- process hygiene --------------------------------------------------------------------

def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return any(line.split() == ["State:", "Z", "(zombie)"] for line in handle)
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_a_timed_out_probe_leaves_no_process_behind(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import os, subprocess, sys, time
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open({str(pids)!r}, "w") as f:
            f.write(f"{{os.getpid()}} {{grandchild.pid}}")
        time.sleep(120)
    """))
    result = run_probe(ProbeRequest(timeout=2.0), command=[sys.executable, str(script)])
    assert result.status == "timeout"
    deadline = time.monotonic() + 5
    ids = [int(p) for p in pids.read_text().split()]
    while not all(_gone(p) for p in ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in ids if not _gone(p)] == []


# -- the shipped cards ------------------------------------------------------------------

def test_shipped_internvl_76b_card_pins_the_rotary_embedding_to_gpu_0() -> None:
    card = load_knowledge(None).catalogue.resolve("internvl2-76b")
    assert "language_model.model.rotary_emb" in card.placement.first_gpu
    code, out, _ = run("plan", "-m", "internvl2-76b", "--gpus", "4xA100-80GB",
                       "--format", "json")
    assert code == 0
    device_map = json.loads(out)["device_map"]
    assert device_map["language_model.model.rotary_emb"] == 0
    assert device_map["vision_model"] == device_map["language_model.output"] == 0


# -- invariants on the golden outputs (regenerating them cannot hide these) --------------

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def test_golden_text_states_the_exit_the_json_gives() -> None:
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    text = (GOLDEN / "mgm-34b-h100-cu117.txt").read_text()
    summary = report["summary"]
    assert summary["exit_code"] == (1 if summary["verdict"] == "fail" else 0)
    assert f"Verdict: {summary['verdict'].upper()} (exit {summary['exit_code']}" in text
    counts = {s: sum(1 for f in report["findings"] if f["severity"] == s)
              for s in ("error", "warning", "info")}
    assert (summary["errors"], summary["warnings"], summary["infos"]) == (
        counts["error"], counts["warning"], counts["info"])


def test_golden_findings_are_ordered_by_severity_then_id() -> None:
    findings = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())["findings"]
    rank = {"error": 0, "warning": 1, "info": 2}
    keys = [(rank[f["severity"]], f["id"]) for f in findings]
    assert keys == sorted(keys)
    text = (GOLDEN / "mgm-34b-h100-cu117.txt").read_text()
    shown = re.findall(r"^  [x!i] \[([a-z0-9-]+)\]", text, flags=re.M)
    assert shown == [f["id"] for f in findings]


def test_markdown_table_cells_are_escaped(tmp_path: Path) -> None:
    path = saved(tmp_path, "a100-cu124", {"env": {"CUDA_VISIBLE_DEVICES": "0|1 | x"},
                                          "python": {"executable": "/opt/a|b/python"}})
    code, md, err = run("check", "--from-report", path, "--format", "markdown")
    assert code in (0, 1), err
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) > 3
    for row in table:
        assert len(UNESCAPED_PIPE.findall(row)) == 3, row
    assert "| $CUDA_VISIBLE_DEVICES | 0\\|1 \\| x |" in table


def test_golden_states_the_first_target_scenario() -> None:
    """MiniGemini-34B on 4 x H100 with torch 2.0.1+cu117 and both OpenCV wheels (design.md,
    scenario 1): whatever the goldens are regenerated to, these causes and fixes stay."""
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    errors = {f["id"]: f for f in report["findings"] if f["severity"] == "error"}
    assert {"model-transformers-version", "torch-arch-missing", "opencv-variants-conflict"} <= set(errors)
    assert "'transformers==4.36.2'" in errors["model-transformers-version"]["fix"][0]
    torch_fix = errors["torch-arch-missing"]["fix"][0]
    assert "'torch==2.0.1'" in torch_fix and torch_fix.endswith("/whl/cu118")  # has sm_90
    assert report["summary"]["exit_code"] == 1
    for suffix in ("txt", "md"):
        text = (GOLDEN / f"mgm-34b-h100-cu117.{suffix}").read_text()
        assert all(f"[{i}]" in text or f"`{i}`" in text for i in errors), suffix
        assert "transformers==4.36.2" in text and "/whl/cu118" in text
