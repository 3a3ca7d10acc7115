"""`vlmdoctor compare`: drift between saved node reports, offline."""

from __future__ import annotations

from pathlib import Path

import click

from vlmdoctor.cli.options import fail_on_option, format_option, output_option, rules_option
from vlmdoctor.cli.output import emit
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK


@click.command("compare")
@click.argument("reports", nargs=-1, metavar="REPORT...")
@click.option("--dir", "directory", metavar="DIR", default=None,
              help="Compare every *.json report in DIR.")
@click.option("--golden", metavar="REPORT", default=None,
              help="Compare every node with this report instead of the majority.")
@fail_on_option
@format_option(("text", "json"))
@output_option
@rules_option
def command(reports: tuple[str, ...], directory: str | None, golden: str | None,
            fail_on: str, fmt: str, output: str | None, rules_dir: str | None) -> None:
    """Compare saved node reports: what differs between the nodes, and how to align them."""
    from vlmdoctor.cluster.compare import compare, comparison_lines, report_files
    from vlmdoctor.knowledge import default_rules_dir
    from vlmdoctor.knowledge.drift_table import load_drift_table
    from vlmdoctor.render.jsonfmt import dumps

    table = load_drift_table(Path(rules_dir) if rules_dir else default_rules_dir())
    result = compare(report_files(reports, directory), table, golden, fail_on)
    if fmt == "json":
        emit(lambda _: dumps(result.to_dict()), output)
    else:
        emit(lambda _: "\n".join(comparison_lines(result)) + "\n", output)
    failed = result.to_dict()["summary"]["verdict"] == "fail"
    raise click.exceptions.Exit(EXIT_FINDINGS if failed else EXIT_OK)
