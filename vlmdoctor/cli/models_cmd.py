"""`vlmdoctor models`: the model catalogue."""

from __future__ import annotations

import click

from vlmdoctor.cli.options import format_option, rules_option
from vlmdoctor.cli.output import emit
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.render.jsonfmt import dumps


def _size(card: ModelCard) -> str:
    p = card.params
    total = p.total or sum(x for x in (p.vision, p.projector, p.language) if x) or None
    return f"{total / 1e9:.1f}B" if total else "?"


def _row(card: ModelCard) -> dict[str, object]:
    reqs = card.requirements
    return {
        "id": card.id, "name": card.name, "family": card.family, "aliases": list(card.aliases),
        "hf_repos": list(card.hf_repos), "params": _size(card), "native_dtype": card.native_dtype,
        "transformers": ",".join(r.spec for r in reqs.for_package("transformers")) or None,
        "trust_remote_code": reqs.trust_remote_code, "flash_attn": reqs.flash_attn,
    }


@click.command("models")
@format_option(("text", "json"))
@rules_option
def command(fmt: str, rules_dir: str | None) -> None:
    """List the models vlmdoctor knows, with their size and transformers requirement."""
    cards = load_knowledge(rules_dir).catalogue.cards
    rows = [_row(c) for c in cards]
    if fmt == "json":
        emit(lambda _: dumps(rows), None)
        return
    lines = [(f"{'MODEL':<30} {'FAMILY':<20} {'PARAMS':>7} {'DTYPE':<5}  TRANSFORMERS", "bold")]
    for r in rows:
        lines.append((f"{r['id']!s:<30} {r['family']!s:<20} {r['params']!s:>7} "
                      f"{r['native_dtype'] or '?'!s:<5}  {r['transformers'] or 'any'}", ""))
    lines.append((f"{len(rows)} models. Use any alias or Hugging Face repo id with --model.", "dim"))
    emit(lambda _: lines, None)
