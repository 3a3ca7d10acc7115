"""Which imports transformers' ``check_imports`` demands of a remote-code file, by release.

Before importing a model's code, transformers lists its imports with
``dynamic_module_utils.get_imports`` and refuses to load when one cannot be imported
("This modeling file requires the following packages that were not found in your
environment"). What ``get_imports`` lists changed over the releases (read from the
``dynamic_module_utils.py`` of every release wheel from 4.30.0 on):

- 4.30.0 to 4.44.x: regular expressions over the text. A ``try:`` up to the next
  ``except …:`` is cut out first; then only lines that are exactly ``import x`` (so never
  ``import x as y``, ``import a, b`` or ``import x  # comment``) and lines starting
  ``from x import`` count, wherever they are (in functions, in strings, under any ``if``).
- 4.45.0: also cut: ``from flash_attn …`` lines right under ``if is_flash_attn_…available():``
  (huggingface/transformers#30954).
- 4.47.0: the ``try`` expression simplified (same cut in practice).
- 4.51.0: the syntax tree instead (huggingface/transformers#36964, #37245): every import
  statement counts, ``import x as y`` and ``import a, b`` included, except anything inside a
  ``try`` statement (its handlers too) or an ``if`` whose condition calls a plain name
  starting ``is_flash_attn`` (its ``else`` too).
- 4.52.0: also skipped: an ``if`` calling any name ``transformers.utils.import_utils`` has
  (``is_timm_available`` …) (huggingface/transformers#37825, issue #37626).

``demands`` records, per file, what each era lists (the availability calls of the
enclosing ``if``s for the tree eras, since 4.52's test depends on the release's own
``import_utils``); ``required`` answers for one release.
"""

from __future__ import annotations

import ast
import re
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from packaging.version import InvalidVersion, Version

ERAS = ("4.30.0", "4.45.0", "4.47.0", "4.51.0", "4.52.0")
TREE_ERAS = ("4.51.0", "4.52.0")
MAX_REGEX_BYTES = 512_000  # the old expressions are quadratic on hostile text: bigger files
                           # get the tree eras only (the release would crawl over them too)
_TRY_4_30 = re.compile(r"\s*try\s*:\s*.*?\s*except\s*.*?:", re.MULTILINE | re.DOTALL)
_TRY_4_47 = re.compile(r"\s*try\s*:.*?except.*?:", re.DOTALL)
_FLASH_4_45 = re.compile(r"if is_flash_attn[a-zA-Z0-9_]+available\(\):\s*(from flash_attn\s*.*\s*)+",
                         re.MULTILINE)
_IMPORT_LINE = re.compile(r"^\s*import\s+(\S+)\s*$", re.MULTILINE)
_FROM_LINE = re.compile(r"^\s*from\s+(\S+)\s+import", re.MULTILINE)

# One demand: (top-level module, "file:line", names called in the enclosing ifs' tests).
Demand = tuple[str, str, tuple[str, ...]]


class _Cut:
    """Text with parts cut out, remembering each remaining character's original offset."""

    def __init__(self, text: str) -> None:
        self.text, self.origin = text, array("I", range(len(text)))

    def cut(self, pattern: re.Pattern[str]) -> None:
        parts, origin, pos = [], array("I"), 0
        for match in pattern.finditer(self.text):
            parts.append(self.text[pos:match.start()])
            origin.extend(self.origin[pos:match.start()])
            pos = match.end()
        parts.append(self.text[pos:])
        origin.extend(self.origin[pos:])
        self.text, self.origin = "".join(parts), origin


def _regex_era(text: str, label: str, try_cut: re.Pattern[str], flash: bool) -> list[Demand]:
    cut = _Cut(text)
    cut.cut(try_cut)
    if flash:
        cut.cut(_FLASH_4_45)
    found: list[Demand] = []
    for pattern in (_IMPORT_LINE, _FROM_LINE):
        for match in pattern.finditer(cut.text):
            name = match.group(1)
            if name.startswith(".") or not name.split(".")[0]:
                continue
            line = text.count("\n", 0, cut.origin[match.start(1)]) + 1
            found.append((name.split(".")[0], f"{label}:{line}", ()))
    return found


def _called_names(test: ast.expr) -> tuple[str, ...]:
    """Plain names called in a condition (``x.is_y()`` has no plain name: never matched)."""
    return tuple(n.func.id if isinstance(n.func, ast.Name) else "" for n in ast.walk(test)
                 if isinstance(n, ast.Call))


def _tree_era(tree: ast.AST, label: str) -> Iterator[Demand]:
    stack: list[tuple[ast.AST, tuple[str, ...]]] = [(tree, ())]
    while stack:  # iterative: a deeply nested file cannot exhaust the recursion limit
        node, calls = stack.pop()
        if isinstance(node, ast.Try):
            continue
        if isinstance(node, ast.If):
            calls = calls + _called_names(node.test)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0]:
                    yield alias.name.split(".")[0], f"{label}:{node.lineno}", calls
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], f"{label}:{node.lineno}", calls
        stack.extend((child, calls) for child in ast.iter_child_nodes(node))


def demands(text: str, tree: ast.AST, label: str) -> dict[str, list[Demand]]:
    """What each era's ``get_imports`` lists for one file (``tree`` is ``ast.parse(text)``)."""
    out: dict[str, list[Demand]] = {era: [] for era in ERAS}
    if len(text) <= MAX_REGEX_BYTES:
        out["4.30.0"] = _regex_era(text, label, _TRY_4_30, flash=False)
        out["4.45.0"] = _regex_era(text, label, _TRY_4_30, flash=True)
        out["4.47.0"] = _regex_era(text, label, _TRY_4_47, flash=True)
    else:
        for era in ERAS[:3]:
            del out[era]
    tree_demands = sorted(_tree_era(tree, label), key=lambda d: (d[1], d[0]))
    for era in TREE_ERAS:
        out[era] = list(tree_demands)
    return out


def era_of(transformers: str | None) -> str | None:
    """The era whose ``get_imports`` a release runs; None for an unknown version."""
    try:
        version = Version(transformers) if transformers else None
    except InvalidVersion:
        return None
    if version is None:
        return None
    return next((e for e in reversed(ERAS) if version >= Version(e)), ERAS[0])


def _skipped(calls: Sequence[str], era: str, has_util: Callable[[str], bool | None]) -> bool:
    if era == "4.51.0":
        return any(c.startswith("is_flash_attn") for c in calls)
    for call in calls:
        util = has_util(call) if call else False
        if util is None:  # the release's import_utils unknown: its availability functions
            util = call.startswith("is_") and call.endswith("available")
        if (call.startswith("is_flash_attn") and call.endswith("available")) or util:
            return True
    return False


def required(table: Mapping[str, Sequence[Sequence[Any]]], transformers: str | None,
             has_util: Callable[[str], bool | None]) -> dict[str, list[str]] | None:
    """Top-level module -> where, for what release ``transformers`` demands of one scan;
    None when that cannot be told (unknown release, or no record for its era)."""
    era = era_of(transformers)
    if era is None or era not in table:
        return None
    out: dict[str, list[str]] = {}
    for top, where, calls in table[era]:
        if era in TREE_ERAS and _skipped(calls, era, has_util):
            continue
        out.setdefault(str(top), []).append(str(where))
    return out
