"""`vlmdoctor env`: print the environment snapshot."""

from __future__ import annotations

import click

from vlmdoctor.cli.options import format_option, output_option, python_option
from vlmdoctor.cli.output import emit
from vlmdoctor.collect import collect_snapshot
from vlmdoctor.render.jsonfmt import snapshot_json
from vlmdoctor.render.text import snapshot_lines


@click.command("env")
@format_option(("text", "json"))
@output_option
@python_option
def command(fmt: str, output: str | None, python: str | None) -> None:
    """Print what vlmdoctor sees: driver, GPUs, torch build, packages, allowed env vars."""
    snapshot = collect_snapshot(python=python).snapshot
    if fmt == "json":
        emit(lambda _: snapshot_json(snapshot), output)
    else:
        emit(lambda _: snapshot_lines(snapshot), output)
