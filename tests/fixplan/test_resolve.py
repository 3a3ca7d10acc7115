"""check --resolve: pip's own resolver, bounded; its failures are findings, never tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Mapping

import pytest

from tests.conftest import make_knowledge
from vlmdoctor.evaluate.context import Context
from vlmdoctor.fixplan import build_fix_plan
from vlmdoctor.fixplan.resolve import PipRun, resolve, run_pip
from vlmdoctor.report import Finding
from vlmdoctor.snapshot import Snapshot
from vlmdoctor.stages import fixing

SNAP = {"schema_version": 1, "packages": {"alpha": "2.0", "beta": "1.0", "pip": "24.0"},
        "requirements": {"beta": ["alpha>=2"]},
        "host": {"os": "Linux", "arch": "x86_64"}, "python": {"version": "3.10.0"}}


def _ctx(data: Mapping[str, object] = SNAP) -> Context:
    return Context(snapshot=Snapshot.from_dict(dict(data)), tables=make_knowledge().tables)


def _finding(fix: str) -> tuple[Finding, ...]:
    return (Finding(id="model-package-version", severity="error", title="t", message="m",
                    fix=(fix,)),)


def _stage(python: str, fix: str, runner: object = None, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return fixing(resolve_with=python, timeout=timeout, runner=runner)(_ctx(), _finding(fix))


def test_the_command_is_a_dry_run_of_the_plan_plus_installed_top_level_pins() -> None:
    seen: list[list[str]] = []

    def fake(argv: list[str], timeout: float, env: Mapping[str, str]) -> PipRun:
        seen.append(argv)
        assert env["PIP_NO_INPUT"] == "1" and timeout == 7.0
        return PipRun(0, json.dumps({"install": [{"metadata": {"name": "alpha",
                                                               "version": "1.5"}}]}), "")

    plan, findings = _stage("/py/bin/python", "pip install 'alpha>=1.5'", fake, 7.0)
    assert seen == [["/py/bin/python", "-m", "pip", "install", "--dry-run", "--ignore-installed",
                     "--report", "-", "--quiet", "--no-input", "--disable-pip-version-check",
                     "alpha>=1.5", "beta==1.0"]]  # alpha is required by beta; pip is tooling
    assert findings == ()
    assert plan.to_dict()["resolve"]["would_install"] == [{"name": "alpha", "version": "1.5"}]


def test_top_level_pins_leave_out_what_the_plan_changes_or_removes() -> None:
    from vlmdoctor.fixplan.resolve import top_level_pins

    data = {**SNAP, "packages": {**SNAP["packages"], "gamma": "3.0+local", "delta": "1.0",
                                 "opencv-python": "4.9.0.80"}}  # type: ignore[dict-item]
    ctx = _ctx(data)
    plan = build_fix_plan(ctx, (Finding(id="f", severity="error", title="t", message="m", fix=(
        "pip uninstall -y opencv-python", "pip install 'delta>=2'")),))
    assert top_level_pins(plan, ctx.snapshot) == ["beta==1.0", "gamma==3.0"]


@pytest.mark.parametrize("stderr,status,fid", [
    ("/py/bin/python: No module named pip", "pip-missing", "fix-plan-resolve-failed"),
    ("WARNING: Retrying ... NewConnectionError('Failed to establish a new connection')\n"
     "ERROR: Could not find a version that satisfies the requirement alpha>=1.5",
     "index-unreachable", "fix-plan-resolve-failed"),
    ("ERROR: Cannot install alpha==1.0 and beta==1.0 because these package versions have "
     "conflicting dependencies.\nERROR: ResolutionImpossible: for help visit x",
     "unsolvable", "fix-plan-unresolvable"),
    ("ERROR: No matching distribution found for alpha==9", "not-found", "fix-plan-unresolvable"),
    ("no such option: --dry-run", "pip-failed", "fix-plan-resolve-failed"),
])
def test_pip_failures_are_findings_with_pips_own_message(stderr: str, status: str, fid: str) -> None:
    plan, findings = _stage("py", "pip install 'alpha==1.0'",
                            lambda a, t, e: PipRun(1, "", stderr))
    assert plan.to_dict()["resolve"]["status"] == status
    (finding,) = findings
    assert finding.id == fid and finding.severity == "warning"
    assert stderr.splitlines()[-1] in finding.message


def test_the_index_being_unreachable_is_said_in_the_title() -> None:
    _, (finding,) = _stage("py", "pip install 'alpha==1.0'", lambda a, t, e: PipRun(
        1, "", "Temporary failure in name resolution"))
    assert finding.title == "Could not verify the fix plan with pip: the package index is unreachable"


def test_a_missing_interpreter_is_a_finding() -> None:
    _, (finding,) = _stage("/nonexistent/python", "pip install 'alpha==1.0'")
    assert finding.id == "fix-plan-resolve-failed"
    assert "cannot run /nonexistent/python: No such file or directory" in finding.message


def test_a_hanging_pip_is_stopped_with_its_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-alive"
    child = tmp_path / "child.py"
    child.write_text(f"import pathlib, time\ntime.sleep(1)\npathlib.Path({str(marker)!r}).touch()\n")
    hang = tmp_path / "hang.py"
    hang.write_text(f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(child)!r}])"
                    "\ntime.sleep(60)\n")
    start = time.monotonic()
    result = run_pip([sys.executable, str(hang)], 1.0, {})
    assert result.timed_out and time.monotonic() - start < 10
    time.sleep(1.5)
    assert not marker.exists()  # the whole group went, not just pip
    section = resolve(build_fix_plan(_ctx(), _finding("pip install 'alpha==1.0'")),
                      _ctx().snapshot, "py", 1.0, lambda a, t, e: result)
    assert section["status"] == "timeout"
    assert section["message"] == ("pip did not answer within 1 s (a slow or unreachable "
                                  "index?); it was stopped")


# --- real pip, a throwaway venv, a local wheel directory as the only index -------------------

def _wheel(where: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    dist = f"{name}-{version}.dist-info"
    meta = "\n".join(["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                      *(f"Requires-Dist: {r}" for r in requires)]) + "\n"
    files = {f"{name}/__init__.py": "", f"{dist}/METADATA": meta,
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = "".join(f"{path},,\n" for path in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(where / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        for path, text in {**files, f"{dist}/RECORD": record}.items():
            archive.writestr(path, text)


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv without pip's bootstrap (ensurepip takes seconds); this pip, alone, made
    importable in it through a .pth file."""
    import pip

    root = tmp_path_factory.mktemp("resolve")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True, timeout=60)
    python = root / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    (root / "pipsrc").mkdir()
    (root / "pipsrc" / "pip").symlink_to(Path(pip.__file__).parent)
    (Path(site) / "only-pip.pth").write_text(str(root / "pipsrc") + "\n")
    return str(python)


@pytest.fixture()
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for version in ("1.0", "2.0"):
        _wheel(tmp_path, "alpha", version)
    _wheel(tmp_path, "beta", "1.0", ("alpha>=2",))
    # The user's own pip configuration is what --resolve uses: here, no index but the wheels.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    return tmp_path


def _pip_agrees(python: str, requirements: list[str]) -> bool:
    proc = subprocess.run([python, "-m", "pip", "install", "--dry-run", "--quiet", *requirements],
                          capture_output=True, timeout=120, check=False)
    return proc.returncode == 0


def test_real_pip_solvable_plan(venv_python: str, wheels: Path) -> None:
    plan, findings = _stage(venv_python, "pip install 'alpha>=1.5'")
    section = plan.to_dict()["resolve"]
    assert section["status"] == "solvable", section["message"]
    assert sorted(section["would_install"], key=lambda i: i["name"]) == [
        {"name": "alpha", "version": "2.0"}, {"name": "beta", "version": "1.0"}]
    assert findings == () and _pip_agrees(venv_python, ["alpha>=1.5", "beta==1.0"])


def test_real_pip_unsolvable_plan(venv_python: str, wheels: Path) -> None:
    plan, (finding,) = _stage(venv_python, "pip install 'alpha==1.0'")
    assert [b.requirer for b in plan.breaks] == ["beta"]  # our own reading agrees in advance
    section = plan.to_dict()["resolve"]
    assert section["status"] == "unsolvable"
    assert "ResolutionImpossible" in section["message"]
    assert finding.id == "fix-plan-unresolvable"
    assert not _pip_agrees(venv_python, ["alpha==1.0", "beta==1.0"])


def test_real_python_without_pip(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")],
                   check=True, timeout=60)
    plan, (finding,) = _stage(str(tmp_path / "bare" / "bin" / "python"), "pip install 'alpha==1.0'")
    assert plan.to_dict()["resolve"]["status"] == "pip-missing"
    assert "No module named pip" in finding.message
