"""Ending a child's whole process group: every child vlmdoctor starts leads its own session.

Standard library only (the probe's and the cluster check's parent sides, the NVML reader).
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

GRACE_SECONDS = 2.0


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the child's process group (pgid == pid), or to the child alone where
    there are no process groups; a group that is already gone is fine."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(proc: subprocess.Popen[bytes], graceful: bool,
               grace: float = GRACE_SECONDS) -> None:
    """End the whole group: SIGTERM and a grace period when ``graceful``, then SIGKILL, so
    stragglers go even when the child itself has exited."""
    import subprocess

    if graceful:
        signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
