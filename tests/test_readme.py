"""The README's promises: CI runs its test command, and its quick start is real."""

from __future__ import annotations

import re

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()


def quick_start() -> list[str]:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines()]


def test_quick_start_is_two_commands() -> None:
    run, test = quick_start()
    assert run.startswith("pip install . && vlmdoctor check")
    assert "pytest" in test and "torch==2.13.0" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = quick_start()
    assert test in CI.splitlines()


def test_ci_runs_the_readme_quick_start_check() -> None:
    run, _ = quick_start()
    check = run.split("&&", 1)[1].strip()
    assert any(line.startswith(check) for line in CI.splitlines())


def test_exit_code_table_matches_the_contract() -> None:
    rows = re.findall(r"^\| (\d+) \|", README, flags=re.M)
    assert rows == ["0", "1", "2", "3", "130"]


def test_ci_runs_the_quick_start_before_torch_and_again_after() -> None:
    run, test = quick_start()
    lines = CI.splitlines()
    check = run.split("&&", 1)[1].strip()
    # the whole quick-start line, in a venv without torch
    first = next(i for i, line in enumerate(lines) if line.startswith(run))
    assert lines.index(test) > first
    assert any(line.startswith(check) for line in lines[lines.index(test) + 1:])
    assert not any("torch" in line and "install" in line
                   for line in lines[:first] if not line.lstrip().startswith("#"))


def test_slurm_prolog_names_the_model_it_checked() -> None:
    prolog = README.split("### As a pre-job gate", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert 'model="${VLM_MODEL:-' in prolog
    assert '--model "$model"' in prolog and "not fit for $model" in prolog
    assert "$VLM_MODEL," not in prolog
