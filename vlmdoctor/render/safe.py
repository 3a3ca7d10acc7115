"""Untrusted strings (from reports, NVML, logs) rendered so they cannot drive a terminal.

Control characters (C0 including newline and ESC, DEL, C1), line/paragraph separators
and bidirectional overrides are shown as visible escapes (``\\x1b``, ``\\n``), so a
report can neither clear the screen nor forge a "Verdict: PASS" line. Each renderer
passes every line it writes through ``printable``; JSON escapes them as ``\\uXXXX``.
"""

from __future__ import annotations

import re

_BACKTICKS = re.compile("`+")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SPECIAL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029,
            0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TEXT = {c: _NAMED.get(chr(c), f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
         for c in _SPECIAL}
_JSON = {c: f"\\u{c:04x}" for c in _SPECIAL if c >= 0x7F}  # json.dumps escapes C0 itself


def printable(text: str) -> str:
    """One line of plain text with every control character made visible."""
    return text.translate(_TEXT)


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 and bidi characters escaped (json.dumps leaves them raw)."""
    return text.translate(_JSON)


def md_cell(text: str) -> str:
    """A Markdown table cell: printable, with the column separator escaped."""
    return printable(text).replace("|", "\\|")


def md_fence(lines: list[str] | tuple[str, ...]) -> str:
    """A code fence longer than any backtick run inside, so no line can close it."""
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    return "`" * max(3, longest + 1)
