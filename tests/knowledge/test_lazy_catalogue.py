"""The gate's catalogue reads a family file only when a name it declares is looked up, and
answers exactly as the eager catalogue does."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.catalogue import LazyCatalogue

ROOT = Path(__file__).resolve().parents[2]
EAGER = load_knowledge(ROOT / "rules").catalogue


def lazy() -> LazyCatalogue:
    catalogue = load_knowledge(ROOT / "rules", gate=True).catalogue
    assert isinstance(catalogue, LazyCatalogue)
    return catalogue


def outcome(catalogue: object, name: str) -> object:
    try:
        return catalogue.find(name)  # type: ignore[attr-defined]
    except InputError as exc:  # an ambiguous name: the same message either way
        return str(exc)


def test_every_name_resolves_to_the_same_card() -> None:
    gate = lazy()
    for card in EAGER.cards:
        for name in card.names():
            assert gate.find(name) == card, name
            loose = name.upper().replace("-", "_")  # found by the squashed spelling
            assert outcome(gate, loose) == outcome(EAGER, loose), loose


def test_only_the_named_family_is_parsed() -> None:
    gate = lazy()
    assert gate.find("YanweiLi/MGM-34B") == EAGER.find("YanweiLi/MGM-34B")
    read = [f.shown for f in gate._families if f.raw is not None]
    assert read == ["rules/models/minigemini.yaml"]
    for name in ("mgm-34b", "MGM34B", "minigemini-2b", "qwen2-vl-7b", "Qwen/Qwen2-VL-7B-Instruct"):
        assert lazy().find(name) == EAGER.find(name), name  # only the named cards are built


def test_unknown_names_suggestions_and_families_agree() -> None:
    gate = lazy()
    assert gate.find("no-such-model") is None
    assert gate.suggestions("qwen2-vl-7") == EAGER.suggestions("qwen2-vl-7")
    assert gate.family("internvl") == EAGER.family("internvl")
    assert gate.cards == EAGER.cards
    with pytest.raises(InputError, match="unknown model 'nope'"):
        gate.resolve("nope")


def test_a_malformed_family_fails_when_it_is_read(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    (root / "checks").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "data").mkdir()
    (root / "data" / "cuda.yaml").write_text((ROOT / "rules/data/cuda.yaml").read_text())
    (root / "models" / "demo.yaml").write_text(
        "schema_version: 1\nfamily: {id: demo, name: Demo}\nmodels:\n"
        "  - {id: demo-7b, name: Demo-7B, sources: [x], native_dtyp: bf16}\n")
    gate = load_knowledge(root, gate=True).catalogue
    with pytest.raises(InputError, match="native_dtyp: unknown key"):
        gate.find("demo-7b")


def test_the_names_summary_is_cached_and_follows_the_files(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VLMDOCTOR_NO_CACHE", raising=False)
    rules = tmp_path / "rules"
    import shutil

    shutil.copytree(ROOT / "rules", rules)
    lazy_first = load_knowledge(rules, gate=True).catalogue
    again = load_knowledge(rules, gate=True).catalogue
    assert isinstance(again, LazyCatalogue)
    assert all(f.raw is None for f in again._families)  # names came from the summary
    assert again.find("qwen2-vl-7b-instruct") == lazy_first.find("qwen2-vl-7b-instruct")
    family = rules / "models" / "minigemini.yaml"
    family.write_text(family.read_text().replace("mgm-34b", "mgm-34b-renamed"))
    changed = load_knowledge(rules, gate=True).catalogue
    assert changed.find("mgm-34b-renamed") is not None and changed.find("mgm-34b") is None
    for entry in (tmp_path / "cache").rglob("catalogue-names-*.json"):
        entry.write_text('{"source": "x", "data": [1, 2]}')  # a broken entry: rebuilt
    assert load_knowledge(rules, gate=True).catalogue.find("mgm-34b-renamed") is not None
