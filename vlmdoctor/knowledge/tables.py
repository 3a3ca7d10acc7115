"""CUDA-stack tables (rules/data/cuda.yaml): driver minimums, wheel arch lists, releases."""

from __future__ import annotations

from typing import Any, Mapping

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from vlmdoctor.knowledge import schema as s
from vlmdoctor.record import record

_TABLES = s.Record({
    "schema_version": s.req(s.OneOf((1,))),
    "drivers": s.req(s.Record({
        "minor_compat_floor": s.req(s.MapOf(s.VERSION)),
        "toolkit": s.req(s.MapOf(s.VERSION)),
        "sources": s.req(s.ListOf(s.STR, min_items=1)),
    })),
    "torch_archs": s.req(s.ListOf(s.Record({
        "tag": s.req(s.STR), "torch": s.req(s.SPEC),
        "archs": s.req(s.ListOf(s.VERSION, min_items=1)), "ptx": s.opt(s.ListOf(s.VERSION), ()),
    }))),
    "torch_archs_sources": s.req(s.ListOf(s.STR, min_items=1)),
    "torch_releases": s.req(s.ListOf(s.Record({
        "torch": s.req(s.VERSION), "torchvision": s.req(s.VERSION),
        "tags": s.req(s.ListOf(s.STR, min_items=1)),
    }))),
    "torch_releases_sources": s.req(s.ListOf(s.STR, min_items=1)),
})


@record
class ArchBuild:
    tag: str
    torch: str
    archs: tuple[str, ...]
    ptx: tuple[str, ...]

    def runs_on(self, cc: str) -> bool:
        return self.has_sass_for(cc) or self.needs_ptx_jit(cc)

    def has_sass_for(self, cc: str) -> bool:
        """A cubin of the same major and a minor at or below the GPU's (binary compatible)."""
        gpu = Version(cc)
        return any(Version(a).major == gpu.major and Version(a).minor <= gpu.minor
                   for a in self.archs)

    def needs_ptx_jit(self, cc: str) -> bool:
        """The GPU runs this build only by JIT-compiling its PTX (no usable cubin)."""
        gpu = Version(cc)
        return not self.has_sass_for(cc) and any(Version(p) <= gpu for p in self.ptx)

    def sm_list(self) -> list[str]:
        return [sm_name(a) for a in self.archs] + [f"{sm_name(p)}+PTX" for p in self.ptx]


@record
class TorchRelease:
    torch: str
    torchvision: str
    tags: tuple[str, ...]


@record
class CudaTables:
    minor_compat_floor: Mapping[int, str]
    toolkit_driver: Mapping[str, str]
    driver_sources: tuple[str, ...]
    archs: tuple[ArchBuild, ...]
    arch_sources: tuple[str, ...]
    releases: tuple[TorchRelease, ...]
    release_sources: tuple[str, ...]

    def arch_build(self, torch_version: str, tag: str) -> ArchBuild | None:
        public = Version(Version(torch_version).public).base_version
        for build in self.archs:
            if build.tag == tag and SpecifierSet(build.torch).contains(public, prereleases=True):
                return build
        return None

    def toolkit_driver_for(self, cuda: str) -> str | None:
        """The bundled driver for this CUDA x.y, or for the nearest release below it."""
        wanted = Version(cuda)
        known = sorted((Version(k), v) for k, v in self.toolkit_driver.items())
        best = [v for k, v in known if k <= wanted and k.major == wanted.major]
        return best[-1] if best else None


def sm_name(cc: str) -> str:
    v = Version(cc)
    return f"sm_{v.major}{v.minor}"


def tag_cuda(tag: str) -> Version | None:
    digits = tag[2:] if tag.startswith("cu") else ""
    if len(digits) < 3 or not digits.isdigit():
        return None
    return Version(f"{int(digits[:-1])}.{int(digits[-1])}")


def cuda_tag(cuda: str) -> str:
    v = Version(cuda)
    return f"cu{v.major}{v.minor}"


def parse_tables(raw: Any) -> CudaTables:
    data = _TABLES.check(raw, "")
    drivers = data["drivers"]
    return CudaTables(
        minor_compat_floor={int(k): v for k, v in drivers["minor_compat_floor"].items()},
        toolkit_driver=dict(drivers["toolkit"]),
        driver_sources=drivers["sources"],
        archs=tuple(ArchBuild(a["tag"], a["torch"], a["archs"], a["ptx"])
                    for a in data["torch_archs"]),
        arch_sources=data["torch_archs_sources"],
        releases=tuple(TorchRelease(r["torch"], r["torchvision"], r["tags"])
                       for r in data["torch_releases"]),
        release_sources=data["torch_releases_sources"],
    )
