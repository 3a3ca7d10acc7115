"""Another interpreter's environment (`--python PATH`), seen from outside.

The other Python runs one standard-library-only snippet (Python 3.9+, nothing installed
there, no shell, a timeout) that prints its version and its import path. It starts as the
user's own scripts do, except that ``PYTHON*`` variables are ignored (``-E``): ``site``
decides, as for them, whether the user site-packages (``~/.local``) is importable (never
in a virtual environment that excludes system packages) and where it stands in the path
(before the interpreter's own site-packages). The path is reported in that order, and only
it: a directory that is not on it holds nothing that interpreter can import.
Everything else — distributions, torch's build — is then read from those directories by
this process, exactly as for the doctor's own environment. Nothing is installed there.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.record import record

TIMEOUT = 20.0
MAX_OUTPUT = 1 << 20  # per stream; what the interpreter prints past this is read and dropped
# Runs inside the other interpreter: standard library only, Python 3.9 syntax.
SNIPPET = """\
import json, sys
paths = [p for p in sys.path if p]
v = sys.version_info
print(json.dumps({"version": "%d.%d.%d" % (v[0], v[1], v[2]),
                  "implementation": sys.implementation.name,
                  "executable": sys.executable, "paths": paths}))
"""


@record
class ForeignPython:
    executable: str
    version: str
    implementation: str
    paths: tuple[str, ...]


def inspect_python(python: str, timeout: float = TIMEOUT) -> ForeignPython:
    """Ask ``python`` for its version and import path; bad input is one InputError."""
    shown = f"--python {python}"
    if not os.path.isfile(python) or not os.access(python, os.X_OK):
        raise InputError(f"{shown}: not an executable file")
    try:
        # -E, not -I: isolated mode would also turn the user site-packages off. The working
        # directory is "/", so no json.py beside the caller is imported by the snippet.
        done = _run_bounded([python, "-E", "-c", SNIPPET], timeout,
                            {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
    except subprocess.TimeoutExpired:
        raise InputError(f"{shown}: no answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot run it: {exc.strerror or exc}") from None
    try:
        data = json.loads(done.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
        return ForeignPython(executable=str(data["executable"]), version=str(data["version"]),
                             implementation=str(data["implementation"]),
                             paths=tuple(str(p) for p in data["paths"]))
    except (ValueError, IndexError, KeyError, TypeError):
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"{shown}: not a Python 3 interpreter that vlmdoctor can read "
                         f"(exit {done.returncode}: {why[0][:200]})") from None


def _run_bounded(argv: list[str], timeout: float, env: dict[str, str]
                 ) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` keeping at most ``MAX_OUTPUT`` bytes of each stream (an interpreter
    that prints gigabytes cannot fill memory); its process group ends at the timeout."""
    import threading

    from vlmdoctor.procgroup import stop_group

    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd="/", start_new_session=True)
    kept = (bytearray(), bytearray())

    def drain(stream: Any, buf: bytearray) -> None:
        while chunk := stream.read(1 << 16):
            if len(buf) < MAX_OUTPUT:
                buf += chunk[:MAX_OUTPUT - len(buf)]

    threads = [threading.Thread(target=drain, args=(s, b), daemon=True)
               for s, b in zip((proc.stdout, proc.stderr), kept)]
    for thread in threads:
        thread.start()
    try:
        proc.wait(timeout=timeout)
    finally:
        stop_group(proc, graceful=False, grace=1.0)
        for thread in threads:
            thread.join(timeout=2.0)
    return subprocess.CompletedProcess(argv, proc.returncode, bytes(kept[0]), bytes(kept[1]))
