"""NVML out of process: the driver library is loaded in a short-lived child.

A driver library can abort in its constructor, hang in it (``dlopen`` holds the GIL, so no
thread of ours could time it out) or crash in a call. So the inventory is read by a
child of this same interpreter (``-S -E -c``, no shell) in its own process group, with a
hard deadline; whatever it reported before dying or hanging is kept, and what it did not
is recorded as unknown with the reason. When no ``libnvidia-ml`` is installed, no child
is started at all (the common case of the pre-job gate on a CPU node).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmdoctor.collect.nvml import NVML_TIMEOUT_S, Inventory, decode_cuda_version
from vlmdoctor.exitstatus import signal_name
from vlmdoctor.procgroup import signal_group
from vlmdoctor.snapshot import Driver, Gpu

if TYPE_CHECKING:
    pass

LIBRARY = "libnvidia-ml.so.1"
NOT_FOUND = ("NVML library not found (libnvidia-ml.so.1): "
             "no NVIDIA driver installed or not visible")
_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
         "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/lib64", "/lib",
         "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib",
         "/run/nvidia/driver/usr/lib/x86_64-linux-gnu")
_BOOT = ("import sys; sys.path[:0] = {paths!r}; "
         "from vlmdoctor.procgroup import watch_parent; watch_parent({parent}, {limit}, hard=True); "
         "from vlmdoctor.collect.nvml_child import main; main()")
MAX_OUTPUT = 1 << 20


def library_present(environ: dict[str, str] | None = None) -> bool:
    """Whether the dynamic loader could find libnvidia-ml, without loading it."""
    env = os.environ if environ is None else environ
    dirs = [d for d in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if d] + list(_DIRS)
    if any(os.path.exists(os.path.join(d, LIBRARY)) for d in dirs):
        return True
    try:
        with open("/etc/ld.so.cache", "rb") as cache:
            return LIBRARY.encode() + b"\0" in cache.read(16 << 20)
    except OSError:
        return False


def timeout_from_env() -> float:
    raw = os.environ.get("VLMDOCTOR_NVML_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return NVML_TIMEOUT_S
    return value if 0 < value <= 600 else NVML_TIMEOUT_S


def read_inventory_isolated(timeout: float | None = None) -> Inventory:
    if not library_present():
        return Inventory(driver=None, unavailable={"driver": NOT_FOUND})
    import subprocess  # only with a driver library to read: the gate without one skips it

    limit = timeout_from_env() if timeout is None else timeout
    package_parent = str(Path(__file__).resolve().parent.parent.parent)
    paths = [package_parent, *[p for p in sys.path if p]]
    argv = [sys.executable, "-S", "-E", "-c",
            _BOOT.format(paths=paths, parent=os.getpid(), limit=float(limit))]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        return _unknown(f"cannot start the NVML reader: {exc}")
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        signal_group(proc, signal.SIGKILL)
        out, _ = proc.communicate()
    finally:
        if proc.poll() is None:
            signal_group(proc, signal.SIGKILL)
            proc.wait()
    return interpret(out[:MAX_OUTPUT].decode("utf-8", "replace"), proc.returncode, timed_out,
                     limit)


def _unknown(reason: str) -> Inventory:
    return Inventory(driver=None, unavailable={"driver": reason, "gpus": reason},
                     unknown=frozenset({"driver", "gpus"}))


def interpret(text: str, returncode: int | None, timed_out: bool, limit: float) -> Inventory:
    """Build the inventory from the child's lines, keeping what it read before failing."""
    events = [_decode(line) for line in text.splitlines()]
    seen = [e for e in events if e is not None]
    for event in seen:
        if isinstance(event.get("inventory"), dict):
            return _complete(event["inventory"])
    values = {e["value"]: e.get("data") for e in seen if isinstance(e.get("value"), str)}
    steps = [e["step"] for e in seen if isinstance(e.get("step"), str)]
    last = steps[-1] if steps else "loading the library"
    if timed_out:
        what = f"NVML did not answer within {limit:g} s ({last}): driver hung or GPU in a bad state"
    else:
        what = f"the NVIDIA driver library {_death(returncode)} during {last}"
    if "driver_version" not in values:
        return _unknown(what)
    cuda = values.get("cuda_driver_version")
    driver = Driver(version=str(values["driver_version"]),
                    cuda=decode_cuda_version(cuda) if isinstance(cuda, int) else None)
    if last == "shutdown":  # everything was read; only letting go failed
        gpus = tuple(_gpu(v) for k, v in values.items() if k.startswith("gpus["))
        return Inventory(driver, tuple(g for g in gpus if g is not None), {})
    return Inventory(driver, (), {"gpus": what}, unknown=frozenset({"gpus"}))


def _death(returncode: int | None) -> str:
    name = signal_name(returncode)
    return f"crashed ({name})" if name else f"stopped the reader (exit status {returncode})"


def _decode(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _complete(data: dict[str, Any]) -> Inventory:
    raw_driver = data.get("driver")
    driver = None
    if isinstance(raw_driver, dict):
        driver = Driver(version=_str(raw_driver.get("version")), cuda=_str(raw_driver.get("cuda")))
    raw_gpus = data.get("gpus")
    found = [_gpu(r) for r in raw_gpus] if isinstance(raw_gpus, list) else []
    gpus = tuple(g for g in found if g is not None)
    raw_un = data.get("unavailable")
    unavailable = {str(k): str(v) for k, v in raw_un.items()} if isinstance(raw_un, dict) else {}
    return Inventory(driver, gpus, unavailable)


def _gpu(raw: Any) -> Gpu | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("index"), int):
        return None
    return Gpu(index=raw["index"], name=_str(raw.get("name")),
               memory_total_mib=_int(raw.get("memory_total_mib")),
               memory_free_mib=_int(raw.get("memory_free_mib")),
               compute_capability=_str(raw.get("compute_capability")),
               error=_str(raw.get("error")), reset_pending=_str(raw.get("reset_pending")))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
