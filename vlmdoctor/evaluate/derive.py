"""Derived compatibility facts: pure functions of the snapshot and the CUDA tables.

These encode the semantics that a flat comparison cannot: CUDA minor-version
compatibility, binary compatibility of sm_ targets, and which torch build
would run on this driver and these GPUs.
"""

from __future__ import annotations

from typing import Callable, Mapping

from packaging.version import InvalidVersion, Version

from vlmdoctor.knowledge.tables import ArchBuild, CudaTables, cuda_tag, sm_name, tag_cuda
from vlmdoctor.shell import arg
from vlmdoctor.snapshot import Gpu, Snapshot

INDEX_URL = "https://download.pytorch.org/whl/{tag}"


def _version(text: str | None) -> Version | None:
    if not text:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def torch_cuda(snapshot: Snapshot) -> Version | None:
    return _version(snapshot.torch.cuda) if snapshot.torch else None


def driver_status(snapshot: Snapshot, tables: CudaTables) -> str | None:
    """``ok``, ``minor-compat`` (runs, with limits) or ``too-old``; None when unknown."""
    runtime = torch_cuda(snapshot)
    if runtime is None or snapshot.driver is None:
        return None
    driver_cuda = _version(snapshot.driver.cuda)
    driver = _version(snapshot.driver.version)
    if driver_cuda is None:
        return None
    if driver_cuda.major < runtime.major:
        return "too-old"
    if driver_cuda.major > runtime.major or driver_cuda >= runtime:
        return "ok"
    floor = tables.minor_compat_floor.get(runtime.major)
    is_linux = snapshot.host is None or snapshot.host.os in (None, "Linux")
    if floor and driver and is_linux and driver < Version(floor):
        return "too-old"
    return "minor-compat"


def gpu_label(gpu: Gpu) -> str:
    cc = f" ({sm_name(gpu.compute_capability)})" if gpu.compute_capability else ""
    return f"GPU {gpu.index}: {gpu.name or 'unknown GPU'}{cc}"


def current_arch_build(snapshot: Snapshot, tables: CudaTables) -> ArchBuild | None:
    torch = snapshot.torch
    if torch is None or not torch.version or not torch.cuda:
        return None
    try:
        return tables.arch_build(torch.version, cuda_tag(torch.cuda))
    except InvalidVersion:
        return None


def gpus_unsupported(snapshot: Snapshot, tables: CudaTables) -> list[str] | None:
    build = current_arch_build(snapshot, tables)
    if build is None:
        return None
    return [gpu_label(g) for g in snapshot.gpus
            if g.compute_capability and not build.runs_on(g.compute_capability)]


def gpus_needing_ptx_jit(snapshot: Snapshot, tables: CudaTables) -> list[str] | None:
    """GPUs that run the torch build only by JIT-compiling its PTX."""
    build = current_arch_build(snapshot, tables)
    if build is None:
        return None
    return [gpu_label(g) for g in snapshot.gpus
            if g.compute_capability and build.needs_ptx_jit(g.compute_capability)]


def gpus_below(snapshot: Snapshot, minimum: str) -> list[str]:
    floor = Version(minimum)
    out = []
    for gpu in snapshot.gpus:
        cc = _version(gpu.compute_capability)
        if cc is not None and cc < floor:
            out.append(gpu_label(gpu))
    return out


def torch_fix(snapshot: Snapshot, tables: CudaTables,
              allow: Callable[[str], bool] | None = None) -> str | None:
    """The pip command for a torch build that runs on this driver and every known GPU here.

    Prefers the installed torch release (so model pins on torch still hold), then the
    newest release; within a release, the newest CUDA tag the driver fully supports, else
    one it runs under minor-version compatibility. Unknown GPUs rule nothing out. With
    ``allow``, only the releases it accepts (None when the tables list none of them).
    """
    driver_cuda = _version(snapshot.driver.cuda) if snapshot.driver else None
    if driver_cuda is None:
        return None
    ccs = [g.compute_capability for g in snapshot.gpus if g.compute_capability]
    installed = _version(snapshot.torch.version) if snapshot.torch else None
    releases = sorted(tables.releases, key=lambda r: Version(r.torch), reverse=True)
    if allow is not None:
        releases = [r for r in releases if allow(r.torch)]
        if not releases:
            return None
    if installed is not None:
        same = [r for r in releases if Version(r.torch).release[:2] == installed.release[:2]]
        releases = same + [r for r in releases if r not in same]
    minor_ok = _minor_compat_majors(snapshot, tables)
    for release in releases:
        tags = sorted(release.tags, key=lambda t: tag_cuda(t) or Version("0"), reverse=True)
        for full in (True, False):
            for tag in tags:
                runtime = tag_cuda(tag)
                build = tables.arch_build(release.torch, tag)
                if runtime is None or build is None:
                    continue
                if not (runtime <= driver_cuda if full else runtime.major in minor_ok):
                    continue
                if all(build.runs_on(cc) for cc in ccs):
                    return _pip_torch(release.torch, release.torchvision, tag, snapshot)
    which = "and these GPUs" if ccs else "(whatever the GPUs)"
    return (f"# no published torch build runs on this driver (CUDA {driver_cuda}) {which}: "
            "upgrade the NVIDIA driver first, then install a build for your GPU")


def _minor_compat_majors(snapshot: Snapshot, tables: CudaTables) -> set[int]:
    """CUDA majors whose every minor this driver runs (minor-version compatibility, Linux)."""
    driver_cuda = _version(snapshot.driver.cuda) if snapshot.driver else None
    driver = _version(snapshot.driver.version) if snapshot.driver else None
    is_linux = snapshot.host is None or snapshot.host.os in (None, "Linux")
    if driver_cuda is None or driver is None or not is_linux:
        return set()
    floor = tables.minor_compat_floor.get(driver_cuda.major)
    return {driver_cuda.major} if floor and driver >= Version(floor) else set()


def _pip_torch(torch: str, torchvision: str, tag: str, snapshot: Snapshot) -> str:
    parts = [f"pip install {arg(f'torch=={torch}')}"]
    if "torchvision" in snapshot.packages:
        parts.append(arg(f"torchvision=={torchvision}"))
    parts.append(f"--index-url {INDEX_URL.format(tag=tag)}")
    return " ".join(parts)


def nvcc_vs_torch(snapshot: Snapshot) -> str | None:
    nvcc = _version(snapshot.cuda_toolkit.nvcc) if snapshot.cuda_toolkit else None
    runtime = torch_cuda(snapshot)
    if nvcc is None or runtime is None:
        return None
    if nvcc.major != runtime.major:
        return "major"
    return "minor" if nvcc.minor != runtime.minor else "same"


OPENCV_DISTS = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                "opencv-contrib-python-headless")


def opencv_installed(snapshot: Snapshot) -> list[str]:
    return [f"{name} {snapshot.packages[name]}" for name in OPENCV_DISTS
            if name in snapshot.packages]


def nccl_selected(spec: str, interfaces: tuple[str, ...]) -> list[str]:
    """The interfaces NCCL_SOCKET_IFNAME picks: comma-separated prefixes, '^' to exclude,
    '=' for exact names (NCCL user guide, Environment Variables)."""
    exclude = spec.startswith("^")
    body = spec[1:] if exclude else spec
    exact = body.startswith("=")
    body = body[1:] if exact else body
    names = [n.strip() for n in body.split(",") if n.strip()]

    def hit(iface: str) -> bool:
        return any(iface == n if exact else iface.startswith(n) for n in names)

    return [i for i in interfaces if hit(i) != exclude]


_NODE_COUNTS = ("NNODES", "SLURM_NNODES", "SLURM_JOB_NUM_NODES", "PET_NNODES")


def multi_node(env: Mapping[str, str]) -> bool:
    for name in _NODE_COUNTS:
        value = env.get(name, "").split(":")[-1]  # torchrun allows MIN:MAX
        if value.isdigit() and int(value) > 1:
            return True
    world, local = env.get("WORLD_SIZE", ""), env.get("LOCAL_WORLD_SIZE", "")
    return world.isdigit() and local.isdigit() and int(world) > int(local)
