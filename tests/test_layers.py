"""Data flows one way: collect -> knowledge -> evaluate -> render. A package may import
from its own layer and from earlier ones, never from a later one (including imports
under TYPE_CHECKING and inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vlmdoctor"
ORDER = ("collect", "knowledge", "evaluate", "render")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "vlmdoctor" and parts[1] in ORDER else None


@pytest.mark.parametrize("layer", ORDER)
def test_no_layer_imports_a_later_one(layer: str) -> None:
    later = set(ORDER[ORDER.index(layer) + 1:])
    wrong = sorted(f"{path.relative_to(PACKAGE.parent)} imports {name}"
                   for path in (PACKAGE / layer).rglob("*.py")
                   for name in _imports(path) if _layer(name) in later)
    assert wrong == []


def test_the_check_sees_every_layer() -> None:
    assert all((PACKAGE / layer / "__init__.py").is_file() for layer in ORDER)
    assert "vlmdoctor.evaluate.context" in _imports(PACKAGE / "evaluate" / "engine.py")


def test_evaluate_implements_exactly_the_vocabulary_knowledge_owns() -> None:
    from vlmdoctor.evaluate.facts import FACTS
    from vlmdoctor.knowledge.vocabulary import FACT_KINDS

    assert {n: f.kind for n, f in FACTS.items()} == FACT_KINDS
