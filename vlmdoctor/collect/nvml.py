"""NVIDIA driver and GPU inventory through NVML, behind one small interface.

``NvmlApi`` is what the collector needs; ``PynvmlApi`` implements it over
``pynvml`` (nvidia-ml-py), and tests pass recorded inventories instead. A failure of
the driver as a whole becomes a reason string in ``unavailable``; a GPU the driver
enumerates but cannot read, or that reports memory faults, stays in the inventory with
its ``error`` (see nvml_health). Nothing here raises.
"""

from __future__ import annotations

from typing import Any, Protocol

from vlmdoctor.collect.nvml_health import NvmlFailure, health_problems
from vlmdoctor.record import field, record
from vlmdoctor.snapshot import Driver, Gpu, valid_capability

__all__ = ["Inventory", "NvmlApi", "NvmlFailure", "PynvmlApi", "read_inventory"]

NVML_TIMEOUT_S = 10.0


class NvmlApi(Protocol):
    def init(self) -> None: ...
    def shutdown(self) -> None: ...
    def driver_version(self) -> str: ...
    def cuda_driver_version(self) -> int: ...
    def device_count(self) -> int: ...
    def device(self, index: int) -> Gpu: ...


@record
class Inventory:
    driver: Driver | None
    gpus: tuple[Gpu, ...] = ()
    unavailable: dict[str, str] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()  # sections NVML could not tell (crash, hang)


def decode_cuda_version(value: int) -> str:
    """NVML encodes CUDA 12.4 as 12040 (NVML_CUDA_DRIVER_VERSION_MAJOR/MINOR)."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def read_inventory(api: NvmlApi) -> Inventory:
    try:
        api.init()
    except NvmlFailure as exc:
        return Inventory(driver=None, unavailable={"driver": str(exc)})
    unavailable: dict[str, str] = {}
    try:
        version = _try(api.driver_version, "driver.version", unavailable)
        cuda_raw = _try(api.cuda_driver_version, "driver.cuda", unavailable)
        cuda = decode_cuda_version(cuda_raw) if isinstance(cuda_raw, int) else None
        count = _try(api.device_count, "gpus", unavailable)
        gpus = []
        for index in range(count if isinstance(count, int) else 0):
            try:
                gpus.append(api.device(index))
            except NvmlFailure as exc:  # enumerated but unreadable: a GPU that cannot be used
                gpus.append(Gpu(index=index, error=str(exc)))
        return Inventory(Driver(version=version, cuda=cuda), tuple(gpus), unavailable)
    finally:
        try:
            api.shutdown()
        except NvmlFailure:
            pass


def read_inventory_bounded(api: NvmlApi, timeout: float = NVML_TIMEOUT_S) -> Inventory:
    """Read the inventory on a daemon thread so a wedged driver cannot hang us."""
    import threading  # only where an NVML reader runs in-process (tests, fakes)

    box: list[Inventory] = []
    worker = threading.Thread(target=lambda: box.append(read_inventory(api)), daemon=True)
    worker.start()
    worker.join(timeout)
    if box:
        return box[0]
    return Inventory(driver=None, unavailable={
        "driver": f"NVML did not answer within {timeout:g} s (driver hung or GPU in a bad state)"
    })


def _try(call: Any, key: str, unavailable: dict[str, str]) -> Any:
    try:
        return call()
    except NvmlFailure as exc:
        unavailable[key] = str(exc)
        return None


class PynvmlApi:
    """NvmlApi over nvidia-ml-py. Imports pynvml lazily, maps its errors to reasons."""

    def __init__(self, module: Any = None) -> None:
        """``module`` stands in for ``pynvml`` (tests); None loads the real bindings."""
        self._given = module
        self._nvml: Any = None

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._nvml, name)(*args)
        except Exception as exc:  # pynvml raises NVMLError subclasses (and OSError)
            code = getattr(exc, "value", None)
            raise NvmlFailure(_reason(exc), code if isinstance(code, int) else None) from None

    def init(self) -> None:
        if self._given is not None:
            self._nvml = self._given
        else:
            _probe_library()
            try:
                import pynvml
            except ImportError:
                raise NvmlFailure("nvidia-ml-py (pynvml) is not installed") from None
            self._nvml = pynvml
        self._call("nvmlInit")

    def shutdown(self) -> None:
        self._call("nvmlShutdown")

    def driver_version(self) -> str:
        return _text(self._call("nvmlSystemGetDriverVersion"))

    def cuda_driver_version(self) -> int:
        try:
            return int(self._call("nvmlSystemGetCudaDriverVersion_v2"))
        except NvmlFailure:
            return int(self._call("nvmlSystemGetCudaDriverVersion"))

    def device_count(self) -> int:
        return int(self._call("nvmlDeviceGetCount"))

    def device(self, index: int) -> Gpu:
        """The GPU at ``index``; raises when it has no handle or name, and sets ``error``
        when a later query fails or the GPU reports memory faults waiting for a reset."""
        handle = self._call("nvmlDeviceGetHandleByIndex", index)
        name = _text(self._call("nvmlDeviceGetName", handle))
        problems: list[str] = []
        total = free = None
        try:
            memory = self._call("nvmlDeviceGetMemoryInfo", handle)
            total = _mib(memory.total)
            free = _mib(memory.free) if total is not None else None
        except NvmlFailure as exc:  # "Not Supported" on some GPUs: unknown memory
            if not exc.inapplicable:
                problems.append(f"memory: {exc}")
        capability = None
        try:
            major, minor = self._call("nvmlDeviceGetCudaComputeCapability", handle)
            capability = f"{major}.{minor}"
        except NvmlFailure as exc:
            if not exc.inapplicable:
                problems.append(f"compute capability: {exc}")
        faults, pending = health_problems(self._call, handle)
        problems += faults
        return Gpu(index=index, name=name, memory_total_mib=total, memory_free_mib=free,
                   compute_capability=capability if capability and valid_capability(capability)
                   else None, error="; ".join(problems) or None,
                   reset_pending="; ".join(pending) or None)


def _probe_library() -> None:
    """dlopen NVML before importing pynvml: on machines without a driver this answers in
    microseconds, and the pre-job gate does not pay for importing the bindings."""
    import ctypes
    import sys

    names = ["nvml.dll"] if sys.platform == "win32" else ["libnvidia-ml.so.1", "libnvidia-ml.so"]
    for name in names:
        try:
            ctypes.CDLL(name)
            return
        except OSError:
            continue
    if sys.platform == "win32":
        return  # pynvml also searches Program Files; let it decide
    raise NvmlFailure("NVML library not found (libnvidia-ml.so.1): "
                      "no NVIDIA driver installed or not visible")


def _mib(value: Any) -> int | None:
    """Bytes as MiB; None for what no GPU has (zero, negative, over 16 TiB)."""
    try:
        mib = int(value) // 2**20
    except (TypeError, ValueError, OverflowError):
        return None
    return mib if 0 < mib <= 1 << 24 else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _reason(exc: Exception) -> str:
    kind = type(exc).__name__
    if "LibraryNotFound" in kind:
        return "NVML library not found (libnvidia-ml.so.1): no NVIDIA driver installed or not visible"
    if "DriverNotLoaded" in kind:
        return "NVIDIA driver not loaded (is the kernel module installed and loaded?)"
    if "NoPermission" in kind:
        return "no permission to access the NVIDIA device files"
    if "Uninitialized" in kind:
        return "NVML not initialized"
    try:
        text = str(exc).strip() or kind
    except Exception:  # an error whose message needs the library that just failed
        text = kind
    return f"NVML error: {text}"
