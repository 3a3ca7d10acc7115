"""Each GPU's memory as a bar: weights, KV cache, activations, overhead, then free space.

    0   [WWWWWWWWWWWWWWWWWKKKKAAO................]  62% used
    1   [WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW|WWWKKAO]  118% used: over by 6.10 GiB

A character is ``capacity / width`` bytes; any part that is present gets at least one.
When the GPU is over capacity the bar runs past a ``|`` at the capacity mark.
"""

from __future__ import annotations

from vlmdoctor.plan.constants import GIB
from vlmdoctor.plan.result import GpuUsage

WIDTH = 40
MAX_WIDTH = 2 * WIDTH + 1  # the capacity mark and at most as much again past it
MARKS = (("W", "weights"), ("K", "KV cache"), ("A", "activations"), ("O", "overhead"),
         (".", "free"))
LEGEND = "  " + ", ".join(f"{mark} {name}" for mark, name in MARKS)




def memory_bar(usage: GpuUsage, width: int = WIDTH) -> str:
    """One GPU's bar with its fill; the capacity unknown or zero says so instead."""
    if usage.capacity_bytes <= 0:
        return "(capacity unknown: cannot draw)"
    parts = [usage.weights_bytes, usage.kv_bytes, usage.activation_bytes, usage.overhead_bytes]
    cell = usage.capacity_bytes / width
    cells = [max(1, round(p / cell)) if p > 0 else 0 for p in parts]
    used = sum(cells)
    text = "".join(mark * n for (mark, _), n in zip(MARKS, cells))
    share = usage.total_bytes / usage.capacity_bytes
    if usage.total_bytes <= usage.capacity_bytes:
        text = text[:width] + "." * max(0, width - used)
        return f"[{text}] {share:4.0%} used"
    over = (usage.total_bytes - usage.capacity_bytes) / GIB
    text = text[:width] + "|" + text[width:] if used > width else text + "|"
    if len(text) > MAX_WIDTH:  # a plan 100x over capacity must not print a 4,000-column bar
        text = text[:MAX_WIDTH - 3] + "..."
    return f"[{text}] {share:4.0%} used: over by {over:.2f} GiB"


def bar_lines(per_gpu: tuple[GpuUsage, ...]) -> list[str]:
    lines = [f"  {u.index:<4}{memory_bar(u)}" for u in per_gpu]
    return [*lines, LEGEND]
