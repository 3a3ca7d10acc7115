from __future__ import annotations

import threading
import time

from tests.fakes import FakeNvml
from vlmdoctor.collect import collect_snapshot
from vlmdoctor.collect.nvml import decode_cuda_version, read_inventory, read_inventory_bounded
from vlmdoctor.snapshot import Driver, Gpu


def test_decode_cuda_version() -> None:
    assert decode_cuda_version(12040) == "12.4"
    assert decode_cuda_version(11080) == "11.8"
    assert decode_cuda_version(13000) == "13.0"


def test_no_driver_is_recorded_with_its_reason() -> None:
    inv = read_inventory(FakeNvml(init_error="NVML library not found (libnvidia-ml.so.1)"))
    assert inv.driver is None
    assert inv.gpus == ()
    assert inv.unavailable == {"driver": "NVML library not found (libnvidia-ml.so.1)"}


def test_two_gpus() -> None:
    fake = FakeNvml.from_fixture("two-a100")
    inv = read_inventory(fake)
    assert inv.driver == Driver(version="535.104.05", cuda="12.2")
    assert [g.index for g in inv.gpus] == [0, 1]
    assert inv.gpus[1] == Gpu(index=1, name="NVIDIA A100-SXM4-80GB", memory_total_mib=81920,
                              memory_free_mib=60000, compute_capability="8.0")
    assert inv.unavailable == {}
    assert fake.shut_down


def test_error_mid_enumeration_keeps_the_other_gpus() -> None:
    inv = read_inventory(FakeNvml.from_fixture("two-a100", failing_device=0))
    assert [g.index for g in inv.gpus] == [0, 1]
    assert inv.gpus[0] == Gpu(index=0, error="NVML error: GPU is lost")
    assert inv.gpus[1].error is None and inv.unavailable == {}
    collected = collect_snapshot(nvml=FakeNvml.from_fixture("two-a100", failing_device=0),
                                 environ={}, packages=dict, clock=lambda: "T")
    assert [g.index for g in collected.snapshot.gpus] == [1]
    assert collected.snapshot.failed_gpus == (Gpu(index=0, error="NVML error: GPU is lost"),)


def test_a_hung_driver_does_not_hang_the_doctor() -> None:
    release = threading.Event()
    start = time.monotonic()
    inv = read_inventory_bounded(FakeNvml(hang=release), timeout=0.2)
    release.set()
    assert time.monotonic() - start < 15  # the fake never answers until released: not waited for
    assert inv.driver is None
    assert inv.unavailable == {
        "driver": "NVML did not answer within 0.2 s (driver hung or GPU in a bad state)"}


def test_collect_snapshot_with_fake_nvml() -> None:
    collected = collect_snapshot(nvml=FakeNvml.from_fixture("two-a100"), environ={},
                                 packages=lambda: {"torch": "2.5.1+cu124"}, clock=lambda: "T")
    snap = collected.snapshot
    assert snap.collected_at == "T"
    assert snap.driver == Driver(version="535.104.05", cuda="12.2")
    assert len(snap.gpus) == 2
    assert snap.packages == {"torch": "2.5.1+cu124"}
    assert "driver" not in snap.unavailable
