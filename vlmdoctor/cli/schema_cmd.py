"""`vlmdoctor schema`: print the JSON Schema of the report or the snapshot."""

from __future__ import annotations

import click

from vlmdoctor.cli.options import output_option
from vlmdoctor.cli.output import emit
from vlmdoctor.render.jsonfmt import dumps
from vlmdoctor.schemas import NAMES, schema


@click.command("schema")
@click.argument("name", type=click.Choice(NAMES), default="report")
@output_option
def command(name: str, output: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of the report (default) or the snapshot.

    Validate a saved report with any JSON Schema validator; unknown extra keys stay valid.
    """
    document = schema(name)
    emit(lambda _: dumps(document), output)
