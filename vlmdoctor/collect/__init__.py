"""collect: read the environment into a Snapshot. No torch import, no shell.

Every collaborator that touches the machine is a parameter, so tests pass
fakes (a recorded NVML inventory, an environ dict) instead of patching globals.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from typing import Any, Callable, Mapping

from vlmdoctor.collect.envvars import select_env
from vlmdoctor.collect.extensions import read_extensions
from vlmdoctor.collect.host import (
    _IMPLEMENTATIONS,
    home_relative,
    network_interfaces,
    read_host,
    read_python,
)
from vlmdoctor.collect.ncclfiles import read_nccl_files
from vlmdoctor.collect.nvml import Inventory, NvmlApi, PynvmlApi, read_inventory_bounded
from vlmdoctor.collect.packages import Distribution, installed_distributions
from vlmdoctor.collect.requirements import stack_requirements
from vlmdoctor.collect.toolkit import read_toolkit
from vlmdoctor.collect.torchbuild import read_torch_build
from vlmdoctor.record import record
from vlmdoctor.snapshot import PythonInfo, Snapshot


@record
class Collected:
    snapshot: Snapshot
    redactions: tuple[str, ...]


@record
class Installed:
    """What the distributions on the path say: versions, declared requirements, builds."""

    packages: dict[str, str]
    requirements: dict[str, tuple[str, ...]] | None = None
    extensions: dict[str, dict[str, Any]] | None = None
    ecosystem: dict[str, dict[str, Any]] | None = None


def read_installed(paths: tuple[str, ...] | None = None) -> Installed:
    dists: dict[str, Distribution] = installed_distributions(paths)
    requirements = stack_requirements(dists)
    return Installed(packages={name: d.version for name, d in dists.items()},
                     requirements=requirements,
                     extensions=read_extensions(dists),
                     ecosystem=_ecosystem(dists, requirements, paths))


def _ecosystem(dists: dict[str, Distribution], requirements: dict[str, tuple[str, ...]],
               paths: tuple[str, ...] | None) -> dict[str, dict[str, Any]]:
    from vlmdoctor.collect.ecosystem import dependents, read_ecosystem

    return read_ecosystem(dists, requirements, paths) if dependents(requirements) else {}


def now_utc() -> str:
    # time.strftime, not datetime: the same ISO 8601 text without an import on the gate path.
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def collect_snapshot(
    nvml: NvmlApi | None = None,
    environ: Mapping[str, str] | None = None,
    packages: Callable[[], dict[str, str] | Installed] = read_installed,
    clock: Callable[[], str] = now_utc,
    python: str | None = None,
) -> Collected:
    """``python``: diagnose that interpreter's environment instead of this one's."""
    environ = os.environ if environ is None else environ
    paths: tuple[str, ...] | None = None
    python_info = read_python()
    if python is not None:
        from vlmdoctor.collect.foreign import inspect_python

        other = inspect_python(python)
        paths = other.paths
        python_info = PythonInfo(version=other.version,
                                 implementation=_IMPLEMENTATIONS.get(other.implementation,
                                                                     other.implementation),
                                 executable=home_relative(other.executable))
        packages = functools.partial(read_installed, paths)
    unavailable: dict[str, str] = {}

    inventory = _inventory(nvml)
    unavailable.update(inventory.unavailable)

    torch, torch_reason = read_torch_build(paths)
    if torch_reason:
        unavailable["torch"] = torch_reason

    toolkit, toolkit_reason = read_toolkit(environ)
    if toolkit_reason:
        unavailable["cuda_toolkit"] = toolkit_reason

    env, redactions = select_env(environ)
    interfaces = network_interfaces()
    if interfaces is None:
        unavailable["network_interfaces"] = "socket.if_nameindex() is not available here"

    found = packages()
    installed = found if isinstance(found, Installed) else Installed(packages=found)
    snapshot = Snapshot(
        collected_at=clock(),
        host=read_host(),
        python=python_info,
        driver=inventory.driver,
        gpus=tuple(g for g in inventory.gpus if g.error is None),
        failed_gpus=tuple(g for g in inventory.gpus if g.error is not None),
        packages=installed.packages,
        torch=torch,
        cuda_toolkit=toolkit,
        env=env,
        network_interfaces=interfaces,
        unavailable=unavailable,
        nccl_files=read_nccl_files(environ),
        requirements=installed.requirements,
        extensions=installed.extensions,
        ecosystem=installed.ecosystem,
        unknown=inventory.unknown,
    )
    return Collected(snapshot, redactions)


def _inventory(nvml: NvmlApi | None) -> Inventory:
    """A given NvmlApi (tests) in-process; the live driver in a child process (POSIX)."""
    if nvml is not None:
        return read_inventory_bounded(nvml)
    if sys.platform == "win32":
        return read_inventory_bounded(PynvmlApi())
    from vlmdoctor.collect.nvml_isolated import read_inventory_isolated

    return read_inventory_isolated()
