"""The click command group. Each command lives in its own module, listed in ``COMMANDS``;
a module is imported only when its command runs (or help lists it)."""

from __future__ import annotations

import importlib

import click

from vlmdoctor import __version__

COMMANDS = {
    "check": "vlmdoctor.cli.check_cmd",
    "explain": "vlmdoctor.cli.explain_cmd",
    "plan": "vlmdoctor.cli.plan_cmd",
    "probe": "vlmdoctor.cli.probe_cmd",
    "env": "vlmdoctor.cli.env_cmd",
    "models": "vlmdoctor.cli.models_cmd",
    "rules": "vlmdoctor.cli.rules_cmd",
    "schema": "vlmdoctor.cli.schema_cmd",
    "cluster": "vlmdoctor.cli.cluster_cmd",
    "compare": "vlmdoctor.cli.compare_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(module).command
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vlmdoctor")
def cli() -> None:
    """Will this vision-language model run here? And if not, what exactly to change.

    \b
    Exit codes: 0 ok, 1 findings at/above --fail-on (or the probe failed),
    2 usage or input error, 3 internal error, 130 interrupted.
    """

