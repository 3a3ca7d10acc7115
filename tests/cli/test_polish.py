"""Consistency a user sees across commands: the verdict states the exit code, the same
options mean the same everywhere, and small promises (help, -o, stdin) hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.cli.test_cli import run
from tests.conftest import FIXTURES, environment
from vlmdoctor.cli import COMMANDS, cli
from vlmdoctor.cli.errors import run_cli

VERDICT = re.compile(r"^Verdict: (PASS|FAIL|FITS|DOES NOT FIT|NOT SIZED) \(exit (\d)\b", re.M)


def run_in(stdin: str, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    with runner.isolation(input=stdin) as streams:
        code = run_cli(cli, list(args))
        return code, streams[0].getvalue().decode(), streams[1].getvalue().decode()


def saved(tmp_path: Path, base: str = "h100x4-cu121", **extra: Any) -> str:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 1, "environment": environment(base), **extra}))
    return str(path)


def probe_section(name: str) -> dict[str, Any]:
    section: dict[str, Any] = json.loads((FIXTURES / "probe" / f"{name}.json").read_text())["probe"]
    return section


def stated_exit(out: str) -> int:
    found = VERDICT.findall(out)
    assert len(found) == 1, out
    return int(found[0][1])


CASES = [
    # (args, the exit the command must give)
    (["check", "-m", "mgm-7b"], 1),
    (["check", "-m", "mgm-7b", "--fail-on", "never"], 0),
    (["check", "--fail-on", "warning"], 0),
    (["explain", "CUDA error: no kernel image is available for execution on the device"], 0),
    (["explain", "nothing anyone has ever seen before"], 1),
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_verdict_line_states_the_exit_code(tmp_path: Path, args: list[str],
                                           expected: int) -> None:
    path = saved(tmp_path)
    code, out, err = run(*args, "--from-report", path)
    assert code == expected, err
    assert stated_exit(out) == code
    code_json, out_json, _ = run(*args, "--from-report", path, "--format", "json")
    summary = json.loads(out_json)["summary"]
    assert code_json == code
    assert (summary["exit_code"], summary["verdict"]) == (code, "fail" if code else "pass")
    _, md, _ = run(*args, "--from-report", path, "--format", "markdown")
    assert f"**Verdict: {'FAIL' if code else 'PASS'}** (exit {code}" in md


def test_fail_on_never_with_errors_says_nothing_fails_the_run(tmp_path: Path) -> None:
    code, out, _ = run("check", "-m", "mgm-7b", "--fail-on", "never", "--from-report",
                       saved(tmp_path))
    assert code == 0
    line = VERDICT.search(out)
    assert line is not None
    verdict = out.splitlines()[1]
    assert verdict.startswith("Verdict: PASS (exit 0: --fail-on never: findings are reported, "
                              "none fails the run)  1 error(s)")


@pytest.mark.parametrize(("fixture", "status"), [
    ("timeout-cuda-init", "timed out"), ("failed-no-kernel-image-h100-cu117", "failed")])
def test_a_failed_or_timed_out_probe_fails_check_even_under_fail_on_never(
        tmp_path: Path, fixture: str, status: str) -> None:
    path = saved(tmp_path, probe=probe_section(fixture))
    code, out, _ = run("check", "--from-report", path, "--fail-on", "never")
    assert code == 1
    assert f"Verdict: FAIL (exit 1: the probe {status})" in out
    code, out, _ = run("check", "--from-report", path, "--fail-on", "never", "--format", "json")
    assert code == 1
    assert json.loads(out)["summary"]["verdict"] == "fail"


def test_a_passed_probe_does_not_fail_check(tmp_path: Path) -> None:
    path = saved(tmp_path, probe=probe_section("passed-cpu-fallback"))
    code, out, _ = run("check", "--from-report", path, "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"]["verdict"] == "pass"


@pytest.mark.parametrize(("gpus", "code"), [("1xT4", 1), ("4xA100-80GB", 0)])
def test_plan_states_its_exit(gpus: str, code: int) -> None:
    got, out, err = run("plan", "-m", "internvl2-8b", "--gpus", gpus)
    assert got == code, err
    assert stated_exit(out) == code


def test_no_any_version_specifiers_in_findings(tmp_path: Path) -> None:
    path = saved(tmp_path, "a100-cu124")
    _, out, _ = run("check", "-m", "internvl2-76b", "--from-report", path, "--format", "json")
    titles = {f["title"] for f in json.loads(out)["findings"] if f["id"] == "model-package-missing"}
    assert titles == {"InternVL2-Llama3-76B needs einops, which is not installed",
                      "InternVL2-Llama3-76B needs timm, which is not installed"}
    assert ">=0" not in out


def test_text_shows_at_most_two_references_and_json_all(tmp_path: Path) -> None:
    path = saved(tmp_path)
    _, out, _ = run("check", "-m", "mgm-7b", "--from-report", path, "--format", "json")
    refs = {f["id"]: f["references"] for f in json.loads(out)["findings"]}
    assert max(len(r) for r in refs.values()) > 2  # the case this test is about
    _, text, _ = run("check", "-m", "mgm-7b", "--from-report", path)
    blocks = text.split("\n\n")
    for finding_id, all_refs in refs.items():
        block = next(b for b in blocks if f"[{finding_id}]" in b)
        shown = [line.strip()[4:] for line in block.splitlines() if line.strip().startswith("see ")]
        assert shown == all_refs[:2]
        more = len(all_refs) - 2
        assert (f"(+{more} more source(s) in --format json)" in block) == (more > 0)


def _command(name: str) -> click.Command:
    group = cli
    assert isinstance(group, click.Group)
    command = group.get_command(click.Context(group), name)
    assert command is not None
    return command


def _param(command: click.Command, name: str) -> click.Parameter | None:
    return next((p for p in command.params if p.name == name), None)


@pytest.mark.parametrize("name", ["check", "explain", "plan", "probe"])
def test_model_dtype_and_format_options_are_the_same_everywhere(name: str) -> None:
    command = _command(name)
    model = _param(command, "model")
    assert model is not None and model.opts == ["--model", "-m"]
    fmt = _param(command, "fmt")
    assert fmt is not None and isinstance(fmt.type, click.Choice)
    assert {"text", "json", "markdown"} <= set(fmt.type.choices)
    dtype = _param(command, "dtype")
    if name != "explain":
        assert dtype is not None and isinstance(dtype.type, click.Choice)
        assert dtype.type.choices[0] == "auto" and dtype.default == "auto"


@pytest.mark.parametrize("name", ["check", "explain", "plan", "probe"])
@pytest.mark.parametrize("empty", ["", "  "])
def test_empty_model_is_a_usage_error_everywhere(name: str, empty: str) -> None:
    code, out, err = run(name, "-m", empty, "--from-report", "/nonexistent") if name in (
        "check", "explain") else run(name, "-m", empty)
    assert code == 2
    assert err.startswith("vlmdoctor: error: Invalid value for '--model' / '-m': must not be "
                          "empty (leave the option out for no model)")
    assert out == ""


def test_plan_dtype_auto_is_the_native_dtype() -> None:
    _, auto, _ = run("plan", "-m", "internvl2-8b", "--gpus", "1xA100-80GB", "--format", "json")
    _, bf16, _ = run("plan", "-m", "internvl2-8b", "--gpus", "1xA100-80GB", "--format", "json",
                     "--dtype", "bf16")
    assert json.loads(auto) == json.loads(bf16)


@pytest.mark.parametrize("name", ["NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3",
                                  "Tesla V100-SXM2-32GB", "NVIDIA GeForce RTX 4090"])
def test_gpus_accepts_the_names_env_prints(name: str) -> None:
    code, out, err = run("plan", "-m", "qwen2-vl-7b-instruct", "--gpus", f"2x{name}",
                         "--format", "json")
    assert code in (0, 1), err
    assert len(json.loads(out)["gpus"]) == 2


@pytest.mark.parametrize("args", [["env"], ["check", "--no-probe"], ["schema"]])
def test_output_file_says_where_it_wrote(tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "out.txt"
    code, out, err = run(*args, "-o", str(target))
    assert code in (0, 1)
    assert out == ""
    assert err == f"vlmdoctor: wrote {target}\n"
    assert target.stat().st_size > 0


def test_rules_show_reads_ids_from_standard_input() -> None:
    _, listing, _ = run("rules", "list")
    picked = "\n".join(line for line in listing.splitlines() if "nccl" in line)
    ids = [line.split()[0] for line in picked.splitlines()]
    assert len(ids) >= 2
    code, out, err = run_in(picked + "\n", "rules", "show")
    assert code == 0, err
    shown = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert shown == ids
    # The whole listing (with its summary line) works too.
    code, out, _ = run_in(listing, "rules", "show")
    assert code == 0 and out.count("  title:") == len(listing.splitlines()) - 1


def test_rules_show_without_ids_is_a_usage_error() -> None:
    assert run_in("", "rules", "show") == (
        2, "", "vlmdoctor: error: no rule id given (pass ids as arguments or on standard "
               "input)\n")
    code, _, err = run_in("not-a-rule\n", "rules", "show")
    assert code == 2 and err.startswith("vlmdoctor: error: unknown rule 'not-a-rule'")


def test_bare_vlmdoctor_prints_help_and_exits_0() -> None:
    code, out, err = run()
    assert (code, err) == (0, "")
    assert out.startswith("Usage: vlmdoctor [OPTIONS] COMMAND [ARGS]...")
    for name in COMMANDS:
        assert f"  {name} " in out
