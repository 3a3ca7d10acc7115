"""The NVML reader's child process: reads the inventory and reports each step on stdout.

Run as ``python -S -E -c <bootstrap>`` by ``nvml_isolated`` so that a driver library whose
constructor aborts or hangs, or that crashes in a call, takes down only this process.
One JSON object per line: ``{"step": NAME}`` before each NVML call, ``{"value": NAME,
"data": ...}`` after it, and finally ``{"inventory": ...}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from vlmdoctor.collect.nvml import PynvmlApi, read_inventory
from vlmdoctor.record import fields
from vlmdoctor.snapshot import Gpu


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()  # a crash in the next call must not lose this line


class Reporting:
    """An NvmlApi that says what it is about to do and what it got."""

    def __init__(self, api: PynvmlApi) -> None:
        self.api = api

    def _do(self, name: str, call: Any, *args: Any) -> Any:
        _say({"step": name})
        value = call(*args)
        _say({"value": name, "data": _plain(value)})
        return value

    def init(self) -> None:
        self._do("init", self.api.init)

    def shutdown(self) -> None:
        self._do("shutdown", self.api.shutdown)

    def driver_version(self) -> str:
        return str(self._do("driver_version", self.api.driver_version))

    def cuda_driver_version(self) -> int:
        return int(self._do("cuda_driver_version", self.api.cuda_driver_version))

    def device_count(self) -> int:
        return int(self._do("device_count", self.api.device_count))

    def device(self, index: int) -> Gpu:
        gpu: Gpu = self._do(f"gpus[{index}]", self.api.device, index)
        return gpu


def _plain(value: Any) -> Any:
    if isinstance(value, Gpu):
        return {k: getattr(value, k) for k in fields(value)}
    return value


def main() -> None:
    inventory = read_inventory(Reporting(PynvmlApi()))
    _say({"inventory": {
        "driver": _plain_driver(inventory.driver),
        "gpus": [_plain(g) for g in inventory.gpus],
        "unavailable": inventory.unavailable,
    }})


def _plain_driver(driver: Any) -> Any:
    return None if driver is None else {"version": driver.version, "cuda": driver.cuda}


if __name__ == "__main__":
    main()
