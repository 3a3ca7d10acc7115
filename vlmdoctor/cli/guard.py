"""The exit-code contract for everything that is not click's own: vlmdoctor's errors, an
interrupt, a vanished or full standard output, and internal errors (exit 3, one line).

Click-free, so the pre-job gate's path (``vlmdoctor.cli.gate``) keeps the same contract
without importing click; ``vlmdoctor.cli.errors`` adds click's usage errors around it.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Callable

from vlmdoctor.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, VlmdoctorError
from vlmdoctor.redact import redact
from vlmdoctor.render.safe import printable

# Write errors that mean "no room for the output": only output is written this way.
_FULL = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG") if hasattr(errno, n))


def discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so the exit-time flush of what is still
    buffered cannot fail a second time (a full disk, a vanished reader)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def say(message: str, kind: str = "error") -> None:
    """One line on stderr, whatever the cause looked like: redacted, no control characters."""
    first = printable(" ".join(redact(message).split()))  # redacted before spaces fold
    stderr_line(f"vlmdoctor: {kind}: {first}")


def stderr_line(line: str) -> None:
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def guarded(run: Callable[[], int]) -> int:
    """``run()``'s exit code, every exception turned into the contract's exit code and one
    line; then standard output is flushed (a full disk there is exit 2)."""
    code = _guarded(run)
    if code in (0, 1) and _stdout_broken():  # help, version and reports are written by now
        return EXIT_USAGE
    return code


def _guarded(run: Callable[[], int]) -> int:
    try:
        return run()
    except KeyboardInterrupt:
        stderr_line("vlmdoctor: interrupted")
        return EXIT_INTERRUPTED
    except VlmdoctorError as exc:
        say(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to say to it.
        discard_stdout()
        return 0
    except OSError as exc:
        if exc.errno in _FULL:  # e.g. --help written to a full disk (files are caught earlier)
            discard_stdout()
            say(f"standard output: cannot write: {exc.strerror or exc}")
            return EXIT_USAGE
        return _internal(exc)
    except Exception as exc:  # the internal-error contract: exit 3, one line
        return _internal(exc)


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
        say(f"standard output: cannot write: {getattr(exc, 'strerror', None) or exc}")
        return True


def _internal(exc: Exception) -> int:
    """The internal-error contract: exit 3, one redacted line (a traceback on request)."""
    if os.environ.get("VLMDOCTOR_DEBUG"):
        import traceback

        traceback.print_exc()
    say(f"{type(exc).__name__}: {exc} "
        "(set VLMDOCTOR_DEBUG=1 for a traceback, and please report it)", "internal error")
    return EXIT_INTERNAL
