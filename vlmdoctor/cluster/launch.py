"""Who am I in this job: rank, world size and rendezvous address, from the launcher's env.

torchrun sets ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` (and
``TORCHELASTIC_USE_AGENT_STORE`` when its agent hosts the store); Slurm's ``srun`` sets
``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_JOB_NODELIST``. Outside a launcher there is no
job to check: that is a usage error with a line saying how to launch the gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, NoReturn

from vlmdoctor.errors import InputError

HOW_TO_LAUNCH = (
    "vlmdoctor cluster check must run once per node under the job's launcher: "
    "'srun --ntasks-per-node=1 vlmdoctor cluster check ...' or "
    "'torchrun --nnodes=N --nproc_per_node=1 ... -m vlmdoctor cluster check ...'"
)
DEFAULT_PORT = 29500


@dataclass(frozen=True)
class Launch:
    launcher: str  # "torchrun" | "slurm" | "env"
    rank: int
    world_size: int
    master_addr: str
    master_port: int
    agent_store: bool = False  # torchrun's agent hosts the store: every rank is a client
    run_id: str = "vlmdoctor"

    def to_dict(self) -> dict[str, object]:
        return {"launcher": self.launcher, "rank": self.rank, "world_size": self.world_size,
                "master_addr": self.master_addr, "master_port": self.master_port,
                "agent_store": self.agent_store, "run_id": self.run_id}


def detect(environ: Mapping[str, str]) -> Launch:
    """The launch this process belongs to; ``InputError`` (exit 2) outside a launcher."""
    if "RANK" in environ and "WORLD_SIZE" in environ:
        launcher = "torchrun" if "TORCHELASTIC_RUN_ID" in environ else "env"
        rank, world = _int(environ, "RANK"), _int(environ, "WORLD_SIZE")
        addr = environ.get("MASTER_ADDR") or _missing("MASTER_ADDR")
        if "MASTER_PORT" not in environ:
            _missing("MASTER_PORT")
        port = _int(environ, "MASTER_PORT")
        run_id = environ.get("TORCHELASTIC_RUN_ID") or f"port{port}"
        agent = environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
        return _checked(Launch(launcher, rank, world, addr, port, agent, _safe_id(run_id)))
    if "SLURM_PROCID" in environ and "SLURM_NTASKS" in environ:
        rank, world = _int(environ, "SLURM_PROCID"), _int(environ, "SLURM_NTASKS")
        job = environ.get("SLURM_JOB_ID", "0")
        step = environ.get("SLURM_STEP_ID", "0")
        addr = environ.get("MASTER_ADDR") or first_host(environ.get("SLURM_JOB_NODELIST")
                                                        or environ.get("SLURM_NODELIST", ""))
        if not addr:
            raise InputError("Slurm launch without SLURM_JOB_NODELIST or MASTER_ADDR: "
                             "cannot tell which node hosts the rendezvous; set MASTER_ADDR")
        if "MASTER_PORT" in environ:
            port = _int(environ, "MASTER_PORT")
        else:  # one port per job, so concurrent jobs sharing a head node do not collide
            port = 20000 + (int(job) % 20000 if job.isdigit() else 0)
        return _checked(Launch("slurm", rank, world, addr, port, False,
                               _safe_id(f"slurm{job}.{step}")))
    raise InputError(HOW_TO_LAUNCH)


def first_host(nodelist: str) -> str:
    """The first host of a Slurm nodelist: ``gpu[03-05,09],cpu1`` -> ``gpu03``."""
    match = re.match(r"\s*([^,\[\s]+)(?:\[([^\]]*)\])?", nodelist)
    if not match:
        return ""
    prefix, ranges = match.group(1), match.group(2)
    if not ranges:
        return prefix
    first = ranges.split(",")[0].split("-")[0]
    return prefix + first


def _int(environ: Mapping[str, str], name: str) -> int:
    value = environ.get(name, "").strip()
    if not value.isdigit():
        raise InputError(f"{name}={environ.get(name)!r} is not a non-negative integer; "
                         + HOW_TO_LAUNCH)
    return int(value)


def _missing(name: str) -> NoReturn:
    raise InputError(f"{name} is not set; " + HOW_TO_LAUNCH)


def _checked(launch: Launch) -> Launch:
    if launch.world_size < 1 or launch.rank >= launch.world_size:
        raise InputError(f"rank {launch.rank} is outside world size {launch.world_size}; "
                         + HOW_TO_LAUNCH)
    if not 0 < launch.master_port < 65536:
        raise InputError(f"MASTER_PORT {launch.master_port} is not a TCP port")
    return launch


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:64]
