"""How a child process ended, in words."""

from __future__ import annotations

import signal


def signal_name(returncode: int | None) -> str | None:
    """``SIGSEGV`` for a child killed by signal 11 (returncode -11); None if it exited."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"
