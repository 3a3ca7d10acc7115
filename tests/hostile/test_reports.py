"""Any JSON value at any path of a saved report or snapshot: exit 0, 1 or 2, never 3."""

from __future__ import annotations

import functools
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import environment
from vlmdoctor.cli import cli
from vlmdoctor.cli.errors import run_cli

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**400),
           max_value=10**400) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from(["abc", "-1.0", "8.0", "1.0.0-custom+gitabc",
                                                     "\x1b[2J", "a\nVerdict: PASS", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    with runner.isolation() as streams:
        code = run_cli(cli, list(args))
        return code, streams[0].getvalue().decode(), streams[1].getvalue().decode()


@functools.cache
def base_report() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "env.json")
        path.write_text(json.dumps(environment("a100-cu124")))
        code, out, err = run("check", "--no-probe", "-m", "internvl2-8b", "--from-report",
                             str(path), "--format", "json")
    assert code in (0, 1), err
    return out


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    holder = doc
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return doc


def check_contract(text: str, *args: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "report.json")
        path.write_text(text)
        code, _, err = run(*args, "--from-report", str(path))
    assert code in (0, 1, 2), err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("vlmdoctor: error: "), err


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), value=VALUES, bare=st.booleans())
def test_any_value_at_any_path(data: st.DataObject, value: Any, bare: bool) -> None:
    doc = json.loads(base_report())
    if bare:
        doc = doc["environment"]
    path = data.draw(st.sampled_from(paths(doc)))
    mutated = put(doc, path, value)
    text = json.dumps(mutated, allow_nan=True) if _dumpable(mutated) else "{}"
    check_contract(text, "check", "--no-probe", "--format", "json")
    check_contract(text, "plan", "-m", "internvl2-8b")


@settings(max_examples=10, deadline=None)
@given(depth=st.integers(min_value=1, max_value=200_000), opener=st.sampled_from("[{"))
def test_deep_nesting_is_one_line_exit_2_or_read(depth: int, opener: str) -> None:
    inner = ('{"a":' * depth + "1" + "}" * depth) if opener == "{" else ("[" * depth + "]" * depth)
    check_contract('{"schema_version": 1, "environment": {"gpus": ' + inner + "}}",
                   "check", "--no-probe")
    check_contract('{"host": {}, "packages": ' + inner + "}", "check", "--no-probe")


def _dumpable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=True)
    except (ValueError, TypeError):
        return False
    return not (isinstance(value, float) and math.isnan(value))
