"""SIGTERM or SIGINT to vlmdoctor while the probe runs: nothing outlives it, nothing is left.

A fake ``torch`` whose import hangs (after starting a grandchild in the probe's process
group) stands in for a wedged CUDA init; the test then signals the real CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import ROOT

FAKE_TORCH = '''
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
marker = os.environ["FAKE_TORCH_MARKER"]
with open(marker + ".tmp", "w") as handle:
    handle.write(f"{os.getpid()} {grandchild.pid}")
os.replace(marker + ".tmp", marker)
time.sleep(600)
'''


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its parent's wait is missing


def probe_on_fake_torch(tmp_path: Path, preexec_fn: Callable[[], None] | None = None,
                        ) -> tuple[subprocess.Popen[str], Path, Path]:
    """`vlmdoctor probe --device cpu` started on FAKE_TORCH (a probe child that waits), with
    its own TMPDIR: (the process, that TMPDIR, the file the fake writes its pids to)."""
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(FAKE_TORCH)
    (fake / "torch" / "version.py").write_text("__version__ = '2.5.1'\ncuda = None\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    marker = tmp_path / "pids"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake), str(ROOT)]),
               TMPDIR=str(temp), FAKE_TORCH_MARKER=str(marker), VLMDOCTOR_NO_CACHE="1")
    proc = subprocess.Popen([sys.executable, "-m", "vlmdoctor", "probe", "--device", "cpu",
                             "--timeout", "300"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=preexec_fn)
    return proc, temp, marker


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_probe_leaves_no_process_and_no_tempdir(tmp_path: Path, sig: int) -> None:
    proc, temp, marker = probe_on_fake_torch(tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the probe child never imported the fake torch"
            time.sleep(0.05)
        child, grandchild = (int(p) for p in marker.read_text().split())
        assert alive(child) and alive(grandchild)
        assert list(temp.glob("vlmdoctor-probe-*"))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, err.strip()) == (130, "vlmdoctor: interrupted")
    gone_by = time.monotonic() + 10  # signalled before the parent exited; dying takes a moment
    while (alive(child) or alive(grandchild)) and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not alive(child) and not alive(grandchild)
    assert list(temp.glob("vlmdoctor-probe-*")) == []
