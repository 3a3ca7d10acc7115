"""The members index: transformers' base classes per release, resolved through their bases.

Loaded only when model code subclasses a transformers class. Pure lookups; a release the
index cannot place (older than its first) gives no answer, a newer one reads as the newest.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from packaging.version import Version

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_gz_json
from vlmdoctor.record import record
from vlmdoctor.tfindex.ranges import decode_ranges, encode_ranges
from vlmdoctor.tfindex.releases import place

MEMBERS_FILE = Path("data") / "transformers-members.json.gz"
FORMAT = 1
MAX_BYTES = 8 * 1024 * 1024


@cache
def _spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(decode_ranges(text))


def _covers(text: str, pos: int) -> bool:
    return any(a <= pos <= b for a, b in _spans(text))


@record
class MembersIndex:
    releases: tuple[str, ...]
    classes: Mapping[str, Mapping[str, Any]]

    def position(self, version: str) -> Optional[int]:
        """Where ``version`` reads in the index, as the release index reads it."""
        placed = place(tuple(Version(r) for r in self.releases), self.releases, version)
        return placed.pos if placed is not None else None

    def bases_at(self, cls: str, pos: int) -> list[str]:
        for text, spans in self.classes.get(cls, {}).get("bases", {}).items():
            if _covers(spans, pos):
                return [b for b in text.split(",") if b]
        return []

    def exists(self, cls: str, pos: int) -> bool:
        return any(_covers(s, pos) for s in self.classes.get(cls, {}).get("bases", {}).values())

    def members_at(self, roots: list[str], pos: int) -> dict[str, str]:
        """Member -> signature of the classes ``roots`` and their indexed bases at ``pos``
        (the first class in resolution order that defines a member wins)."""
        out: dict[str, str] = {}
        queue, seen = list(roots), set()
        while queue:
            cls = queue.pop(0)
            if cls in seen or not self.exists(cls, pos):
                continue
            seen.add(cls)
            for member, sigs in self.classes[cls].get("members", {}).items():
                if member not in out:
                    sig = next((s for s, spans in sigs.items() if _covers(spans, pos)), None)
                    if sig is not None:
                        out[member] = sig
            queue.extend(self.bases_at(cls, pos))
        return out

    def history(self, roots: list[str]) -> list[dict[str, str]]:
        """``members_at(roots, pos)`` for every release position."""
        return [self.members_at(roots, pos) for pos in range(len(self.releases))]

    def span_text(self, positions: set[int] | list[int]) -> str:
        spans = decode_ranges(encode_ranges(positions)) if positions else []
        parts = []
        for a, b in spans:
            first, last = self.releases[a], self.releases[b]
            if b == len(self.releases) - 1:
                parts.append(f"{first} and later")
            else:
                parts.append(first if a == b else f"{first} to {last}")
        return ", ".join(parts)


def from_document(document: Any) -> MembersIndex:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise InputError(f"transformers members index: format {found!r}, expected {FORMAT}; "
                         "rebuild it with scripts/build_transformers_members.py")
    releases, classes = document.get("releases"), document.get("classes")
    if not isinstance(releases, list) or not isinstance(classes, dict):
        raise InputError("transformers members index: 'releases' or 'classes' is malformed")
    return MembersIndex(releases=tuple(str(r) for r in releases), classes=classes)


@lru_cache(maxsize=4)
def load_members(path: Optional[Path] = None) -> MembersIndex:
    if path is None:
        from vlmdoctor.knowledge import default_rules_dir
        path = default_rules_dir() / MEMBERS_FILE
    return from_document(read_gz_json(path, MAX_BYTES, "transformers members index"))
