"""The one top-level error handler: exceptions become exit codes and one-line messages."""

from __future__ import annotations

import os
import sys
import traceback

import click

from vlmdoctor.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, VlmdoctorError


def _say(message: str) -> None:
    first = " ".join(message.split())  # one line, whatever the cause looked like
    click.echo(f"vlmdoctor: error: {first}", err=True)


def run_cli(group: click.Group, argv: list[str] | None) -> int:
    try:
        result = group.main(args=argv, prog_name="vlmdoctor", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # A bare `vlmdoctor` (or `vlmdoctor rules`) asks for help: give it, successfully.
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.NoSuchOption as exc:
        close = f" (did you mean {exc.possibilities[0]}?)" if exc.possibilities else ""
        where = f"'{exc.ctx.command_path} --help'" if exc.ctx else "'vlmdoctor --help'"
        _say(f"unknown option {exc.option_name}{close}; see {where}")
        return EXIT_USAGE
    except click.UsageError as exc:
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        _say(f"{exc.format_message()}{hint}")
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("vlmdoctor: interrupted", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("vlmdoctor: interrupted", err=True)
        return EXIT_INTERRUPTED
    except VlmdoctorError as exc:
        _say(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to say to it.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    except Exception as exc:  # the internal-error contract: exit 3, one line
        if os.environ.get("VLMDOCTOR_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"vlmdoctor: internal error: {type(exc).__name__}: {exc} "
            "(set VLMDOCTOR_DEBUG=1 for a traceback, and please report it)",
            err=True,
        )
        return EXIT_INTERNAL
    return int(result or 0)
