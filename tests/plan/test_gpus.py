from __future__ import annotations

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.plan import GpuSpec, gpus_from_snapshot, parse_gpus
from vlmdoctor.snapshot import Gpu, Snapshot

GIB = 2**30


def test_named_gpus_with_counts():
    assert parse_gpus("4xA100-80GB") == tuple(
        GpuSpec(i, "A100-80GB", 80 * GIB, None, "8.0") for i in range(4))
    assert [g.name for g in parse_gpus("8xH100")] == ["H100"] * 8
    assert parse_gpus("1xV100-32GB") == (GpuSpec(0, "V100-32GB", 32 * GIB, None, "7.0"),)


def test_comma_lists_and_aliases():
    assert parse_gpus("T4,T4") == (GpuSpec(0, "T4", 16 * GIB, None, "7.5"),
                                   GpuSpec(1, "T4", 16 * GIB, None, "7.5"))
    assert [g.name for g in parse_gpus("NVIDIA H100, 2 x rtx 4090, a10g")] == \
        ["H100", "RTX4090", "RTX4090", "A10G"]


def test_plain_sizes_binary_and_decimal():
    assert parse_gpus("2x24GiB") == (GpuSpec(0, "24GiB", 24 * GIB), GpuSpec(1, "24GiB", 24 * GIB))
    assert parse_gpus("16384MiB")[0].memory_total_bytes == 16 * GIB
    assert parse_gpus("24GB")[0].memory_total_bytes == 24 * 10**9
    assert parse_gpus("1x0.5G")[0].memory_total_bytes == GIB // 2


@pytest.mark.parametrize(("spec", "message"), [
    ("", "--gpus '': give GPUs such as 2xA100-80GB, T4,T4 or 2x24GiB"),
    ("A100", "--gpus 'A100': 'A100' comes in several sizes; write A100-40GB or A100-80GB"),
    ("2xV100", "--gpus '2xV100': 'V100' comes in several sizes; write V100-16GB or V100-32GB"),
    ("4xA1000", "--gpus '4xA1000': unknown GPU 'A1000' (did you mean A100, A6000, A10?); "
                "use a known name or a size such as 24GiB"),
    ("T4,,T4", "--gpus 'T4,,T4': empty item between commas"),
    ("0xH100", "--gpus '0xH100': the GPU count in '0xH100' must be at least 1"),
    ("0GiB", "--gpus '0GiB': GPU size '0GiB' must be more than zero"),
    ("65xH100", "--gpus '65xH100': 65 GPUs is more than one node (64 at most)"),
    ("banana", "--gpus 'banana': unknown GPU 'banana'; use a known name or a size such as 24GiB"),
])
def test_bad_specs_say_why_in_one_line(spec, message):
    with pytest.raises(InputError) as err:
        parse_gpus(spec)
    assert str(err.value) == message


def test_snapshot_gpus_use_free_memory():
    snap = Snapshot(gpus=(
        Gpu(index=0, name="NVIDIA A100-SXM4-40GB", memory_total_mib=40960, memory_free_mib=40337,
            compute_capability="8.0"),
        Gpu(index=1, name=None, memory_total_mib=None),
    ))
    (gpu,) = gpus_from_snapshot(snap)
    assert gpu == GpuSpec(0, "NVIDIA A100-SXM4-40GB", 40960 * 2**20, 40337 * 2**20, "8.0")
    assert gpu.capacity_bytes == 40337 * 2**20
