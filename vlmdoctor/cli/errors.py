"""The one top-level error handler: exceptions become exit codes and one-line messages."""

from __future__ import annotations

import errno
import os
import sys

import click

from vlmdoctor.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, VlmdoctorError
from vlmdoctor.redact import redact
from vlmdoctor.render.safe import printable


def discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so the exit-time flush of what is still
    buffered cannot fail a second time (a full disk, a vanished reader)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


# Write errors that mean "no room for the output": only output is written this way.
_FULL = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG") if hasattr(errno, n))


def _say(message: str, kind: str = "error") -> None:
    """One line, whatever the cause looked like: redacted, no control characters."""
    first = printable(" ".join(redact(message).split()))  # redacted before spaces fold
    click.echo(f"vlmdoctor: {kind}: {first}", err=True)


def run_cli(group: click.Group, argv: list[str] | None) -> int:
    code = _run(group, argv)
    if code in (0, 1) and _stdout_broken():  # help, version and reports are written by now
        return EXIT_USAGE
    return code


def _stdout_broken() -> bool:
    """Flush standard output; when that fails, say so (a full disk) or stay quiet (a
    vanished reader), and make sure the exit-time flush cannot fail again."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        return False
    except BrokenPipeError:
        discard_stdout()
        return False
    except (OSError, ValueError) as exc:
        discard_stdout()
        _say(f"standard output: cannot write: {getattr(exc, 'strerror', None) or exc}")
        return True


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
        discard_stdout()
        return 0
    except OSError as exc:
        if exc.errno in _FULL:  # e.g. --help written to a full disk (files are caught earlier)
            discard_stdout()
            _say(f"standard output: cannot write: {exc.strerror or exc}")
            return EXIT_USAGE
        return _internal(exc)
    except Exception as exc:  # the internal-error contract: exit 3, one line
        return _internal(exc)
    return int(result or 0)


def _internal(exc: Exception) -> int:
    """The internal-error contract: exit 3, one redacted line (a traceback on request)."""
    if os.environ.get("VLMDOCTOR_DEBUG"):
        import traceback

        traceback.print_exc()
    _say(f"{type(exc).__name__}: {exc} "
         "(set VLMDOCTOR_DEBUG=1 for a traceback, and please report it)", "internal error")
    return EXIT_INTERNAL
