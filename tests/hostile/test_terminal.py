"""Strings from reports and NVML cannot drive the terminal or forge lines, in any format."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import environment
from tests.hostile.test_reports import run
from vlmdoctor.render.safe import md_cell, md_fence, printable

NASTY = st.lists(st.sampled_from(["\x1b", "[2J", "\n", "\r", "|", "`", "\x07", "\x9b",
                                  "\u202e", "\u2028", "Verdict: PASS", "a", " ", "#"]),
                 min_size=1, max_size=12).map("".join) | st.text(max_size=8)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _outputs(env: dict[str, object]) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "report.json")
        path.write_text(json.dumps(env))
        outs = {}
        for fmt in ("text", "markdown", "json"):
            code, out, err = run("check", "--no-probe", "-m", "qwen2-vl-7b-instruct",
                                 "--from-report", str(path), "--format", fmt)
            assert code in (0, 1), err
            outs[fmt] = out
    return outs


@settings(max_examples=12, deadline=None)
@given(name=NASTY, value=NASTY, reason=NASTY)
def test_untrusted_strings_render_safely(name: str, value: str, reason: str) -> None:
    env = environment("a100-cu124")
    env["gpus"][0]["name"] = name
    env["env"]["NCCL_SOCKET_IFNAME"] = value
    env["unavailable"] = {"cuda_toolkit": reason}
    if "\x00" in name + value + reason:  # refused by the bounded reader, naming the field
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "report.json")
            path.write_text(json.dumps(env))
            code, out, err = run("check", "--no-probe", "--from-report", str(path))
        assert (code, out) == (2, "") and "contains a NUL character" in err, err
        return
    outs = _outputs(env)
    for fmt, out in outs.items():
        assert not CONTROL.search(out), (fmt, out)
        verdicts = [line for line in out.splitlines()
                    if line.startswith(("Verdict", "**Verdict"))]
        if fmt != "json":
            assert len(verdicts) == 1, (fmt, verdicts)
    rows = [line for line in outs["markdown"].splitlines() if line.startswith("| ")]
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 3 for row in rows), rows
    assert json.loads(outs["json"])["environment"]["gpus"][0]["name"] == name


def test_printable_escapes_and_keeps_text() -> None:
    assert printable("a\x1b[2Jb\nVerdict: PASS\t\u202e") == "a\\x1b[2Jb\\nVerdict: PASS\\t\\u202e"
    assert printable("ordinary text, ünïcode ✓") == "ordinary text, ünïcode ✓"
    assert md_cell("a|b\nc") == "a\\|b\\nc"
    assert md_fence(["pip install x", "echo ```"]) == "````"
    assert md_fence(["plain"]) == "```"
