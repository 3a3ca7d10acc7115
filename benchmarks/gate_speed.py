#!/usr/bin/env python3
"""Time `vlmdoctor check --no-probe` against `python -m torch.utils.collect_env`.

Both run with this interpreter, in this environment, alternating, so load on the machine
hits both alike. Prints each median and the ratio. No assertions: speed is measured here,
not in the unit tests.

    python benchmarks/gate_speed.py [--runs 15] [--model minigemini-34b] [--nvml DIR]
    python benchmarks/gate_speed.py --model fixtures/modelfiles/qwen-tiny   # a model directory
    python benchmarks/gate_speed.py --model ''   # no model at all
When an NVML library is visible (the driver's, or ``--nvml DIR`` holding a
libnvidia-ml.so.1, e.g. the fake one tests/collect/fake_nvml/fake_nvml.c builds), it
also times the NVML reader child alone (vlmdoctor.collect.nvml_isolated) against
collect_env: that child must cost at most 1/20 of collect_env. Without a library the
gate starts no child at all.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def doctor_argv(model: str | None) -> list[str]:
    script = Path(sys.executable).with_name("vlmdoctor")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "vlmdoctor"]
    argv = [*base, "check", "--no-probe", "--fail-on", "never"]
    return argv + (["--model", model] if model else [])  # '' = no --model


CPU: dict[str, list[float]] = {}


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds; the child's CPU seconds (user + sys) go to ``CPU``: on a loaded machine
    CPU time is the steadier of the two."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                          cwd=ROOT, timeout=300, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(argv[-1], []).append(after.ru_utime - before.ru_utime
                                         + after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--model", default="minigemini-34b")
    parser.add_argument("--nvml", metavar="DIR", default=None,
                        help="prepend DIR (holding libnvidia-ml.so.1) to LD_LIBRARY_PATH")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if args.nvml:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            [str(Path(args.nvml).resolve()), *filter(None, [env.get("LD_LIBRARY_PATH")])])
    # An installed package has its .pyc files (pip compiles them), and torch's are there
    # already: compare like with like, so let the warm-up run write vlmdoctor's too.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    collect_env = [sys.executable, "-m", "torch.utils.collect_env"]
    doctor = doctor_argv(args.model)
    if shutil.which(sys.executable) is None:
        sys.exit("cannot find this interpreter")
    timed(doctor, env)  # warm the page cache and .pyc files for both
    timed(collect_env, env)
    a: list[float] = []
    b: list[float] = []
    for _ in range(args.runs):
        a.append(timed(doctor, env))
        b.append(timed(collect_env, env))
    med_a, med_b = statistics.median(a), statistics.median(b)
    print(f"interpreter:  {sys.executable}")
    print(f"vlmdoctor:    {' '.join(doctor[-5:])}")
    print(f"runs:         {args.runs} each, alternating")
    print(f"vlmdoctor check --no-probe     median {med_a * 1000:7.1f} ms  "
          f"(min {min(a) * 1000:.1f}, max {max(a) * 1000:.1f})")
    print(f"torch.utils.collect_env        median {med_b * 1000:7.1f} ms  "
          f"(min {min(b) * 1000:.1f}, max {max(b) * 1000:.1f})")
    print(f"ratio (doctor / collect_env):  1/{med_b / med_a:.1f}  ({med_a / med_b:.3f})")
    cpu_a = statistics.median(CPU[doctor[-1]][1:])
    cpu_b = statistics.median(CPU[collect_env[-1]][1:])
    print(f"CPU time (user+sys) medians:   {cpu_a * 1000:.1f} ms vs {cpu_b * 1000:.1f} ms, "
          f"ratio 1/{cpu_b / cpu_a:.1f}")
    child = nvml_child_times(env, args.runs)
    if child:
        med_c = statistics.median(child)
        print(f"NVML reader child alone        median {med_c * 1000:7.1f} ms  "
              f"(min {min(child) * 1000:.1f}, max {max(child) * 1000:.1f})")
        print(f"ratio (child / collect_env):   1/{med_b / med_c:.1f}  ({med_c / med_b:.3f})")
    else:
        print("NVML reader child: not started (no libnvidia-ml visible)")


def nvml_child_times(env: dict[str, str], runs: int) -> list[float]:
    """Seconds per read_inventory_isolated() in a fresh interpreter, [] when it starts none."""
    code = ("import time; from vlmdoctor.collect import nvml_isolated as n\n"
            "if not n.library_present(): print('none'); raise SystemExit\n"
            f"for _ in range({runs + 1}):\n"
            "    t = time.perf_counter(); n.read_inventory_isolated()\n"
            "    print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600, check=True).stdout.split()
    return [] if out[:1] == ["none"] else [float(x) for x in out[1:]]


if __name__ == "__main__":
    main()
