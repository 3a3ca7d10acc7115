"""Run the torch.distributed child with a hard deadline; read what it recorded.

NCCL initialisation and the first collectives ignore their timeouts, and a static
rendezvous to a dead address can hang silently, so the child runs in its own session and
its whole process group is killed at the deadline. The child rewrites its result file
after every step, so a kill still tells which layer was running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from vlmdoctor.cluster.launch import Launch
from vlmdoctor.procgroup import child_env, stop_group

CHILD_MODULE = "vlmdoctor.cluster.child"
GRACE_SECONDS = 2.0
STDERR_TAIL = 4000


@dataclass(frozen=True)
class Budget:
    """How the deadline is shared: joining the store, then each collective layer."""

    total: float

    @property
    def join(self) -> float:  # from the child's start: importing torch counts against it
        return max(1.0, self.total * 0.5)

    @property
    def layer(self) -> float:
        return max(1.0, self.total * 0.2)


@dataclass(frozen=True)
class ChildResult:
    data: Mapping[str, Any] = field(default_factory=dict)
    timed_out: bool = False
    returncode: int | None = None
    stderr_tail: str = ""
    elapsed: float = 0.0


def spec_for(launch: Launch, payload: Mapping[str, Any], backend: str, budget: Budget,
             local_rank: int) -> dict[str, Any]:
    return {**launch.to_dict(), "payload": dict(payload), "backend": backend,
            "join_timeout": budget.join, "layer_timeout": budget.layer,
            "prefix": f"vlmdoctor/{launch.run_id}", "local_rank": local_rank}


def run_child(spec: Mapping[str, Any], deadline: float, python: str = sys.executable,
              env: Mapping[str, str] | None = None,
              command: Sequence[str] | None = None) -> ChildResult:
    workdir = tempfile.mkdtemp(prefix="vlmdoctor-cluster-")
    t0 = time.monotonic()
    try:
        spec_path, out_path = os.path.join(workdir, "spec.json"), os.path.join(workdir, "out.json")
        with open(spec_path, "w", encoding="utf-8") as handle:
            json.dump(dict(spec), handle)
        argv = [*(command or [python, "-m", CHILD_MODULE]), "--spec", spec_path,
                "--out", out_path]
        errors_path = os.path.join(workdir, "stderr.txt")
        with open(errors_path, "wb") as errors:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=errors,
                                        env={**_child_env(os.environ if env is None else env),
                                             **child_env(deadline, workdir)},
                                        cwd=workdir,  # not the user's (maybe a model dir:
                                        start_new_session=True)  # -m puts it on sys.path)
            except OSError as exc:
                return ChildResult(stderr_tail=f"cannot start the child: {exc}")
            timed_out = False
            try:
                proc.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                stop_group(proc, graceful=True, grace=GRACE_SECONDS)
        return ChildResult(_read_json(out_path), timed_out, proc.returncode,
                           _tail(errors_path), round(time.monotonic() - t0, 3))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _child_env(base: Mapping[str, str]) -> dict[str, str]:
    """The environment, with vlmdoctor importable from outside the user's directory."""
    env = dict(base)
    parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([parent, *filter(None, [env.get("PYTHONPATH")])])
    return env


def _read_json(path: str) -> dict[str, Any]:
    """The child's record; peer payloads inside it are checked one by one by the gate."""
    from vlmdoctor.errors import InputError
    from vlmdoctor.jsonfile import read_bounded

    try:
        value = json.loads(read_bounded(path, path, MAX_RECORD, "cluster record"))
    except (OSError, ValueError, RecursionError, InputError):
        return {}
    return value if isinstance(value, dict) else {}


MAX_RECORD = 512 << 20


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - STDERR_TAIL))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
