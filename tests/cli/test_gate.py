"""The gate's click-free parser of `check` (vlmdoctor.cli.gate) against click's own.

Every command line the gate's parser takes must give exactly the options click gives, and
every line it does not take goes to click (messages and all). The spec it parses against is
held to the options check_cmd declares for click."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner

import vlmdoctor.cli.check_cmd as check_cmd
import vlmdoctor.cli.check_run as check_run
from tests.cli.test_cli import run
from vlmdoctor.cli import dispatch
from vlmdoctor.cli.check_run import CheckParams
from vlmdoctor.cli.gate import SPEC, parse_check


def click_params(args: list[str], monkeypatch: pytest.MonkeyPatch) -> CheckParams | None:
    """What the click command hands on for ``check ARGS`` (None: click refused it)."""
    seen: list[CheckParams] = []

    def capture(params: CheckParams) -> int:
        seen.append(params)
        return 0
    monkeypatch.setattr(check_cmd, "run_check_command", capture)
    try:
        ctx = check_cmd.command.make_context("check", list(args))
        with ctx:
            check_cmd.command.invoke(ctx)
    except click.exceptions.Exit:
        pass
    except click.ClickException:
        return None
    return seen[0] if seen else None


def gate_params(args: list[str]) -> CheckParams | None:
    given = parse_check(list(args))
    return None if given is None else CheckParams(**given)


GATE_LINES = [
    ["--no-probe"],
    ["--no-probe", "--model", "minigemini-34b", "--fail-on", "never"],
    ["-m", "qwen2-vl-7b", "--no-probe", "--format", "json", "-o", "report.json"],
    ["--model=org/name", "--dtype=bf16", "--no-probe", "--fail-on=warning"],
    ["-mqwen2-vl-7b", "--no-probe", "--python", "/opt/venv/bin/python", "--rules", "rules"],
    ["--from-report", "env.json", "-m", "mgm-7b", "--format", "markdown"],
    ["--probe-timeout", "30", "--trust-remote-code", "--dtype", "auto"],
    ["--resolve", "--resolve-timeout=60.5", "--write-constraints", "c.txt", "--no-probe"],
]


@pytest.mark.parametrize("args", GATE_LINES, ids=" ".join)
def test_the_gate_takes_its_common_lines_exactly_as_click(
        args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    ours = gate_params(args)
    assert ours is not None, "the gate's own command lines must not need click"
    assert ours == click_params(args, monkeypatch)


def test_dtype_given_and_defaults() -> None:
    assert gate_params(["--no-probe"]) == CheckParams(no_probe=True)  # dtype None: not given
    assert gate_params(["--dtype", "auto"]) == CheckParams(dtype="auto")  # given, even as auto
    assert gate_params(["--probe-timeout", "1"]) == CheckParams(probe_timeout=1.0)


DEFERRED = [
    ["--help"], ["-h"], ["--bogus"], ["-x"], ["pos"], ["--", "--no-probe"], ["-"],
    ["--model", ""], ["--model=  "], ["-m"], ["--model"], ["--model", "--no-probe"],
    ["--no-probe", "--no-probe"], ["-m", "a", "--model", "b"], ["--no-probe=1"],
    ["--probe-timeout", "0.5"], ["--probe-timeout", "1e3"], ["--probe-timeout", "nan"],
    ["--probe-timeout", " 5"], ["--probe-timeout", "-3"], ["--dtype", "FP16"],
    ["--format", "yaml"], ["--fail-on", "info"], ["--output", "-"], ["--mod", "x"],
]


@pytest.mark.parametrize("args", DEFERRED, ids=" ".join)
def test_lines_the_gate_leaves_to_click(args: list[str]) -> None:
    assert parse_check(args) is None


@pytest.mark.parametrize("args,message", [
    (["--probe-timeout", "0.5"], "vlmdoctor: error: Invalid value for '--probe-timeout': "
                                 "0.5 is not in the range x>=1. (see 'vlmdoctor check --help')\n"),
    (["--bogus"], "vlmdoctor: error: unknown option --bogus; see 'vlmdoctor check --help'\n"),
    (["--model", ""], "vlmdoctor: error: Invalid value for '--model' / '-m': must not be empty "
                      "(leave the option out for no model) (see 'vlmdoctor check --help')\n"),
])
def test_click_still_answers_what_the_gate_leaves(args: list[str], message: str) -> None:
    code, out, err = run("check", *args)
    assert (code, out, err) == (2, "", message)


def _values(kind: str, choices: tuple[str, ...]) -> list[str]:
    if kind == "choice":
        return [*choices, choices[0].upper(), ""]
    if kind == "seconds":
        return ["1", "1.0", "2.5", "007", "120", "0", "0.99", "1e2", "inf", "x", " 3", "-1"]
    return ["x", "org/name", "a b", " ", "", "-", "=v", "./dir", "é"]


def _token_forms(spec: tuple[str, str, str | None, str, tuple[str, ...]]) -> list[list[str]]:
    _, long, short, kind, choices = spec
    if kind == "flag":
        return [[long], [f"{long}=1"]]
    forms = []
    for value in _values(kind, choices):
        forms += [[long, value], [f"{long}={value}"]]
        if short:
            forms += [[short, value], [f"{short}{value}"]]
    return forms


def test_random_command_lines_agree_with_click(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random mixes of every option in every form (and some strays): wherever the gate's
    parser answers, click answers the same."""
    pool = [form for spec in SPEC for form in _token_forms(spec)]
    pool += [["--help"], ["pos"], ["--"], ["-q"]]
    rng = random.Random(20261205)
    taken = 0
    for _ in range(600):
        args = list(itertools.chain.from_iterable(rng.sample(pool, rng.randint(0, 5))))
        ours = gate_params(args)
        if ours is None:
            continue
        taken += 1
        assert ours == click_params(args, monkeypatch), args
    assert taken > 100  # the comparison is not vacuous


def test_spec_is_the_click_commands_options() -> None:
    """Same destinations, option strings, kinds, choices and defaults as check_cmd's."""
    declared: dict[str, Any] = {}
    for param in check_cmd.command.params:
        assert isinstance(param, click.Option)
        assert not param.multiple and param.nargs == 1 and param.envvar is None
        kind: Any
        if param.is_flag:
            kind = ("flag", ())
        elif isinstance(param.type, click.Choice):
            kind = ("choice", tuple(param.type.choices))
        elif isinstance(param.type, click.FloatRange):
            assert (param.type.min, param.type.max, param.type.min_open, param.type.clamp) \
                == (1, None, False, False)
            kind = ("seconds", ())
        else:
            assert param.type is click.STRING
            kind = ("model" if param.callback is not None else "value", ())
        longs = [o for o in param.opts if o.startswith("--")]
        shorts = [o for o in param.opts if not o.startswith("--")]
        assert len(longs) == 1 and len(shorts) <= 1 and not param.secondary_opts
        declared[str(param.name)] = (longs[0], shorts[0] if shorts else None, *kind)
        default = None if param.name == "dtype" else param.default
        if param.is_flag:
            default = False
        assert getattr(CheckParams(), str(param.name)) == default, param.name
    assert declared == {dest: (long, short, kind, choices)
                        for dest, long, short, kind, choices in SPEC}


def test_the_gate_runs_without_click(tmp_path: Any) -> None:
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted(m for m in ('click', 'rich', 'torch', "
            "'transformers', 'yaml') if m in sys.modules), file=sys.stderr))\n"
            "atexit.register(lambda: print('vlmdoctor.plan.estimate' in sys.modules, "
            "'dataclasses' in sys.modules, file=sys.stderr))\n"
            "sys.argv = ['vlmdoctor', 'check', '--no-probe', '--fail-on', 'never', "
            "'--model', 'minigemini-34b']\n"
            "from vlmdoctor.entry import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "MiniGemini-34B" in proc.stdout
    # atexit runs last-registered first: the module list is the last line
    assert proc.stderr.splitlines()[-1] in ("[]", "['yaml']")  # yaml: only on a cold cache
    # The gate's records are vlmdoctor.record, not dataclasses (~1 ms a class at import);
    # only the planner, which runs where GPUs are seen, may bring dataclasses in.
    planned, dataclasses = proc.stderr.splitlines()[-2].split()
    assert planned == "True" or dataclasses == "False"


def test_gate_errors_keep_the_contract(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the gate's path: an input error is exit 2 and one line, an internal error
    exit 3 and one line, an interrupt 130."""
    code, out, err = run("check", "--no-probe", "--from-report", str(tmp_path / "none.json"))
    assert code == 2 and out == ""
    assert err.startswith("vlmdoctor: error: ") and err.count("\n") == 1

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaput")
    monkeypatch.setattr(check_run, "run_check", boom)
    monkeypatch.setattr("vlmdoctor.cli.group.cli", None)  # click must not be reached
    runner = CliRunner()
    with runner.isolation() as streams:
        code = dispatch(["check", "--no-probe"])
    assert code == 3
    assert streams[1].getvalue().decode() == (
        "vlmdoctor: internal error: RuntimeError: kaput (set VLMDOCTOR_DEBUG=1 for a "
        "traceback, and please report it)\n")

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt
    monkeypatch.setattr(check_run, "run_check", interrupted)
    with runner.isolation() as streams:
        code = dispatch(["check", "--no-probe"])
    assert (code, streams[1].getvalue().decode()) == (130, "vlmdoctor: interrupted\n")
