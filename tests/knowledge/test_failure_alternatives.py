"""Every alternative of the failure table is needed by an example (issue 19 §2: "a failure
pattern's alternative deleted" survived the suite). For each row of rules/failures.yaml,
delete one `a|b` alternative of one pattern, or one whole pattern, and some `match` example
of the row must stop matching it; otherwise that alternative is a claim about an error text
that no test holds. The few that no real error text can need on its own are listed below,
each with the reason; a listed one that an example comes to need fails too (drop it)."""

from __future__ import annotations

import re

from tests.conftest import make_knowledge
from vlmdoctor.knowledge.failures import Failure
from vlmdoctor.knowledge.patterns import search_any

KNOWLEDGE = make_knowledge()
assert KNOWLEDGE.failures is not None
ROWS = KNOWLEDGE.failures.failures

# (row id, the alternative or "pattern: <pattern>") -> why no example can need it alone
EXCUSED = {
    ("flash-attn-undefined-symbol", "pattern: flash_attn_2_cuda[^\\n]{0,200}undefined symbol"):
        "Python's loader prints '<path>.so: undefined symbol', which the first pattern matches",
    ("flash-attn-ampere", "pattern: FlashAttention only supports Ampere GPUs or newer"):
        "the second pattern, 'FlashAttention2? (is )?only support', matches the same text",
    ("cuda-error", "pattern: cuDNN error"):
        "torch's 'cuDNN error: CUDNN_STATUS_...' always carries the CUDNN_STATUS pattern too",
    ("nccl-system-error", "Bootstrap"):
        "NCCL's socket bootstrap warning is 'Bootstrap : no socket interface found', which "
        "the 'no socket interface found' pattern matches",
    ("nccl-system-error", "pattern: no socket interface found"):
        "NCCL prints it as 'NCCL WARN Bootstrap : ...', which the NCCL WARN pattern matches",
    ("nccl-system-error", "pattern: No usable listening interface found"):
        "NCCL prints it as 'NCCL WARN NET/Socket : ...' (or Bootstrap), as above",
    ("quant-gpu-capability", "the current GPU"):
        "vLLM raises it as a tuple ('... for ', 'the current GPU. Min capability: ...'): "
        "the other alternative and the capability pattern match every form",
    ("quant-gpu-capability",
     "pattern: quantization method \\w{1,40} is not supported for the current GPU"):
        "vLLM's message goes on 'Minimum capability: N. Current capability: M.'",
    ("quant-gpu-capability",
     "pattern: Min(imum)? capability: \\d{2,3}\\.? ?Current capability: \\d{2,3}"):
        "printed only inside the two messages the other patterns match",
    ("xformers-built-for-other-torch", "pattern: xFormers can't load C\\+\\+/CUDA extensions"):
        "xFormers prints 'xFormers was built for:' on the same line",
    ("cuda-driver-combination-unsupported", "pattern: \\(803 vs\\. 0\\)"):
        "glog's 'Check failed: ... (803 vs. 0) : <message>' carries the message pattern too",
    ("ptx-unsupported-toolchain", "pattern: CUDA_ERROR_UNSUPPORTED_PTX_VERSION"):
        "the driver API prints the code with its description, which the first pattern matches",
    ("ptx-unsupported-toolchain", "pattern: cudaErrorUnsupportedPtxVersion"):
        "the runtime API prints the code with its description, as above",
    # No published flash-attn text was found that says "only supports sm_80/sm_90" or
    # "only supports GPUs ..." (the row's Turing and Hopper alternatives have examples).
    ("flash-attn-ampere", "sm_?[89]"): "unverified",
    ("flash-attn-ampere", "GPUs"): "unverified",
    # No published error text was found that says 'bf16 is only supported ...' or
    # 'bf16 requires ... Ampere' (the row's one example for these patterns is matched by
    # both): these alternatives are unverified claims, kept by the row's author.
    ("bf16-compute-capability", "pattern: bf16 is not supported natively"): "unverified",
    ("bf16-compute-capability",
     "pattern: bf16 (is not supported|is only supported|requires)[^\\n]{0,120}(Ampere|8\\.0)"):
        "unverified",
    ("bf16-compute-capability", "is not supported"): "unverified",
    ("bf16-compute-capability", "is only supported"): "unverified",
    ("bf16-compute-capability", "requires"): "unverified",
    ("bf16-compute-capability", "Ampere"): "unverified",
    ("bf16-compute-capability", "8\\.0"): "unverified",
}


def alternatives(pattern: str) -> list[tuple[str, str]]:
    """(alternative, the pattern without it) for every `|` alternative at any group depth."""
    groups: list[tuple[int, list[int]]] = [(0, [])]  # content start, bar positions
    spans: list[tuple[int, list[int], int]] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 2 if pattern[i + 1:i + 2] in ("^", "]") else 1
            continue
        elif c == "(":
            start = i + 1
            if pattern.startswith("?P<", start):
                start = pattern.index(">", start) + 1
            elif pattern.startswith(("?:", "?=", "?!"), start):
                start += 2
            elif pattern.startswith(("?<=", "?<!"), start):
                start += 3
            groups.append((start, []))
        elif c == "|":
            groups[-1][1].append(i)
        elif c == ")":
            start, bars = groups.pop()
            if bars:
                spans.append((start, bars, i))
        i += 1
    start, bars = groups.pop()
    if bars:
        spans.append((start, bars, len(pattern)))
    out = []
    for start, bars, end in spans:
        edges = [start, *bars, end]
        for k in range(len(edges) - 1):
            low, high = edges[k], edges[k + 1]
            if k == 0:  # the first alternative and the bar after it
                out.append((pattern[low:high], pattern[:low] + pattern[high + 1:]))
            else:  # the bar before the alternative and the alternative
                out.append((pattern[low + 1:high], pattern[:low] + pattern[high:]))
    return out


def _needed(row: Failure, patterns: list[re.Pattern[str]]) -> bool:
    """Some match example of the row no longer matches with these patterns."""
    return any(not search_any(tuple(patterns), example) for example in row.match)


def unneeded() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for row in ROWS:
        for j, pattern in enumerate(row.patterns):
            if len(row.patterns) > 1 and not _needed(
                    row, [p for i, p in enumerate(row.patterns) if i != j]):
                found.add((row.id, f"pattern: {pattern.pattern}"))
            for alternative, without in alternatives(pattern.pattern):
                mutant = re.compile(without, pattern.flags)
                if not _needed(row, [mutant if i == j else p
                                     for i, p in enumerate(row.patterns)]):
                    found.add((row.id, alternative))
    return found


def test_every_alternative_and_pattern_is_needed_by_an_example() -> None:
    found = unneeded()
    assert sorted(found - set(EXCUSED)) == [], (
        "no match example needs these (add an example that only they match)")
    assert sorted(set(EXCUSED) - found) == [], (
        "an example now needs these: drop them from EXCUSED")


def test_alternatives_are_found_at_every_depth() -> None:
    assert alternatives("a(b|c)d") == [("b", "a(c)d"), ("c", "a(b)d")]
    assert alternatives("x|y") == [("x", "y"), ("y", "x")]
    assert alternatives("p(?:q|[|)]r)") == [("q", "p(?:[|)]r)"), ("[|)]r", "p(?:q)")]
    assert alternatives("lib(a\\|b|c)") == [("a\\|b", "lib(c)"), ("c", "lib(a\\|b)")]
    assert alternatives("no bars here") == []
