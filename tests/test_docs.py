"""docs/rules.md, docs/models.md and docs/failures.md are generated from the rule base and kept current."""

from __future__ import annotations

from tests.conftest import ROOT
from vlmdoctor.docs import failures_markdown, models_markdown, rules_markdown
from vlmdoctor.knowledge import load_knowledge


def test_generated_docs_are_current() -> None:
    knowledge = load_knowledge(ROOT / "rules")
    hint = "run: python -m vlmdoctor.docs"
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(knowledge), hint
    assert (ROOT / "docs" / "models.md").read_text() == models_markdown(knowledge), hint
    assert (ROOT / "docs" / "failures.md").read_text() == failures_markdown(knowledge), hint


def test_shipped_files_cite_public_sources_not_the_teams_notes() -> None:
    """Users of the package do not have the team's research folder: rules, code and docs cite
    public sources only."""
    shipped = [p for folder in ("rules", "vlmdoctor", "docs") for p in (ROOT / folder).rglob("*")
               if p.is_file() and p.suffix in (".py", ".yaml", ".md", ".json")]
    shipped.append(ROOT / "README.md")
    citing = sorted(str(p.relative_to(ROOT)) for p in shipped
                    if "shared/facts" in p.read_text(encoding="utf-8", errors="replace"))
    assert citing == []
