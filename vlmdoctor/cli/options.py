"""Options shared by several commands."""

from __future__ import annotations

from typing import Any, Callable

import click

from vlmdoctor.report import FAIL_ON

F = Callable[..., Any]

MODEL_HELP = ("Model id, alias or Hugging Face repo id (see 'vlmdoctor models'), a local "
              "model directory (./path/to/model), or a repo id in the local Hugging Face "
              "cache. Never downloads.")


def rules_option(fn: F) -> F:
    return click.option("--rules", "rules_dir", metavar="DIR", default=None,
                        help="Use this rules directory instead of the built-in rule base.")(fn)


def from_report_option(fn: F) -> F:
    return click.option("--from-report", metavar="FILE", default=None,
                        help="Re-check a saved JSON report (or bare snapshot) instead of "
                             "this machine.")(fn)


def output_option(fn: F) -> F:
    return click.option("--output", "-o", metavar="FILE", default=None,
                        help="Write to FILE instead of standard output.")(fn)


def fail_on_option(fn: F) -> F:
    return click.option("--fail-on", type=click.Choice(FAIL_ON), default="error",
                        show_default=True,
                        help="Exit 1 when a finding at or above this severity is present.")(fn)


def format_option(choices: tuple[str, ...]) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        return click.option("--format", "fmt", type=click.Choice(choices), default="text",
                            show_default=True, help="Output format.")(fn)
    return wrap
