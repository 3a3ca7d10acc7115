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
                        help="Write to FILE instead of standard output (stderr says where).")(fn)


def fail_on_option(fn: F) -> F:
    return click.option("--fail-on", type=click.Choice(FAIL_ON), default="error",
                        show_default=True,
                        help="Exit 1 when a finding at or above this severity is present.")(fn)


def format_option(choices: tuple[str, ...]) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        return click.option("--format", "fmt", type=click.Choice(choices), default="text",
                            show_default=True, help="Output format.")(fn)
    return wrap


def python_option(fn: F) -> F:
    return click.option("--python", "python", metavar="PATH", default=None,
                        help="Diagnose this interpreter's environment (a venv or conda env) "
                             "instead of vlmdoctor's own; nothing is installed into it.")(fn)


TRUST_HELP = ("Let the probe import and run the model directory's own Python code (the "
              "files its config.json auto_map names). Off by default: without it only "
              "transformers' own classes and vlmdoctor's stand-ins run.")


def trust_option(fn: F) -> F:
    """``--trust-remote-code``: consent to run a model directory's own code in the probe."""
    return click.option("--trust-remote-code", "trust_remote_code", is_flag=True,
                        help=TRUST_HELP)(fn)


def _not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty (leave the option out for no model)")
    return value


def model_option(required: bool = False, help: str = MODEL_HELP) -> Callable[[F], F]:
    """``--model/-m``, the same in every command; an empty name is a usage error (exit 2)."""
    def wrap(fn: F) -> F:
        return click.option("--model", "-m", metavar="MODEL", default=None, required=required,
                            callback=_not_empty, help=help)(fn)
    return wrap


def dtype_option(choices: tuple[str, ...], help: str) -> Callable[[F], F]:
    """``--dtype`` with ``auto`` (the model's native dtype, or the command's default) first."""
    def wrap(fn: F) -> F:
        return click.option("--dtype", type=click.Choice(("auto", *choices)), default="auto",
                            show_default=True, help=help)(fn)
    return wrap


def dtype_given(ctx: click.Context) -> bool:
    """Whether ``--dtype`` was given (an explicit ``auto`` included), not defaulted."""
    return ctx.get_parameter_source("dtype") is not click.core.ParameterSource.DEFAULT


def resolved_dtype(dtype: str) -> str | None:
    return None if dtype == "auto" else dtype
