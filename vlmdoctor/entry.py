"""The process entry point: signal handling first, before anything slow is imported.

Ctrl-C (SIGINT), SIGTERM, SIGHUP (the terminal went away) and SIGQUIT become
``KeyboardInterrupt`` from the first instruction on,
so every ``finally`` runs (the probe's process group is killed and its temporary
directory removed) and the exit is 130 with one line, never a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

HANDLED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
EXIT_INTERRUPTED = 130  # vlmdoctor.errors.EXIT_INTERRUPTED, not imported: keep this first


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install_signal_handlers() -> None:
    """These signals raise KeyboardInterrupt, unless the parent chose to ignore them
    (``nohup``, a background job of a script): that choice is kept. SIGKILL cannot be
    caught: every child watches its parent instead (vlmdoctor.procgroup.watch_parent)."""
    for name in HANDLED:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, _terminate)


def main() -> None:
    install_signal_handlers()
    try:
        from vlmdoctor.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # before run_cli took over, or after it returned
        try:
            os.write(2, b"vlmdoctor: interrupted\n")
        except OSError:
            pass
        _exit_interrupted()
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:
            _exit_interrupted()
        _block_late_signals()
        raise


def _block_late_signals() -> None:
    """The exit code is decided and the output written: block SIGINT and SIGTERM for the
    interpreter's own shutdown, which restores the default handlers at its very end (a
    signal then killed the process by SIGINT, without the one line). A signal that comes
    now is dropped with the process; the exit states what was done."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _exit_interrupted() -> None:
    """Exit 130 now. Cleanup has run (``finally`` blocks); normal interpreter exit is
    skipped because CPython turns *any* KeyboardInterrupt that once crossed an
    ``exec()`` of a string (dataclasses does that while we import) into death by SIGINT."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
