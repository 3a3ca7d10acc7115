"""The model catalogue: every card, and name resolution with suggestions."""

from __future__ import annotations

import re
from pathlib import Path

from vlmdoctor.errors import InputError, RuleError
from vlmdoctor.knowledge.cards import ModelCard, parse_family_file
from vlmdoctor.knowledge.schema import SchemaError
from vlmdoctor.record import record
from vlmdoctor.yamlio import load_yaml


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@record
class Catalogue:
    cards: tuple[ModelCard, ...]

    def resolve(self, name: str) -> ModelCard:
        card = self.find(name)
        if card is None:
            raise InputError(f"unknown model {name!r}{self._suggest(name)}; "
                             "run 'vlmdoctor models' for the list")
        return card

    def find(self, name: str) -> ModelCard | None:
        """The card ``name`` names, None when none does; ambiguous names are input errors."""
        wanted = name.strip().lower()
        squashed = _squash(wanted)
        exact = [c for c in self.cards if wanted in (n.lower() for n in c.names())]
        if not exact:
            exact = [c for c in self.cards if squashed in (_squash(n) for n in c.names())]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            ids = ", ".join(sorted(c.id for c in exact))
            raise InputError(f"model {name!r} is ambiguous: it names {ids}")
        return None

    def suggestions(self, name: str) -> tuple[str, ...]:
        """Up to three catalogue ids closest to ``name``."""
        lowered = {n.lower(): c.id for c in self.cards for n in c.names()}
        import difflib  # only for an unknown name

        close = difflib.get_close_matches(name.lower(), list(lowered), n=8, cutoff=0.5)
        ids: list[str] = []
        for match in close:
            if lowered[match] not in ids:
                ids.append(lowered[match])
        return tuple(ids[:3])

    def _suggest(self, name: str) -> str:
        ids = self.suggestions(name)
        return f" (did you mean: {', '.join(ids)}?)" if ids else ""


def load_catalogue(directory: Path, display_root: Path | None = None) -> Catalogue:
    cards: list[ModelCard] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        shown = _display(path, display_root)
        raw = load_yaml(path, shown)
        try:
            file_cards = parse_family_file(raw, shown)
        except SchemaError as exc:
            raise RuleError(shown, exc.path, exc.problem) from None
        for card in file_cards:
            for alias in card.names():
                key = alias.lower()
                if key in seen and seen[key] != card.id:
                    raise RuleError(shown, f"model {card.id}",
                                    f"name {alias!r} is already used by model {seen[key]!r}")
                seen[key] = card.id
            cards.append(card)
    return Catalogue(tuple(cards))


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)
