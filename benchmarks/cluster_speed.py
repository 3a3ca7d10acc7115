#!/usr/bin/env python3
"""Wall time of a two-node `vlmdoctor cluster check` on gloo, broken into its parts.

Two `torchrun --nnodes=2 --nproc_per_node=1` processes on 127.0.0.1 with a c10d
rendezvous (as two nodes would run it), repeated; prints per-part medians from the node
reports: torchrun's own start and rendezvous, vlmdoctor's local check, torch import in
the child, connecting to the store, the snapshot exchange, and the collectives.
No assertions: speed is measured here, not in the unit tests.

    python benchmarks/cluster_speed.py [--runs 3] [--timeout 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("torch_import_s", "connect_s", "exchange_s", "collectives_s", "child_s", "total_s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(timeout: float) -> tuple[float, list[dict[str, float]]]:
    torchrun = Path(sys.executable).with_name("torchrun")
    out = Path(tempfile.mkdtemp(prefix="vlmdoctor-bench-"))
    port, run_id = free_port(), uuid.uuid4().hex
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    argv = [str(torchrun), "--nnodes=2", "--nproc_per_node=1", "--rdzv_backend=c10d",
            f"--rdzv_endpoint=127.0.0.1:{port}", f"--rdzv_id={run_id}",
            "--local_addr=127.0.0.1", "-m", "vlmdoctor", "cluster", "check", "--timeout",
            str(timeout), "--fail-on", "never", "--format", "json", "-o", str(out / "{rank}.json")]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(2)]
    for proc in procs:
        proc.wait(timeout=timeout * 3)
    wall = time.perf_counter() - t0
    timings = [json.loads((out / f"{r}.json").read_text())["cluster"]["timings"] for r in (0, 1)]
    return wall, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    walls: list[float] = []
    parts: dict[str, list[float]] = {p: [] for p in PARTS}
    for _ in range(args.runs):
        wall, timings = one_run(args.timeout)
        walls.append(wall)
        for timing in timings:
            for part in PARTS:
                if isinstance(timing.get(part), (int, float)):
                    parts[part].append(float(timing[part]))
    wall = statistics.median(walls)
    total = statistics.median(parts["total_s"])
    print(f"two-node gloo run, {args.runs} runs, medians over both ranks")
    print(f"  whole run (both torchrun processes) {wall:7.2f} s")
    print(f"  torchrun start + rendezvous + local check  {wall - total:7.2f} s")
    for part, label in (("torch_import_s", "child: import torch"),
                        ("connect_s", "child: connect to the c10d store"),
                        ("exchange_s", "child: exchange snapshots"),
                        ("collectives_s", "child: gloo all-reduce + clocks"),
                        ("child_s", "child: whole"), ("total_s", "cluster part (parent view)")):
        if parts[part]:
            print(f"  {label:<42} {statistics.median(parts[part]):7.2f} s")


if __name__ == "__main__":
    main()
