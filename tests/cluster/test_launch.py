"""Which launch a process belongs to, from the launcher's environment."""

from __future__ import annotations

import pytest

from vlmdoctor.cluster.launch import HOW_TO_LAUNCH, detect, first_host
from vlmdoctor.errors import InputError


def test_torchrun_with_agent_store() -> None:
    launch = detect({"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1",
                     "MASTER_PORT": "29400", "TORCHELASTIC_RUN_ID": "job-7",
                     "TORCHELASTIC_USE_AGENT_STORE": "True"})
    assert (launch.launcher, launch.rank, launch.world_size, launch.master_addr,
            launch.master_port, launch.agent_store, launch.run_id) == (
        "torchrun", 1, 2, "10.0.0.1", 29400, True, "job-7")


def test_plain_env_launch() -> None:
    launch = detect({"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "h", "MASTER_PORT": "1234"})
    assert (launch.launcher, launch.agent_store, launch.run_id) == ("env", False, "port1234")


def test_slurm_derives_address_and_port_from_the_job() -> None:
    launch = detect({"SLURM_PROCID": "3", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "123456",
                     "SLURM_STEP_ID": "0", "SLURM_JOB_NODELIST": "gpu[07-10],cpu1"})
    assert (launch.launcher, launch.rank, launch.world_size, launch.master_addr,
            launch.master_port, launch.run_id) == ("slurm", 3, 4, "gpu07", 23456, "slurm123456.0")


@pytest.mark.parametrize(("nodelist", "first"), [
    ("node1", "node1"), ("gpu[03-05,09]", "gpu03"), ("a[1,2],b[3]", "a1"), ("x-1,x-2", "x-1"),
    ("", ""),
])
def test_first_host(nodelist: str, first: str) -> None:
    assert first_host(nodelist) == first


def test_outside_a_launcher_says_how_to_launch() -> None:
    with pytest.raises(InputError) as err:
        detect({})
    assert str(err.value) == HOW_TO_LAUNCH


@pytest.mark.parametrize(("environ", "message"), [
    ({"RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "1"}, "MASTER_ADDR is not set; "),
    ({"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h"}, "MASTER_PORT is not set; "),
    ({"RANK": "x", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1"},
     "RANK='x' is not a non-negative integer; "),
    ({"RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1"},
     "rank 2 is outside world size 2; "),
])
def test_bad_launch_variables(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as err:
        detect(environ)
    assert str(err.value).startswith(message)


def test_bad_port() -> None:
    with pytest.raises(InputError, match=r"^MASTER_PORT 70000 is not a TCP port$"):
        detect({"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "h", "MASTER_PORT": "70000"})
