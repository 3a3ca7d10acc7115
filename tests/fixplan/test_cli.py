"""check --write-constraints and --resolve from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run as _run
from tests.conftest import environment
from tests.fixplan.test_plan import VLLM


def _env(tmp_path: Path) -> str:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(environment("h100x4-cu121", VLLM)))
    return str(path)


def test_write_constraints_writes_the_requirement_set(tmp_path: Path) -> None:
    target = tmp_path / "constraints.txt"
    code, out, err = _run("check", "-m", "minigemini-34b", "--from-report", _env(tmp_path),
                          "--write-constraints", str(target))
    assert code == 1  # the findings still decide the exit
    assert target.read_text() == (
        "# pip constraints from vlmdoctor 0.1.0 for minigemini-34b: the fix plan's "
        "requirement set.\n"
        "# Use: pip install -c THIS_FILE <what you install>\n"
        "# the torch build comes from: --extra-index-url https://download.pytorch.org/whl/cu118"
        " (give it on the pip command line)\n"
        "torch==2.5.1\ntorchvision==0.20.1\ntransformers==4.36.2\ntokenizers==0.15.0\n")
    assert f"vlmdoctor: wrote constraints to {target}" in err
    assert out.rstrip().endswith("pip install -e .")  # the text report ends with the plan


def test_an_unwritable_constraints_path_is_exit_2_with_one_line(tmp_path: Path) -> None:
    code, out, err = _run("check", "-m", "minigemini-34b", "--from-report", _env(tmp_path),
                          "--write-constraints", str(tmp_path / "missing" / "c.txt"))
    assert code == 2 and out == ""
    assert err == (f"vlmdoctor: error: {tmp_path / 'missing' / 'c.txt'}: cannot write the "
                   "constraints file: No such file or directory\n")


def test_json_report_has_the_fix_plan_section(tmp_path: Path) -> None:
    code, out, _ = _run("check", "-m", "minigemini-34b", "--from-report", _env(tmp_path),
                        "--format", "json")
    assert code == 1
    plan = json.loads(out)["fix_plan"]
    assert [b["package"] for b in plan["breaks"]] == ["vllm", "vllm"]
    assert plan["resolve"] is None


def test_resolve_with_an_interpreter_that_is_not_there_is_a_finding(tmp_path: Path) -> None:
    code, out, err = _run("check", "-m", "minigemini-34b", "--from-report", _env(tmp_path),
                          "--resolve", "--python", str(tmp_path / "nope"), "--format", "json")
    report = json.loads(out)
    assert code == 1 and err == ""
    (finding,) = [f for f in report["findings"] if f["id"].startswith("fix-plan")]
    assert finding["id"] == "fix-plan-resolve-failed"
    assert report["fix_plan"]["resolve"]["status"] == "pip-failed"
