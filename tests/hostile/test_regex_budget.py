"""Every failure signature runs in linear time on any input: adversarial texts built from
each pattern's own pieces, timed against a linear baseline measured in the same run."""

from __future__ import annotations

import re
import time
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Callable

import pytest
import yaml

from tests.conftest import ROOT

try:  # the product's own search (per line, lines cut): what explain and the probe run
    from vlmdoctor.knowledge.patterns import search as product_search
except ImportError:  # pragma: no cover - before the failure table existed
    def product_search(pattern: re.Pattern[str], text: str) -> bool:
        return pattern.search(text) is not None

SIZE = 60_000
PATTERN_KEYS = ("symptom", "regex", "patterns", "pattern")


def _strings(node: Any, key: str | None = None) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, str(k))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item, key)]
    return [node] if isinstance(node, str) and key in PATTERN_KEYS else []


def every_pattern() -> list[str]:
    """Whatever tables exist: every regex in the rule base (symptoms, failures, matches)."""
    found: list[str] = []
    for path in sorted((ROOT / "rules").rglob("*.yaml")):
        found += _strings(yaml.safe_load(path.read_text()))
    from vlmdoctor.evaluate.index_questions import PATTERNS as INDEX_QUESTIONS
    found += list(INDEX_QUESTIONS.values())  # what explain asks the release indexes
    try:  # a Python signature table, where one still exists
        from vlmdoctor.probe import signatures
        for sig in getattr(signatures, "SIGNATURES", ()):
            found += [getattr(p, "pattern", p) for p in sig.patterns]
    except ImportError:
        pass
    return sorted(set(found))


def _literals(pattern: str) -> list[str]:
    """The literal runs in a pattern (what an adversary repeats to make it backtrack)."""
    out, run = [], ""

    def walk(items: Any) -> None:
        nonlocal run
        for op, arg in items:
            if op == sre_parse.LITERAL:
                run += chr(arg)
                continue
            if run:
                out.append(run)
                run = ""
            if op == sre_parse.SUBPATTERN:
                walk(arg[-1])
            elif op == sre_parse.BRANCH:
                for branch in arg[1]:
                    walk(branch)
                    if run:
                        out.append(run)
                        run = ""
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
                walk(arg[2])
    walk(sre_parse.parse(pattern))
    if run:
        out.append(run)
    return [x for x in out if x.strip()] or ["a"]


def adversarial(pattern: str) -> list[str]:
    pieces = _literals(pattern)
    texts = [(p * (SIZE // len(p) + 1))[:SIZE] for p in pieces]  # one piece, over and over
    joined = " ".join(pieces) + " "
    texts.append((joined * (SIZE // len(joined) + 1))[:SIZE])  # all but the last piece
    prefix = " ".join(pieces[:-1]) + " " if len(pieces) > 1 else pieces[0]
    texts.append((prefix * (SIZE // len(prefix) + 1))[:SIZE])
    texts += ["a" * SIZE, " " * SIZE, "x." * (SIZE // 2), "\n".join([prefix * 40] * 60)]
    return texts


def _seconds(run: Callable[..., Any]) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


PATTERNS = every_pattern()


def test_there_are_patterns_to_check() -> None:
    assert len(PATTERNS) >= 20


@pytest.mark.parametrize("pattern", PATTERNS)
def test_signature_runs_in_linear_time(pattern: str) -> None:
    compiled = re.compile(pattern)
    baseline_re = re.compile(r"[\x00][\x01]")  # touches every position once
    for text in adversarial(pattern):
        baseline = _seconds(lambda t=text: product_search(baseline_re, t))
        spent = _seconds(lambda t=text: product_search(compiled, t))
        # A bounded pattern does a bounded amount of work per position; a quadratic one
        # on 60 kB needs ~10^9 steps or more (minutes): the budget sits far between the two.
        assert spent < max(1.0, 2000 * baseline), (pattern, text[:60], spent, baseline)
