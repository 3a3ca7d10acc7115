"""Read the end of a long standard input in bounded memory: the last traceback matters."""

from __future__ import annotations

from collections import deque
from typing import BinaryIO

from vlmdoctor.record import record

CHUNK = 1 << 20


@record
class Tail:
    text: str
    skipped_bytes: int  # how much of the beginning was not kept

    def note(self) -> str | None:
        if not self.skipped_bytes:
            return None
        return (f"(standard input was longer than {_size(len(self.text.encode()))}: the first "
                f"{self.skipped_bytes:,} bytes were skipped; only the end was read)")


def read_tail(stream: BinaryIO, limit: int) -> Tail:
    """The last ``limit`` bytes of ``stream`` (whole lines where it was cut), and how many
    bytes before them were skipped. Memory stays within ``limit`` plus one chunk."""
    chunks: deque[bytes] = deque()
    kept = skipped = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        kept += len(chunk)
        while kept - len(chunks[0]) >= limit:
            kept -= len(chunks[0])
            skipped += len(chunks.popleft())
    data = b"".join(chunks)
    if len(data) > limit:
        skipped += len(data) - limit
        data = data[-limit:]
    if skipped:
        newline = data.find(b"\n")
        if 0 <= newline < len(data) - 1:  # drop the partial first line
            skipped += newline + 1
            data = data[newline + 1:]
    return Tail(data.decode("utf-8", "replace"), skipped)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB" if n >= 1 << 20 else f"{n:,} bytes"
