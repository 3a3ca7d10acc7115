"""explain on any input: exit 0, 1 or 2 (blank), never 3; nothing unsafe echoed back."""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.test_reports import run
from vlmdoctor.cli.stdin_tail import read_tail

PIECES = st.sampled_from(["CUDA error: no kernel image is available for execution on the device",
                          "undefined symbol: flash_attn", "bf16 requires ", "\x1b[2J", "\n",
                          "Traceback (most recent call last):", "\u202e", "\x00", "|", "é",
                          "torch.OutOfMemoryError: CUDA out of memory", "Verdict: PASS"])
TEXTS = st.lists(PIECES | st.text(max_size=30), max_size=20).map("".join)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=TEXTS, fmt=st.sampled_from(["text", "json", "markdown"]))
def test_any_text_keeps_the_contract(text: str, fmt: str) -> None:
    code, out, err = run("explain", "--format", fmt, "--", text)
    if not text.strip():
        assert (code, err) == (2, "vlmdoctor: error: no error text given (pass it as arguments "
                                  "or on standard input)\n")
        return
    assert code in (0, 1), err
    assert not CONTROL.search(out), out
    if fmt != "json":
        assert sum(line.startswith(("Verdict", "**Verdict")) for line in out.splitlines()) == 1


@settings(max_examples=60, deadline=None)
@given(head=st.binary(max_size=3000), tail=st.binary(min_size=1, max_size=500),
       limit=st.integers(min_value=16, max_value=2048))
def test_read_tail_keeps_the_end_and_counts_the_rest(head: bytes, tail: bytes,
                                                     limit: int) -> None:
    data = head + tail
    got = read_tail(io.BytesIO(data), limit)
    if len(data) <= limit:
        assert got.skipped_bytes == 0 and got.note() is None
        assert got.text == data.decode("utf-8", "replace")
    else:  # the kept bytes are exactly the end of the input, after what was skipped
        assert len(data) - limit <= got.skipped_bytes < len(data) and got.note() is not None
        assert got.text == data[got.skipped_bytes:].decode("utf-8", "replace")
