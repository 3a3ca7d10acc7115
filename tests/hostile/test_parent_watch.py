"""SIGHUP, SIGQUIT and SIGKILL of vlmdoctor: no probe child, NVML reader or cluster child
keeps running, and no temporary directory stays behind.

SIGHUP and SIGQUIT take the same path as SIGTERM (every ``finally`` runs, exit 130).
SIGKILL reaches no handler: each child watches the process that started it
(vlmdoctor.procgroup.watch_parent) and ends its own process group when that is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

from tests.collect.test_nvml_isolated import _tagged, fake_nvml  # noqa: F401 (fixture)
from tests.conftest import ROOT
from tests.hostile.test_probe_signals import alive, probe_on_fake_torch

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _default_signals() -> None:
    """Under nohup (or any parent that ignores them) vlmdoctor keeps SIGHUP/SIGQUIT
    ignored, by design; this test needs them delivered."""
    for sig in (signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def _wait(what: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGKILL])
def test_probe_child_and_tempdir_end_with_vlmdoctor(tmp_path: Path, sig: int) -> None:
    proc, temp, marker = probe_on_fake_torch(tmp_path, preexec_fn=_default_signals)
    try:
        _wait(lambda: marker.exists() or proc.poll() is not None, 120,
              "the probe child never imported the fake torch")
        assert proc.poll() is None, proc.communicate()[1]
        child, grandchild = (int(p) for p in marker.read_text().split())
        assert alive(child) and alive(grandchild) and list(temp.glob("vlmdoctor-probe-*"))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert (proc.returncode, err.strip()) == (130, "vlmdoctor: interrupted")
    _wait(lambda: not alive(child) and not alive(grandchild)
          and not list(temp.glob("vlmdoctor-probe-*")), 20,
          "the probe child, its group or its temp dir outlived vlmdoctor")


def test_a_hung_nvml_reader_dies_with_a_killed_vlmdoctor(
        fake_nvml: Path) -> None:  # noqa: F811 (the fixture)
    """The reader hangs inside dlopen (the GIL held, no Python runs): PR_SET_PDEATHSIG."""
    tag = uuid.uuid4().hex
    env = dict(os.environ, LD_LIBRARY_PATH=str(fake_nvml), FAKE_NVML_MODE="hang",
               FAKE_NVML_TAG=tag, VLMDOCTOR_NVML_TIMEOUT="300", PYTHONPATH=str(ROOT),
               VLMDOCTOR_NO_CACHE="1")
    proc = subprocess.Popen([sys.executable, "-m", "vlmdoctor", "env"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: len(_tagged(tag)) >= 2, 60, "the NVML reader never started")
        time.sleep(2)  # into the library's constructor, which never returns
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _wait(lambda: _tagged(tag) == [], 20, "the NVML reader outlived a killed vlmdoctor")


@pytest.mark.slow
def test_the_cluster_child_and_tempdir_end_with_a_killed_vlmdoctor(tmp_path: Path) -> None:
    pytest.importorskip("torch.distributed")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RANK", "WORLD_SIZE", "MASTER_", "SLURM_", "TORCHELASTIC_"))}
    env.update({"PYTHONPATH": str(ROOT), "VLMDOCTOR_CLUSTER_FAULTS": "0:late=120",
                "TMPDIR": str(temp), "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0",
                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29517", "VLMDOCTOR_NO_CACHE": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "vlmdoctor", "cluster", "check",
                             "--timeout", "200"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: bool(list(temp.glob("vlmdoctor-cluster-*/spec.json")))
              or proc.poll() is not None, 120, "the cluster child never started")
        assert proc.poll() is None
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                    .read_text().split()]
        assert children
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _wait(lambda: not any(alive(c) for c in children)
          and not list(temp.glob("vlmdoctor-cluster-*")), 20,
          "the cluster child or its temp dir outlived a killed vlmdoctor")
