"""Release spans in words, for any release index (torch or transformers): pure helpers.

A span is an inclusive pair of positions into an index's ascending ``releases``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Span = tuple[int, int]


def merge(spans: Iterable[Span]) -> list[Span]:
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def covers(spans: Iterable[Span], pos: int) -> bool:
    return any(a <= pos <= b for a, b in spans)


def positions(spans: Iterable[Span]) -> set[int]:
    return {p for a, b in spans for p in range(a, b + 1)}


def span_text(releases: Sequence[str], spans: Sequence[Span]) -> str:
    """``"2.0.0 to 2.3.1, 2.5.0, 2.6.0 and later"``."""
    parts = []
    for first, last in spans:
        if last == len(releases) - 1:
            parts.append(f"{releases[first]} and later")
        elif first == last:
            parts.append(releases[first])
        else:
            parts.append(f"{releases[first]} to {releases[last]}")
    return ", ".join(parts) if parts else "no indexed release"


def change_text(package: str, releases: Sequence[str], spans: Sequence[Span],
                pos: int | None) -> str:
    """How a release (``pos``; None when unknown) relates to the releases that have a name."""
    if not spans:
        return (f"in no indexed {package} release ({releases[0]} to {releases[-1]}): "
                f"removed before {releases[0]} or never there")
    if pos is None:
        return f"in {package} {span_text(releases, spans)}"
    if covers(spans, pos):
        return f"present in {package} {releases[pos]}"
    later = [a for a, _ in spans if a > pos]
    earlier = [b for _, b in spans if b < pos]
    if earlier:
        last = max(earlier)
        text = f"removed in {package} {releases[last + 1]} (last in {releases[last]})"
        return text + (f", back in {releases[min(later)]}" if later else "")
    return f"added in {package} {releases[min(later)]}"


def window(releases: Sequence[str], allowed: set[int]) -> tuple[str | None, list[str]]:
    """``(">=A,<B", [A, ...])``: the newest contiguous run of ``allowed`` positions."""
    if not allowed:
        return None, []
    last = max(allowed)
    first = last
    while first - 1 in allowed:
        first -= 1
    spec = f">={releases[first]}"
    if last + 1 < len(releases):
        spec += f",<{releases[last + 1]}"
    return spec, list(releases[first:last + 1])
