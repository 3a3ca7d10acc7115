"""Per-GPU faults NVML can report, and the NVML error an adapter call raises.

A GPU the driver enumerates can still be unusable: lost (NVML_ERROR_GPU_IS_LOST), failing
every query (NVML_ERROR_UNKNOWN), or holding memory faults that need a reset. References:
https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html (the queries),
https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceEnumvs.html (the return codes),
https://docs.nvidia.com/deploy/dynamic-page-retirement/index.html and
https://docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/index.html (what needs a reset).
"""

from __future__ import annotations

from typing import Any

# NVML return codes (nvml.h, nvmlReturn_t; nvidia-ml-py's NVML_ERROR_* constants) that
# mean "this query does not apply here", not "this GPU is broken".
NOT_SUPPORTED, FUNCTION_NOT_FOUND, VGPU_ECC_NOT_SUPPORTED = 3, 13, 22
_INAPPLICABLE = frozenset({NOT_SUPPORTED, FUNCTION_NOT_FOUND, VGPU_ECC_NOT_SUPPORTED})


class NvmlFailure(Exception):
    """An NVML call failed; the message is the user-facing reason, ``code`` NVML's return
    code (None: not an NVML error, e.g. bindings too old to have the call)."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code

    @property
    def inapplicable(self) -> bool:
        return self.code is None or self.code in _INAPPLICABLE


def health_problems(call: Any, handle: Any) -> tuple[list[str], list[str]]:
    """Memory faults NVML reports for a readable GPU, each a reason it cannot be trusted
    until it is reset (NVML device queries: nvmlDeviceGetTotalEccErrors,
    nvmlDeviceGetRetiredPagesPendingStatus, nvmlDeviceGetRemappedRows). A query the GPU
    does not support (no ECC, no row remapping, an older driver) says nothing. Returns the
    problems that make the GPU unusable, and those it contains until a reset (a pending
    row remapping: "won't affect future work on the GPU", NVML's nvmlDeviceGetRemappedRows)."""
    problems: list[str] = []
    pending_reset: list[str] = []

    def ask(what: str, *args: Any) -> Any:
        try:
            return call(*args)
        except NvmlFailure as exc:
            if not exc.inapplicable:
                problems.append(f"{what}: {exc}")
            return None

    # NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1, NVML_VOLATILE_ECC = 0 (since the driver loaded)
    ecc = ask("ECC error count", "nvmlDeviceGetTotalEccErrors", handle, 1, 0)
    if isinstance(ecc, int) and ecc > 0:
        problems.append(f"{ecc} uncorrected ECC error(s) since the driver was loaded")
    pending = ask("retired pages", "nvmlDeviceGetRetiredPagesPendingStatus", handle)
    if pending == 1:  # NVML_FEATURE_ENABLED
        problems.append("memory pages are pending retirement (the GPU needs a reset)")
    rows = ask("remapped rows", "nvmlDeviceGetRemappedRows", handle)
    if isinstance(rows, tuple) and len(rows) == 4:
        if rows[3]:
            problems.append("row remapping failed (the GPU's memory cannot be repaired)")
        elif rows[2]:
            pending_reset.append("a row remapping is pending (it takes effect at the next "
                                 "GPU reset)")
    return problems, pending_reset
