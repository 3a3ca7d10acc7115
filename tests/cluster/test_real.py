"""Real runs of the cluster gate on torch.distributed (gloo, loopback only).

Ranks are separate `vlmdoctor cluster check` processes: under `torchrun` (standalone, and
two simulated nodes with a c10d rendezvous), or launched statically through RANK /
WORLD_SIZE / MASTER_ADDR / MASTER_PORT, as srun-style launchers do. Faults are injected
per rank through VLMDOCTOR_CLUSTER_FAULTS. Every run must end within its deadline plus a
few seconds (the bound is generous: it proves "never hangs", not speed).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytest.importorskip("torch.distributed")
pytestmark = pytest.mark.slow
TIMEOUT = 40.0
SLACK = 30.0  # process start, the local check and torch imports on a loaded 2-core runner


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(faults: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RANK", "WORLD_SIZE", "MASTER_", "SLURM_", "TORCHELASTIC_"))}
    env.update({"PYTHONPATH": str(ROOT), "VLMDOCTOR_CLUSTER_FAULTS": faults,
                "OMP_NUM_THREADS": "1"})
    return env


def check_args(out: Path) -> list[str]:
    return ["-m", "vlmdoctor", "cluster", "check", "--timeout", str(TIMEOUT), "--format",
            "json", "-o", str(out / "{rank}.json"), "--fail-on", "never"]


def static_ranks(tmp: Path, world: int, start: list[int], faults: str = "") -> list[Any]:
    """Start ``start`` ranks of a ``world``-rank job on a static loopback rendezvous."""
    port, procs = free_port(), []
    (tmp / "tmp").mkdir()
    for rank in start:
        env = base_env(faults)
        env["TMPDIR"] = str(tmp / "tmp")
        env.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": "0",
                    "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
        procs.append(subprocess.Popen([sys.executable, *check_args(tmp)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    return procs


def finish(procs: list[Any], t0: float) -> float:
    for proc in procs:
        try:
            proc.wait(timeout=max(1.0, t0 + TIMEOUT + 2 * SLACK - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            pytest.fail(f"a rank outlived its deadline: {proc.args}")
    return time.monotonic() - t0


def report(tmp: Path, rank: int) -> dict[str, Any]:
    from tests.schema.test_schema import REPORT, errors

    data: dict[str, Any] = json.loads((tmp / f"{rank}.json").read_text())
    assert errors(REPORT, data) == []
    return data


def cluster_ids(data: dict[str, Any]) -> list[str]:
    return sorted(f["id"] for f in data["findings"] if f["id"].startswith("cluster-"))


def no_leftovers(out: Path) -> None:
    """The ranks ran with TMPDIR inside ``out``: the child's work directory must be gone."""
    assert list((out / "tmp").iterdir()) == []


def torchrun_bin() -> str | None:
    return shutil.which("torchrun", path=os.path.dirname(sys.executable))


def torchrun_standalone(out: Path) -> list[Any]:
    argv = [str(torchrun_bin()), "--standalone", "--nproc_per_node=2", "--rdzv_id",
            uuid.uuid4().hex, *check_args(out)]
    return [subprocess.Popen(argv, env=base_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)]


def torchrun_two_nodes(out: Path) -> list[Any]:
    """Two simulated nodes: two torchrun agents meeting through a c10d rendezvous."""
    port, run_id = free_port(), uuid.uuid4().hex
    faults = "0:host=node-a,1:host=node-b,1:pkg.transformers=4.30.0"
    argv = [str(torchrun_bin()), "--nnodes=2", "--nproc_per_node=1", "--rdzv_backend=c10d",
            f"--rdzv_endpoint=127.0.0.1:{port}", f"--rdzv_id={run_id}", "--local_addr=127.0.0.1",
            "--rdzv_conf=join_timeout=40,read_timeout=20", *check_args(out)]
    return [subprocess.Popen(argv, env=base_env(faults), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE) for _ in range(2)]


# The static scenarios run side by side (each on its own port and directory), so their join
# windows and deadlines overlap instead of adding up.
SCENARIOS = {
    "majority": (3, [0, 1, 2], "0:host=a,1:host=b,2:host=c,2:pkg.tokenizers=0.1.0"),
    "absent": (2, [0], ""),
    "late": (2, [0, 1], f"1:late={TIMEOUT + 10}"),
    "ifname": (2, [0, 1], "1:ifname=vlmdnope0"),
    "crash": (2, [0, 1], "1:crash=gloo"),
}


@pytest.fixture(scope="module")
def static_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float]]:
    t0 = time.monotonic()
    started: dict[str, tuple[Path, list[Any]]] = {}
    for name, (world, ranks, faults) in SCENARIOS.items():
        out = tmp_path_factory.mktemp(name)
        started[name] = (out, static_ranks(out, world, ranks, faults))
    return {name: (out, finish(procs, t0)) for name, (out, procs) in started.items()}


def torchrun_run(tmp: Path, start: Any) -> float:
    if torchrun_bin() is None:
        pytest.skip("torchrun is not installed beside this Python")
    t0 = time.monotonic()
    return finish(start(tmp), t0)


def test_torchrun_standalone_two_ranks(tmp_path: Path) -> None:
    out = tmp_path
    assert torchrun_run(out, torchrun_standalone) < TIMEOUT + SLACK
    for rank in (0, 1):
        data = report(out, rank)
        section = data["cluster"]
        assert (section["launcher"], section["world_size"], section["nodes_seen"],
                section["rank"]) == ("torchrun", 2, 2, rank)
        assert [(la["name"], la["status"]) for la in section["layers"]] == [
            ("store", "ok"), ("gloo", "ok")]
        assert cluster_ids(data) == []
        assert set(section["timings"]) >= {"deadline_s", "child_s", "torch_import_s", "total_s"}


def test_two_simulated_nodes_with_a_c10d_rendezvous_see_version_drift(tmp_path: Path) -> None:
    out = tmp_path
    assert torchrun_run(out, torchrun_two_nodes) < TIMEOUT + SLACK + 10  # + torchrun's rendezvous
    for rank in (0, 1):
        data = report(out, rank)
        assert "cluster-drift-package" in cluster_ids(data)
        (drift,) = [d for d in data["cluster"]["drift"] if d["key"] == "packages.transformers"]
        assert drift["values"]["node-b"] == "4.30.0"
        assert sorted(drift["values"]) == ["node-a", "node-b"]


def test_static_three_ranks_majority_names_the_odd_node(static_runs: Any) -> None:
    out, elapsed = static_runs["majority"]
    assert elapsed < TIMEOUT + SLACK
    data = report(out, 0)
    (drift,) = [d for d in data["cluster"]["drift"] if d["key"] == "packages.tokenizers"]
    assert (drift["basis"], drift["outliers"]) == ("majority", ["c"])
    assert "c" in data["cluster"]["suspect_nodes"]
    assert [la["status"] for la in data["cluster"]["layers"]] == ["ok", "ok"]


def test_a_node_that_never_arrives_is_named(static_runs: Any) -> None:
    out, elapsed = static_runs["absent"]
    assert elapsed < TIMEOUT + SLACK
    data = report(out, 0)
    assert cluster_ids(data) == ["cluster-rank-missing"]
    assert data["cluster"]["missing_ranks"] == [1]
    assert data["cluster"]["layers"][0]["status"] == "failed"


def test_a_rank_late_past_the_deadline(static_runs: Any) -> None:
    out, elapsed = static_runs["late"]
    assert elapsed < TIMEOUT + SLACK
    no_leftovers(out)  # the late rank's child was killed at the deadline: its directory too
    assert cluster_ids(report(out, 0)) == ["cluster-rank-missing"]
    late = report(out, 1)
    assert cluster_ids(late) == ["cluster-timeout"]
    assert late["cluster"]["layers"][0]["status"] == "running"


def test_a_socket_interface_that_does_not_exist(static_runs: Any) -> None:
    out, elapsed = static_runs["ifname"]
    assert elapsed < TIMEOUT + SLACK
    for rank in (0, 1):
        data = report(out, rank)
        assert cluster_ids(data) == ["cluster-gloo-failed"]
        gloo = data["cluster"]["layers"][1]
        assert gloo["name"] == "gloo" and 1 in gloo["failed_ranks"]
        assert "vlmdnope0" in (gloo["detail"] or "")


def test_a_crashed_rank(static_runs: Any) -> None:
    out, elapsed = static_runs["crash"]
    assert elapsed < TIMEOUT + SLACK
    assert cluster_ids(report(out, 1)) == ["cluster-check-crashed"]
    survivor = report(out, 0)
    assert cluster_ids(survivor) == ["cluster-gloo-failed"]
    gloo = survivor["cluster"]["layers"][1]
    assert gloo["silent_ranks"] == [1] and 1 in gloo["failed_ranks"]
    rank1 = survivor["cluster"]["nodes"][1]["node"]  # same host: labelled host#rank
    assert survivor["cluster"]["suspect_nodes"] == [rank1]
    no_leftovers(out)


def _gpus() -> int:
    try:
        import torch

        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:
        return 0


@pytest.mark.gpu
@pytest.mark.skipif(_gpus() < 2, reason="needs 2 or more CUDA GPUs")
def test_nccl_layer_on_two_gpus(tmp_path: Path) -> None:
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    assert torchrun is not None
    t0 = time.monotonic()
    proc = subprocess.Popen([torchrun, "--standalone", "--nproc_per_node=2",
                             *check_args(tmp_path), "--backend", "nccl"], env=base_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert finish([proc], t0) < TIMEOUT + SLACK
    section = report(tmp_path, 0)["cluster"]
    assert [(la["name"], la["status"]) for la in section["layers"]] == [
        ("store", "ok"), ("gloo", "ok"), ("nccl", "ok")]
    bandwidth = section["nccl_bandwidth"]
    assert bandwidth["busbw_gbps"] > 0 and bandwidth["nccl_version"]
    print(f"nccl all-reduce {bandwidth['bytes']} bytes: bus bandwidth "
          f"{bandwidth['busbw_gbps']} GB/s (NCCL {bandwidth['nccl_version']})")
