"""The requirement check equals `pip check` on real virtual environments.

Two venvs built from PyPI once per session: a clean one (huggingface-hub with its
dependencies: markers, extras) and one broken on purpose (`--no-deps` installs and an
old `packaging` under accelerate, which needs packaging>=20.0). The venvs have no pip of
their own; this interpreter's pip drives them with `--python` (pip >= 22.3).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from packaging.requirements import Requirement

from vlmdoctor.collect.host import read_host, read_python
from vlmdoctor.collect.packages import Distribution, installed_distributions
from vlmdoctor.collect.requirements import in_stack, stack_requirements
from vlmdoctor.evaluate.requirements import applicable, unmet
from vlmdoctor.snapshot import Snapshot

CLEAN = ["huggingface-hub==0.26.5", "tqdm==4.66.5"]
BROKEN = ["--no-deps", "accelerate==1.0.1", "packaging==19.0", "tqdm==4.66.5",
          "qwen-vl-utils==0.0.8"]


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *args],
                          capture_output=True, text=True, timeout=300, env=env, check=False)


def _venv(root: Path, packages: list[str]) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True,
                   timeout=120)
    python = root / "bin" / "python"
    done = _pip(python, "install", "-q", *packages)
    if done.returncode != 0:
        pytest.skip(f"cannot install from the package index: {done.stderr.strip()[-300:]}")
    return python


@pytest.fixture(scope="session")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("clean"), CLEAN)


@pytest.fixture(scope="session")
def broken_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("broken"), BROKEN)


def pip_check(python: Path) -> list[str]:
    out = _pip(python, "check").stdout.splitlines()
    return sorted(line for line in out if line != "No broken requirements found.")


def doctor_check(python: Path, keep: Callable[[str], bool]) -> list[str]:
    """The doctor's result for that venv, written as pip check writes it."""
    site = glob.glob(str(python.parent.parent / "lib" / "python3*" / "site-packages"))
    return _as_pip_lines(installed_distributions(site), keep)


def _as_pip_lines(dists: dict[str, Distribution], keep: Callable[[str], bool]) -> list[str]:
    snapshot = Snapshot(host=read_host(), python=read_python(),
                        packages={n: d.version for n, d in dists.items()},
                        requirements=stack_requirements(dists, keep))
    lines = []
    for item in unmet(snapshot, applicable(snapshot)):
        d = item.declared
        if item.found is None:
            lines.append(f"{d.requirer} {d.requirer_version} requires {d.package}, "
                         "which is not installed.")
        else:
            lines.append(f"{d.requirer} {d.requirer_version} has requirement "
                         f"{Requirement(d.text)}, but you have {d.package} {item.found}.")
    return sorted(lines)


def _everything(_: str) -> bool:
    return True


def _touches_stack(line: str) -> bool:
    words = line.replace(",", " ").split()
    return in_stack(words[0]) or in_stack(words[3] if "requires" in words else words[-2])


def test_clean_venv_matches_pip_check(clean_venv: Path) -> None:
    assert pip_check(clean_venv) == []
    assert doctor_check(clean_venv, _everything) == []


def test_broken_venv_matches_pip_check(broken_venv: Path) -> None:
    expected = pip_check(broken_venv)
    assert "accelerate 1.0.1 has requirement packaging>=20.0, but you have packaging 19.0." \
        in expected
    assert doctor_check(broken_venv, _everything) == expected


def test_snapshot_keeps_what_pip_check_says_about_the_stack(broken_venv: Path) -> None:
    expected = [line for line in pip_check(broken_venv) if _touches_stack(line)]
    assert "packaging 19.0 requires six, which is not installed." not in expected
    assert doctor_check(broken_venv, in_stack) == expected


def test_this_interpreter_matches_pip_check() -> None:
    """The environment running the tests (a healthy one, here and in CI): same answer."""
    expected = pip_check(Path(sys.executable))
    assert _as_pip_lines(installed_distributions(), _everything) == expected
