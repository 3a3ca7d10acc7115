"""Run the probe's child with a hard timeout and capture what it says, bounded.

The child runs in its own session (process group) with an argv list, no shell. At the
timeout the whole group gets SIGTERM, then SIGKILL after a short grace; stdout and
stderr are drained by two threads into bounded buffers so a chatty or stuck child can
neither block nor flood the doctor.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from vlmdoctor.errors import InputError
from vlmdoctor.probe.assemble import ChildOutcome, assemble
from vlmdoctor.probe.model import ProbeRequest, ProbeResult
from vlmdoctor.probe.protocol import CHILD_MODULE, decode
from vlmdoctor.procgroup import child_env, stop_group
from vlmdoctor.redact import clip

GRACE_SECONDS = 2.0
MAX_STDOUT_BYTES = 4 << 20
MAX_LINE_BYTES = 256 << 10
STDERR_TAIL_BYTES = 32 << 10
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../vlmdoctor
_CHILD_ENV = {
    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false",
    "PYTHONFAULTHANDLER": "1", "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8",
}


def torch_importable(python: str = sys.executable) -> bool:
    """Whether ``import torch`` can be attempted, without importing it."""
    if python == sys.executable:
        return importlib.util.find_spec("torch") is not None
    try:
        # the working directory (maybe a downloaded model's) leaves sys.path before any
        # import that could be shadowed from it
        done = subprocess.run([python, "-c", "import sys; sys.path[:] = [p for p in sys.path "
                               "if p not in ('', '.')]; import importlib.util as u; "
                               "sys.exit(0 if u.find_spec('torch') else 1)"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def child_args(request: ProbeRequest, workdir: str) -> list[str]:
    import json

    args = ["--device", request.device, "--workdir", workdir,
            "--max-new-tokens", str(request.max_new_tokens)]
    for flag, value in (("--dtype", request.dtype), ("--family", request.family),
                        ("--hf-model-type", request.hf_model_type)):
        if value is not None:
            args += [flag, value]
    for flag, path in (("--weights", request.weights), ("--model-path", request.model_path)):
        if path is not None:  # the child runs in its own temp dir: paths must be absolute
            args += [flag, os.path.abspath(path)]
    if request.device_map:
        args += ["--device-map", json.dumps(dict(request.device_map))]
    if request.trust_remote_code:
        args.append("--trust-remote-code")
    return args


def _import_root(workdir: str) -> str:
    """A directory holding only ``vlmdoctor`` (a symlink), so the child's PYTHONPATH does
    not drag in the doctor's own site-packages (and its torch) when they differ."""
    root = os.path.join(workdir, "lib")
    os.makedirs(root, exist_ok=True)
    try:
        os.symlink(_PACKAGE_DIR, os.path.join(root, "vlmdoctor"), target_is_directory=True)
    except OSError:
        return str(_PACKAGE_DIR.parent)
    return root


def _env(base: Mapping[str, str], root: str, workdir: str) -> dict[str, str]:
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    env.update(_CHILD_ENV)
    # transformers copies a model's remote code here before importing it: keep it in the
    # run's temp dir, removed with it, instead of the user's cache.
    env["HF_MODULES_CACHE"] = os.path.join(workdir, "hf-modules")
    return env


class _Capture:
    """Drains the child's pipes on two daemon threads, keeping bounded data."""

    def __init__(self, proc: subprocess.Popen[bytes], t0: float) -> None:
        self.t0, self.lock = t0, threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.started: dict[str, float] = {}
        self.stray: deque[str] = deque(maxlen=5)
        self.stray_count, self.overflow = 0, False
        self.err = bytearray()
        assert proc.stdout is not None and proc.stderr is not None
        self.threads = [threading.Thread(target=self._out, args=(proc.stdout,), daemon=True),
                        threading.Thread(target=self._err, args=(proc.stderr,), daemon=True)]
        for thread in self.threads:
            thread.start()

    def _out(self, stream: IO[bytes]) -> None:
        total = 0
        for raw in iter(lambda: stream.readline(MAX_LINE_BYTES), b""):
            total += len(raw)
            with self.lock:
                if total > MAX_STDOUT_BYTES:
                    self.overflow = True
                    continue
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                event = decode(line)
                if event is None:
                    self.stray.append(clip(line, 200))
                    self.stray_count += 1
                    continue
                if event["event"] == "step-start" and isinstance(event.get("name"), str):
                    self.started[event["name"]] = time.monotonic() - self.t0
                self.events.append(event)

    def _err(self, stream: IO[bytes]) -> None:
        for chunk in iter(lambda: os.read(stream.fileno(), 8192), b""):
            with self.lock:
                self.err += chunk
                del self.err[:-STDERR_TAIL_BYTES]

    def finish(self, returncode: int | None, timed_out: bool, launch_error: str | None
               ) -> ChildOutcome:
        for thread in self.threads:
            thread.join(timeout=GRACE_SECONDS)
        with self.lock:
            return ChildOutcome(
                events=tuple(self.events), started=dict(self.started),
                stray_lines=tuple(self.stray), stray_count=self.stray_count,
                overflow=self.overflow, stderr_tail=self.err.decode("utf-8", "replace"),
                returncode=returncode, timed_out=timed_out, launch_error=launch_error,
                elapsed=time.monotonic() - self.t0)


@dataclass(frozen=True)
class _Launch:
    argv: list[str]
    env: dict[str, str]
    workdir: str


def _execute(launch: _Launch, timeout: float) -> ChildOutcome:
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(launch.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=launch.workdir, env=launch.env,
                                start_new_session=True)
    except OSError as exc:
        return ChildOutcome(launch_error=f"{type(exc).__name__}: {exc}", elapsed=0.0)
    timed_out = False
    try:
        capture = _Capture(proc, t0)
        proc.wait(timeout=max(0.0, t0 + timeout - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:  # also on Ctrl-C or SIGTERM (KeyboardInterrupt): nothing outlives us
        with signals_deferred():
            stop_group(proc, graceful=timed_out or proc.poll() is None, grace=GRACE_SECONDS)
    return capture.finish(proc.poll(), timed_out, None)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold the handled signals while cleaning up, so a second one cannot cut it short."""
    held = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
            if hasattr(signal, n)}
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def run_probe(request: ProbeRequest, *, command: Sequence[str] | None = None,
              env: Mapping[str, str] | None = None) -> ProbeResult:
    """Run the probe ladder in a child of ``request.python``; never raises for what the
    child does. ``command`` replaces ``[python, "-m", "vlmdoctor.probe.child"]`` (tests)."""
    if request.weights is not None and not os.path.isdir(request.weights):
        raise InputError(f"probe: --weights {request.weights}: not a directory")
    if request.model_path is not None and not os.path.isfile(
            os.path.join(request.model_path, "config.json")):
        raise InputError(f"probe: --model {request.model_path}: not a model directory "
                         "(no config.json)")
    workdir = tempfile.mkdtemp(prefix="vlmdoctor-probe-")
    try:
        root = _import_root(workdir)
        argv = [*(command or [request.python, "-m", CHILD_MODULE]),
                *child_args(request, workdir)]
        launch = _Launch(argv, {**_env(os.environ if env is None else env, root, workdir),
                                **child_env(request.timeout, workdir)}, workdir)
        outcome = _execute(launch, request.timeout)
    finally:
        with signals_deferred():
            shutil.rmtree(workdir, ignore_errors=True)
    return assemble(outcome, request)
