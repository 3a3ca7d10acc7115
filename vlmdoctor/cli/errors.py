"""The one top-level error handler for the click commands: click's usage errors become exit
2 with one line; everything else follows ``vlmdoctor.cli.guard``'s contract."""

from __future__ import annotations

import click

from vlmdoctor.cli.guard import guarded, say, stderr_line
from vlmdoctor.errors import EXIT_INTERRUPTED, EXIT_USAGE


def run_cli(group: click.Group, argv: list[str] | None) -> int:
    return guarded(lambda: _run(group, argv))


def _run(group: click.Group, argv: list[str] | None) -> int:
    try:
        result = group.main(args=argv, prog_name="vlmdoctor", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # A bare `vlmdoctor` (or `vlmdoctor rules`) asks for help: give it, successfully.
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.NoSuchOption as exc:
        close = f" (did you mean {exc.possibilities[0]}?)" if exc.possibilities else ""
        where = f"'{exc.ctx.command_path} --help'" if exc.ctx else "'vlmdoctor --help'"
        say(f"unknown option {exc.option_name}{close}; see {where}")
        return EXIT_USAGE
    except click.UsageError as exc:
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        say(f"{exc.format_message()}{hint}")
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:  # click's form of an interrupt
        stderr_line("vlmdoctor: interrupted")
        return EXIT_INTERRUPTED
    return int(result or 0)
