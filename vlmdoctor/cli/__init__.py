"""The command line. Thin: parse options, call one orchestration function, exit.

Each command lives in its own module and is registered in ``COMMANDS`` below.
"""

from __future__ import annotations

import sys

import click

from vlmdoctor import __version__
from vlmdoctor.cli.errors import run_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vlmdoctor")
def cli() -> None:
    """Will this vision-language model run here? And if not, what exactly to change.

    \b
    Exit codes: 0 ok, 1 findings at/above --fail-on (or the probe failed),
    2 usage or input error, 3 internal error, 130 interrupted.
    """


def _register() -> None:
    from vlmdoctor.cli import check_cmd, env_cmd, explain_cmd, models_cmd, rules_cmd

    for module in (check_cmd, explain_cmd, env_cmd, models_cmd, rules_cmd):
        cli.add_command(module.command)


_register()


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_cli(cli, argv))
