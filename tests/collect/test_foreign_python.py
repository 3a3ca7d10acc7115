"""`--python PATH`: diagnose another interpreter's environment (a real venv made here, with
no vlmdoctor in it) without installing anything into it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import run


@pytest.fixture(scope="module")
def other_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("other-env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "fakepkg-1.2.3.dist-info").mkdir()
    (site / "transformers-4.36.2.dist-info").mkdir()
    (site / "torch").mkdir()
    (site / "torch" / "version.py").write_text(
        "__version__ = '2.1.0+cu118'\ncuda: Optional[str] = '11.8'\n")
    return python


def snapshot_of(*args: str) -> dict[str, object]:
    code, out, err = run("env", "--format", "json", *args)
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def test_env_reads_the_other_interpreters_packages_and_torch(other_python: Path) -> None:
    data = snapshot_of("--python", str(other_python))
    assert data["packages"] == {"fakepkg": "1.2.3", "transformers": "4.36.2"}
    assert data["torch"] == {"version": "2.1.0+cu118", "cuda": "11.8"}
    python = data["python"]
    assert isinstance(python, dict) and python["executable"] == str(other_python)
    # and nothing was installed there
    site = other_python.parent.parent
    assert not list(site.rglob("vlmdoctor*"))


def test_own_environment_is_not_mixed_in(other_python: Path) -> None:
    own = snapshot_of()
    other = snapshot_of("--python", str(other_python))
    assert "click" in own["packages"]  # type: ignore[operator]
    assert "click" not in other["packages"]  # type: ignore[operator]


def test_check_uses_the_other_environment(other_python: Path) -> None:
    code, out, err = run("check", "--no-probe", "-m", "minigemini-34b", "--format", "json",
                         "--python", str(other_python))
    assert code == 1, err
    ids = {f["id"] for f in json.loads(out)["findings"]}
    assert "model-transformers-version" not in ids  # 4.36.2 is the pin MGM-34B needs
    code, out, _ = run("check", "--no-probe", "-m", "minigemini-34b", "--format", "json")
    assert json.loads(out)["environment"]["packages"]["transformers"] != "4.36.2"


def test_probe_skips_when_the_other_python_has_no_importable_torch(other_python: Path) -> None:
    # The fake torch has no __init__.py: find_spec finds a namespace package, so make the
    # check explicit: the probe runs with (or reports on) the other interpreter.
    code, out, err = run("probe", "--python", str(other_python), "--format", "json",
                         "--timeout", "60")
    assert code == 1, err
    probe = json.loads(out)["probe"]
    assert probe["status"] in ("failed", "skipped")


@pytest.mark.parametrize(("path", "message"), [
    ("/nonexistent/python", "vlmdoctor: error: --python /nonexistent/python: not an "
                            "executable file\n"),
    ("/bin/false", "vlmdoctor: error: --python /bin/false: not a Python 3 interpreter that "
                   "vlmdoctor can read (exit 1: no output)\n"),
])
def test_bad_python_is_one_line_exit_2(path: str, message: str) -> None:
    code, out, err = run("env", "--python", path)
    assert (code, out, err) == (2, "", message)


# Issue 19 §5: the user site-packages (~/.local) as the interpreter itself sees it.
def _user_site(python: str, home: Path) -> Path:
    out = subprocess.run([python, "-E", "-c", "import site; print(site.getusersitepackages())"],
                         capture_output=True, text=True, check=True, env={"HOME": str(home)},
                         timeout=60).stdout.strip()
    return Path(out)


def _own_answer(python: str, home: Path, name: str) -> str | None:
    """What the interpreter itself imports, run as a user would run it."""
    code = ("import importlib.metadata as m, sys\n"
            f"try: print(m.version({name!r}))\nexcept m.PackageNotFoundError: print('-')")
    out = subprocess.run([python, "-E", "-c", code], capture_output=True, text=True, cwd="/",
                         env={"HOME": str(home)}, check=True, timeout=60).stdout.strip()
    return None if out == "-" else out


def test_a_venv_never_reports_the_user_site_packages(
        other_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    user = _user_site(str(other_python), tmp_path)
    (user / "userpkg-9.9.9.dist-info").mkdir(parents=True)
    (user / "transformers-5.0.0.dist-info").mkdir()
    packages = snapshot_of("--python", str(other_python))["packages"]
    assert packages == {"fakepkg": "1.2.3", "transformers": "4.36.2"}
    assert _own_answer(str(other_python), tmp_path, "userpkg") is None  # and Python agrees


def test_the_user_site_packages_comes_before_the_interpreters_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if not base.is_file():
        pytest.skip(f"no base interpreter at {base}")
    monkeypatch.setenv("HOME", str(tmp_path))
    user = _user_site(str(base), tmp_path)
    if _own_answer(str(base), tmp_path, "pip") is None:
        pytest.skip("the base interpreter has no pip to shadow")
    for name, version in (("pip", "0.0.1"), ("onlyuser", "3.2.1")):  # 0.0.1 shadows pip
        info = user / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if _own_answer(str(base), tmp_path, "pip") != "0.0.1":
        pytest.skip("this interpreter has the user site-packages turned off")
    packages = snapshot_of("--python", str(base))["packages"]
    assert isinstance(packages, dict)
    assert packages["pip"] == "0.0.1" and packages["onlyuser"] == "3.2.1"


def test_an_interpreter_that_prints_a_banner_first_is_still_read(tmp_path: Path) -> None:
    # Cluster wrappers and sitecustomize hooks print before the program runs; the snippet's
    # JSON is the last line of the output.
    from vlmdoctor.collect.foreign import inspect_python

    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\necho "Loaded module python/site-default"\n'
                       f'exec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    found = inspect_python(str(wrapper))
    assert found.version == ".".join(str(n) for n in sys.version_info[:3])
    assert found.implementation == sys.implementation.name
