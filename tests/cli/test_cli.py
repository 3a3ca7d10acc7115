"""The public contract: exit codes, one-line errors, --from-report equivalence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES, ROOT, environment
from vlmdoctor.cli import dispatch

ENV = FIXTURES / "environments"


def run(*args: str) -> tuple[int, str, str]:
    """Run the real entry point in-process (the gate's parser, then click), capturing the
    exit code main() exits with."""
    runner = CliRunner()
    with runner.isolation() as streams:
        code = dispatch(list(args))
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return code, out.decode(), err.decode()


@pytest.fixture()
def h100_report(tmp_path: Path) -> Path:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(environment("h100x4-cu121")))
    return path


def test_clean_environment_exits_0(h100_report: Path) -> None:
    code, out, err = run("check", "--from-report", str(h100_report), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["summary"] == {"errors": 0, "warnings": 0, "infos": 0, "verdict": "pass",
                                 "exit_code": 0, "reason": "nothing at or above --fail-on error"}


def test_findings_exit_1(h100_report: Path) -> None:
    code, out, _ = run("check", "--from-report", str(h100_report), "--model", "mgm-7b",
                       "--format", "json")
    assert code == 1
    ids = [f["id"] for f in json.loads(out)["findings"]]
    assert ids == ["model-transformers-version", "plan-unknown-size"]


def test_fail_on_warning_and_never(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    # A warning and nothing worse: two packages ship the pynvml module.
    path.write_text(json.dumps(environment("a100-cu124", {"packages": {"pynvml": "11.5.0"}})))
    assert run("check", "--from-report", str(path))[0] == 0
    assert run("check", "--from-report", str(path), "--fail-on", "warning")[0] == 1
    assert run("check", "--from-report", str(path), "--fail-on", "never", "-m", "mgm-7b")[0] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["check", "--bogus"], "vlmdoctor: error: unknown option --bogus; see 'vlmdoctor check --help'"),
    (["check", "--no-prob"],
     "vlmdoctor: error: unknown option --no-prob (did you mean --no-probe?); see 'vlmdoctor check --help'"),
    (["check", "--dtype", "fp8"],
     "vlmdoctor: error: Invalid value for '--dtype': 'fp8' is not one of 'auto', 'bf16', "
     "'fp16', 'fp32'. (see 'vlmdoctor check --help')"),
    (["check", "--no-probe", "--model", "./no/such/ckpt"],
     "vlmdoctor: error: ./no/such/ckpt: no such model directory"),
    (["check", "--from-report", "/nonexistent/report.json"],
     "vlmdoctor: error: /nonexistent/report.json: no such file"),
    (["rules", "show", "cuda-driver-to-old"],
     "vlmdoctor: error: unknown rule 'cuda-driver-to-old' (did you mean 'cuda-driver-too-old'?)"),
    (["frobnicate"], "vlmdoctor: error: No such command 'frobnicate'. (see 'vlmdoctor --help')"),
])
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert err == message + "\n"
    assert out == ""


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "malformed JSON: line 1, column 2: Expecting property name enclosed in double quotes"),
    ("[1, 2]", "expected a JSON object (a vlmdoctor report or snapshot)"),
    ('{"hello": 1}', "not a vlmdoctor report or snapshot (no 'environment', 'host', 'packages' or 'gpus' key)"),
    ('{"environment": {"gpus": "many"}}', "environment.gpus: expected a list of objects"),
    ('{"environment": {"driver": {"version": 535}}, "schema_version": 7}',
     "unsupported report schema_version 7 (this vlmdoctor reads 1)"),
])
def test_malformed_reports_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _, err = run("check", "--from-report", str(path))
    assert code == 2
    assert err == f"vlmdoctor: error: {path}: {message}\n"


def test_malformed_rules_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "checks").mkdir(parents=True)
    (rules / "checks" / "x.yaml").write_text("rules: [")
    code, _, err = run("check", "--rules", str(rules), "--no-probe")
    assert code == 2
    assert err.startswith("vlmdoctor: error: ")
    assert err.count("\n") == 1


def test_internal_error_exits_3_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import vlmdoctor.cli.check_run as check_run

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(check_run, "run_check", boom)
    code, _, err = run("check", "--no-probe")
    assert code == 3
    assert err == ("vlmdoctor: internal error: RuntimeError: kaput (set VLMDOCTOR_DEBUG=1 for a "
                   "traceback, and please report it)\n")


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import vlmdoctor.cli.check_run as check_run

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(check_run, "run_check", interrupted)
    code, _, err = run("check", "--no-probe")
    assert code == 130
    assert err.strip() == "vlmdoctor: interrupted"


def test_from_report_reproduces_the_findings(tmp_path: Path, h100_report: Path) -> None:
    """A maintainer re-checking a saved report gets the same findings as the user did."""
    env = environment("h100x4-cu121", {"torch": {"version": "2.0.1+cu117", "cuda": "11.7"},
                                       "packages": {"torch": "2.0.1+cu117"}})
    first = tmp_path / "first.json"
    h100_report.write_text(json.dumps(env))
    run("check", "--from-report", str(h100_report), "-m", "mgm-7b", "--format", "json",
        "--output", str(first))
    second = tmp_path / "second.json"
    code, _, _ = run("check", "--from-report", str(first), "-m", "mgm-7b", "--format", "json",
                     "--output", str(second))
    assert code == 1
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["findings"] == b["findings"]
    assert a["environment"] == b["environment"]
    assert [f["id"] for f in a["findings"]] == [
        "model-transformers-version", "torch-arch-missing", "nvcc-torch-cuda-major-mismatch",
        "plan-unknown-size"]


def test_bare_snapshot_from_env_command_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    code, _, _ = run("env", "--format", "json", "--output", str(path))
    assert code == 0
    code, out, _ = run("check", "--from-report", str(path), "--format", "json")
    assert json.loads(out)["environment"] == json.loads(path.read_text())


def test_models_and_rules_listing() -> None:
    code, out, _ = run("models", "--format", "json")
    assert code == 0
    assert "minigemini-34b" in [m["id"] for m in json.loads(out)]
    code, out, _ = run("rules", "list")
    assert code == 0 and "cuda-driver-too-old" in out
    code, out, _ = run("rules", "show", "opencv-variants-conflict")
    assert code == 0 and out.startswith("opencv-variants-conflict (error)\n")


def test_python_dash_m_and_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "vlmdoctor", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0
    assert "Exit codes: 0 ok, 1 findings" in proc.stdout


def test_from_report_replays_the_saved_probe(tmp_path: Path) -> None:
    """A user's failed probe stays in the maintainer's re-check (and still fails it)."""
    probe = json.loads((FIXTURES / "probe" / "failed-no-kernel-image-h100-cu117.json").read_text())
    report = {"schema_version": 1, "environment": environment("h100x4-cu121"),
              "probe": probe["probe"]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    code, out, _ = run("check", "--from-report", str(path), "--format", "json",
                       "--fail-on", "never")
    assert code == 1  # the probe failed: exit 1 whatever --fail-on says
    data = json.loads(out)
    assert data["probe"] == probe["probe"]
    assert "probe-no-kernel-image" in [f["id"] for f in data["findings"]]


def _probe_report(tmp_path: Path, kind: str) -> Path:
    """A report whose saved probe failed with an error of ``kind`` (in the probe's own code
    for probe-fault, in the model's code for model-code)."""
    owner = "in the probe: " if kind == "probe-fault" else "in the model's code: "
    probe = {"status": "failed", "device": "cuda:0",
             "steps": [{"name": "local-model", "status": "failed", "seconds": 1.0,
                        "detail": "RuntimeError: boom"}],
             "generated_tokens": 0, "tokens_per_second": None, "peak_memory_bytes": {},
             "error": {"kind": kind, "message": f"RuntimeError: boom\n{owner}x.py:3 in f: g()"}}
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps({"schema_version": 1, "environment": environment("h100x4-cu121"),
                                "probe": probe}))
    return path


def test_a_probe_that_failed_in_its_own_code_does_not_fail_the_gate(tmp_path: Path) -> None:
    """vlmdoctor's own probe bug says nothing about the model: the warning is reported and
    the exit follows --fail-on, not 'the probe failed'."""
    path = _probe_report(tmp_path, "probe-fault")
    code, out, _ = run("check", "--from-report", str(path), "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert [(f["id"], f["severity"]) for f in data["findings"]] == [("probe-probe-fault", "warning")]
    assert data["summary"]["verdict"] == "pass"
    assert data["summary"]["reason"] == "nothing at or above --fail-on error"
    code, out, _ = run("check", "--from-report", str(path), "--format", "json",
                       "--fail-on", "warning")
    assert code == 1
    assert json.loads(out)["summary"]["reason"] == "1 finding(s) at or above --fail-on warning"


def test_a_probe_that_failed_in_the_models_code_fails_whatever_fail_on_says(
        tmp_path: Path) -> None:
    path = _probe_report(tmp_path, "model-code")
    code, out, _ = run("check", "--from-report", str(path), "--format", "json",
                       "--fail-on", "never")
    assert code == 1
    assert json.loads(out)["summary"]["reason"] == "the probe failed"
