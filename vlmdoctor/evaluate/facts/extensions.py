"""Facts about compiled extensions and the builds they expect (stack.*)."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from vlmdoctor.evaluate import bitsandbytes, extensions
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact


@fact("stack.extension_builds_mismatched", "records",
      "Compiled extensions built for another torch, CUDA major or C++ ABI than the installed torch")
def _mismatched(ctx: Context, _: str) -> Any:
    if ctx.section_unknown("packages") or ctx.section_unknown("torch"):
        return UNKNOWN
    found = extensions.records(ctx.snapshot)
    return [] if found is None else found


@fact("stack.bitsandbytes_library_missing", "records",
      "The CUDA library bitsandbytes will load, when its wheel does not ship it")
def _bnb(ctx: Context, _: str) -> Any:
    if ctx.snapshot.extensions is None or ctx.section_unknown("torch"):
        return UNKNOWN
    record = bitsandbytes.expected_library(ctx.snapshot)
    return [] if record is None else [record]


@fact("gpus.max_compute_capability", "version", "Highest compute capability among the GPUs")
def _max_cc(ctx: Context, _: str) -> Any:
    if ctx.section_unknown("gpus"):
        return UNKNOWN
    ccs = [Version(g.compute_capability) for g in ctx.snapshot.gpus if g.compute_capability]
    return str(max(ccs)) if ccs else None
