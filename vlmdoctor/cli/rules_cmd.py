"""`vlmdoctor rules list|show`: the rule base, documented from its own data."""

from __future__ import annotations

import sys

import click

from vlmdoctor.cli.options import format_option, rules_option
from vlmdoctor.cli.output import emit
from vlmdoctor.errors import InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.rules import Rule
from vlmdoctor.knowledge.schema import did_you_mean
from vlmdoctor.render.jsonfmt import dumps


@click.group("rules")
def command() -> None:
    """Document the rules vlmdoctor evaluates."""


@command.command("list")
@format_option(("text", "json"))
@rules_option
def list_rules(fmt: str, rules_dir: str | None) -> None:
    """List every rule id with its severity and title."""
    rules = load_knowledge(rules_dir).rules
    if fmt == "json":
        emit(lambda _: dumps([{"id": r.id, "severity": r.severity, "title": r.title,
                               "file": r.file} for r in rules]), None)
        return
    lines = [(f"{r.id:<44} {r.severity:<8} {r.title}", "") for r in rules]
    lines.append((f"{len(rules)} rules. 'vlmdoctor rules show ID' for details.", "dim"))
    emit(lambda _: lines, None)


@command.command("show")
@click.argument("rule_ids", nargs=-1, metavar="[ID]...")
@rules_option
def show_rule(rule_ids: tuple[str, ...], rules_dir: str | None) -> None:
    """Show rules: condition, message, fix and sources.

    With no ID, read ids from standard input, the first word of each line, so
    'vlmdoctor rules list | grep nccl | vlmdoctor rules show' works.
    """
    ids = list(rule_ids) or _ids_from_stdin()
    if not ids:
        raise InputError("no rule id given (pass ids as arguments or on standard input)")
    knowledge = load_knowledge(rules_dir)
    lines: list[tuple[str, str]] = []
    for rule_id in ids:
        rule = knowledge.rule(rule_id)
        if rule is None:
            known = [r.id for r in knowledge.rules]
            raise InputError(f"unknown rule {rule_id!r}{did_you_mean(rule_id, known)}")
        lines += ([("", "")] if lines else []) + _rule_lines(rule)
    emit(lambda _: lines, None)


def _ids_from_stdin() -> list[str]:
    stream = sys.stdin
    if stream is None or stream.isatty():
        return []
    ids: list[str] = []
    for line in stream.read(1 << 20).splitlines():
        words = line.split()
        # Skip the summary line of `rules list` ("57 rules. ...") and blank lines.
        if words and not words[0][0].isdigit() and words[0] not in ids:
            ids.append(words[0])
    return ids


def _rule_lines(rule: Rule) -> list[tuple[str, str]]:
    import yaml

    when = yaml.safe_dump(rule.raw_when, default_flow_style=False, sort_keys=False).rstrip()
    lines = [
        (f"{rule.id} ({rule.severity})", "bold"),
        (f"  title:   {rule.title}", ""),
        (f"  file:    {rule.file}", ""),
        ("  when:", ""),
        *[(f"    {line}", "") for line in when.splitlines()],
        (f"  message: {rule.message}", ""),
        *[(f"  fix:     {f}", "") for f in rule.fix],
        *[(f"  source:  {r}", "") for r in rule.references],
    ]
    if rule.for_each:
        lines.insert(3, (f"  for each: {rule.for_each}", ""))
    return lines
