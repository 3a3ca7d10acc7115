"""The process contract under closed streams, full disks, signals and odd installs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, environment
from vlmdoctor.collect import torchbuild

PY = [sys.executable, "-m", "vlmdoctor"]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), VLMDOCTOR_NO_CACHE="1")
    env.update(extra)
    return env


def _report(tmp_path: Path) -> str:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(environment("a100-cu124")))
    return str(path)


def _one_line_error(err: str) -> None:
    assert err.count("\n") == 1 and err.startswith("vlmdoctor: error: "), err


@pytest.mark.parametrize(("args", "stdin", "stdout", "message"), [
    (["explain"], "closed", None,
     "vlmdoctor: error: no error text given and standard input is closed (pass the text as "
     "arguments)\n"),
    (["check", "--no-probe", "--from-report", "REPORT"], None, "closed",
     "vlmdoctor: error: standard output is closed; write the report with -o FILE\n"),
    (["check", "--no-probe", "--from-report", "REPORT"], None, "/dev/full",
     "vlmdoctor: error: standard output: cannot write: No space left on device\n"),
    (["--help"], None, "/dev/full",
     "vlmdoctor: error: standard output: cannot write: No space left on device\n"),
    (["check", "--no-probe", "--from-report", "REPORT", "--format", "json"], None, "/dev/full",
     "vlmdoctor: error: standard output: cannot write: No space left on device\n"),
])
def test_closed_and_full_streams_exit_2_with_one_line(tmp_path: Path, args: list[str],
                                                      stdin: str | None, stdout: str | None,
                                                      message: str) -> None:
    if stdout == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    argv = [*PY, *(_report(tmp_path) if a == "REPORT" else a for a in args)]
    opened = open(stdout, "w") if stdout == "/dev/full" else None  # noqa: SIM115
    try:
        def closing() -> None:
            if stdin == "closed":
                os.close(0)
            if stdout == "closed":
                os.close(1)
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=opened or subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=_env(), timeout=120,
                              preexec_fn=closing)
    finally:
        if opened:
            opened.close()
    assert (done.returncode, done.stderr) == (2, message)


def _handlers_installed(pid: int) -> bool:
    """vlmdoctor's first instruction catches SIGTERM (the interpreter catches only SIGINT)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.06, 0.15, 0.4])
def test_ctrl_c_at_any_moment_exits_130_without_traceback(tmp_path: Path, delay: float) -> None:
    """From vlmdoctor's first instruction on (before that, Python itself is starting)."""
    proc = subprocess.Popen([*PY, "check", "--no-probe", "--from-report", _report(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=_env())
    while proc.poll() is None and not _handlers_installed(proc.pid):
        time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode in (0, 1) and not err:  # it finished before the signal came
        return
    assert (proc.returncode, err.strip()) == (130, "vlmdoctor: interrupted")


def test_pathological_torch_version_file_is_a_reason(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    version = tmp_path / "version.py"
    version.write_text("__version__ = " + "(" * 200_000 + "1" + ")" * 200_000 + "\n")
    monkeypatch.setattr(torchbuild, "find_torch_version_file", lambda paths=None: version)
    build, reason = torchbuild.read_torch_build()
    assert build is None and reason is not None and reason.startswith(f"cannot read {version}: ")
