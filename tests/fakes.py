"""Small fake implementations of the collectors' interfaces (no patching of globals)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from vlmdoctor.collect.nvml import NvmlFailure
from vlmdoctor.snapshot import Gpu

NVML_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nvml"


class FakeNvml:
    """Replays a recorded inventory; can fail at init, or on one device."""

    def __init__(self, recorded: dict[str, Any] | None = None, init_error: str | None = None,
                 failing_device: int | None = None, hang: threading.Event | None = None) -> None:
        self.recorded = recorded or {"driver_version": "", "cuda_driver_version": 0, "devices": []}
        self.init_error = init_error
        self.failing_device = failing_device
        self.hang = hang
        self.shut_down = False

    @classmethod
    def from_fixture(cls, name: str, **kwargs: Any) -> FakeNvml:
        return cls(json.loads((NVML_FIXTURES / f"{name}.json").read_text()), **kwargs)

    def init(self) -> None:
        if self.hang is not None:
            self.hang.wait(30)
        if self.init_error:
            raise NvmlFailure(self.init_error)

    def shutdown(self) -> None:
        self.shut_down = True

    def driver_version(self) -> str:
        return str(self.recorded["driver_version"])

    def cuda_driver_version(self) -> int:
        return int(self.recorded["cuda_driver_version"])

    def device_count(self) -> int:
        return len(self.recorded["devices"])

    def device(self, index: int) -> Gpu:
        if index == self.failing_device:
            raise NvmlFailure("NVML error: GPU is lost")
        d = self.recorded["devices"][index]
        return Gpu(index=index, name=d["name"], memory_total_mib=d["memory_total_mib"],
                   memory_free_mib=d["memory_free_mib"], compute_capability=d["compute_capability"])
