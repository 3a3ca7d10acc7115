"""The model catalogue: every card, and name resolution with suggestions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmdoctor.errors import InputError, RuleError
from vlmdoctor.knowledge.cards import ModelCard, parse_family_file
from vlmdoctor.knowledge.schema import SchemaError
from vlmdoctor.record import record
from vlmdoctor.yamlio import load_derived, load_yaml


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class _Family:
    """One family file as loaded (parsed YAML, not yet validated) and the names it declares."""

    __slots__ = ("cards", "family", "ids", "path", "raw", "shown")

    def __init__(self, shown: str, path: Path, raw: Any = None,
                 summary: dict[str, Any] | None = None) -> None:
        """From the parsed file (``raw``), or from its cached ``summary`` (names and
        family id), in which case the file is read only when a card is needed."""
        self.shown, self.path, self.raw = shown, path, raw
        self.cards: tuple[ModelCard, ...] | None = None
        self.ids: dict[str, str] = {}  # lowered name -> model id, from the raw entries
        if summary is not None:
            self.family, self.ids = summary["family"], summary["ids"]
            return
        family = raw.get("family") if isinstance(raw, dict) else None
        self.family = family.get("id") if isinstance(family, dict) else None
        models = raw.get("models") if isinstance(raw, dict) else None
        for model in models if isinstance(models, list) else ():
            if not isinstance(model, dict) or not isinstance(model.get("id"), str):
                continue
            self.ids.update((n.lower(), model["id"]) for n in _names(model))

    def summary(self) -> dict[str, Any]:
        return {"family": self.family, "ids": self.ids}

    def parse(self) -> tuple[ModelCard, ...]:
        if self.cards is None:
            if self.raw is None:
                self.raw = load_yaml(self.path, self.shown)
            try:
                self.cards = parse_family_file(self.raw, self.shown)
            except SchemaError as exc:
                raise RuleError(self.shown, exc.path, exc.problem) from None
        return self.cards

    def parse_named(self, wanted: str, squashed: str) -> tuple[ModelCard, ...]:
        """The cards a lookup of ``wanted`` can resolve to, building only those (every card
        when the file is already parsed)."""
        if self.cards is not None:
            return self.cards
        if self.raw is None:
            self.raw = load_yaml(self.path, self.shown)

        def named(model: Any) -> bool:
            names = [n.lower() for n in _names(model)]
            return wanted in names or any(_squash(n) == squashed for n in names)
        try:
            return parse_family_file(self.raw, self.shown, keep=named)
        except SchemaError as exc:
            raise RuleError(self.shown, exc.path, exc.problem) from None

    def may_name(self, wanted: str, squashed: str) -> bool:
        return wanted in self.ids or any(_squash(n) == squashed for n in self.ids)


def _names(model: Any) -> list[str]:
    """The names a model entry declares: id, name, aliases and Hugging Face repos."""
    names = [model.get("id"), model.get("name"), *_strs(model.get("aliases")),
             *_strs(model.get("hf_repos"))]
    return [n for n in names if isinstance(n, str)]


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


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

    def family(self, family: str) -> tuple[ModelCard, ...]:
        """Every card of one family (the planner's variants)."""
        return tuple(c for c in self.cards if c.family == family)

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


class LazyCatalogue(Catalogue):
    """The catalogue for the pre-job gate: a family file is validated and built only when a
    name it declares is looked up (or when every card is asked for), so the gate does not
    pay for a hundred cards to check one model. `vlmdoctor models`, `rules` and the docs
    load the whole catalogue eagerly, so a malformed card still fails there."""

    _families: tuple[_Family, ...]

    def __init__(self, families: tuple[_Family, ...]) -> None:
        object.__setattr__(self, "_families", families)

    @property
    def cards(self) -> tuple[ModelCard, ...]:
        return tuple(c for family in self._families for c in family.parse())

    def find(self, name: str) -> ModelCard | None:
        wanted = name.strip().lower()
        squashed = _squash(wanted)
        subset = [c for family in self._families if family.may_name(wanted, squashed)
                  for c in family.parse_named(wanted, squashed)]
        return Catalogue(tuple(subset)).find(name)

    def family(self, family: str) -> tuple[ModelCard, ...]:
        return tuple(c for f in self._families if f.family in (family, None)
                     for c in f.parse() if c.family == family)

    def suggestions(self, name: str) -> tuple[str, ...]:
        lowered = {n: i for family in self._families for n, i in family.ids.items()}
        import difflib  # only for an unknown name

        close = difflib.get_close_matches(name.lower(), list(lowered), n=8, cutoff=0.5)
        return tuple(dict.fromkeys(lowered[m] for m in close))[:3]


def load_catalogue(directory: Path, display_root: Path | None = None,
                   lazy: bool = False) -> Catalogue:
    paths = sorted(directory.glob("*.yaml"))
    if lazy:  # one cached summary of every file's names, then each file only on demand
        summaries = load_derived(paths, "catalogue-names", lambda: [
            _Family(_display(p, display_root), p, load_yaml(p, _display(p, display_root)))
            .summary() for p in paths])
        if _well_formed(summaries, len(paths)):
            return LazyCatalogue(tuple(_Family(_display(p, display_root), p, summary=s)
                                       for p, s in zip(paths, summaries)))
    families = tuple(_Family(_display(p, display_root), p, load_yaml(p, _display(p, display_root)))
                     for p in paths)
    if lazy:
        return LazyCatalogue(families)
    cards: list[ModelCard] = []
    seen: dict[str, str] = {}
    for family in families:
        shown = family.shown
        for card in family.parse():
            for alias in card.names():
                key = alias.lower()
                if key in seen and seen[key] != card.id:
                    raise RuleError(shown, f"model {card.id}",
                                    f"name {alias!r} is already used by model {seen[key]!r}")
                seen[key] = card.id
            cards.append(card)
    return Catalogue(tuple(cards))


def _well_formed(summaries: Any, count: int) -> bool:
    return (isinstance(summaries, list) and len(summaries) == count and all(
        isinstance(s, dict) and isinstance(s.get("ids"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in s["ids"].items())
        and (s.get("family") is None or isinstance(s.get("family"), str)) for s in summaries))


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)
