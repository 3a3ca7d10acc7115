"""Ending a child's whole process group: every child vlmdoctor starts leads its own session.

Standard library only (the probe's and the cluster check's parent sides, the NVML reader).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
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


# The child's side: every child vlmdoctor starts watches the process that started it, so
# that SIGKILL of vlmdoctor (which no handler sees) leaves nothing running past its deadline.
PARENT_ENV = "VLMDOCTOR_PARENT_PID"
DEADLINE_ENV = "VLMDOCTOR_CHILD_DEADLINE"
WORKDIR_ENV = "VLMDOCTOR_CHILD_WORKDIR"
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def child_env(deadline: float, workdir: str | None = None) -> dict[str, str]:
    """What a child needs to watch this process: its pid, its deadline, its temp dir."""
    env = {PARENT_ENV: str(os.getpid()), DEADLINE_ENV: f"{max(1.0, deadline):.0f}"}
    if workdir:
        env[WORKDIR_ENV] = workdir
    return env


def watch_parent(parent: int | None = None, deadline: float | None = None,
                 workdir: str | None = None, hard: bool = False) -> None:
    """Called first thing in a child. When the parent is gone (its pid no longer ours):
    remove ``workdir`` and end this child's whole process group (a watcher thread polling
    ``getppid``). ``hard``: also PR_SET_PDEATHSIG=SIGKILL on Linux, for a child that may
    hang inside C code holding the GIL (the NVML reader; it has no temp dir to remove).
    Whatever happens, the kernel ends the child at ``deadline`` seconds plus a grace
    (SIGALRM with its default action needs no Python code to run)."""
    env = os.environ
    if parent is None and env.get(PARENT_ENV, "").isdigit():
        parent = int(env[PARENT_ENV])
    if deadline is None and env.get(DEADLINE_ENV, "").isdigit():
        deadline = float(env[DEADLINE_ENV])
    workdir = workdir or env.get(WORKDIR_ENV) or None
    if parent is None or parent <= 1:
        return
    if deadline is not None and hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(int(deadline + 2 * GRACE_SECONDS) + 1)
    if hard and sys.platform.startswith("linux"):
        _pdeathsig()
    if os.getppid() != parent:  # the parent died before the watch began
        _orphaned(workdir)
    import threading

    threading.Thread(target=_poll, args=(parent, workdir), daemon=True,
                     name="vlmdoctor-parent-watch").start()


def _pdeathsig() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _poll(parent: int, workdir: str | None) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    _orphaned(workdir)


def _orphaned(workdir: str | None) -> None:
    if workdir:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    with contextlib.suppress(OSError):
        if hasattr(os, "killpg") and os.getpgrp() == os.getpid():  # we lead our group
            os.killpg(os.getpid(), kill)
    os._exit(128 + int(kill))
