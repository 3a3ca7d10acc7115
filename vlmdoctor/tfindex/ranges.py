"""The index's range strings: inclusive spans of release positions, ``"3-9,12,14-142"``."""

from __future__ import annotations

from collections.abc import Iterable

FORMAT = 3  # the index file's format version (3: yanked releases and pre-releases)


def encode_ranges(positions: Iterable[int]) -> str:
    spans: list[list[int]] = []
    for pos in sorted(set(positions)):
        if spans and spans[-1][1] == pos - 1:
            spans[-1][1] = pos
        else:
            spans.append([pos, pos])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def decode_ranges(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        spans.append((int(first), int(last or first)))
    return spans
