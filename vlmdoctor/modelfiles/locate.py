"""Where ``--model`` points: a local model directory, or a repo id in the local HF cache.

Never the network. The cache is where ``huggingface_hub`` keeps it: ``HF_HUB_CACHE``
(or the older ``HUGGINGFACE_HUB_CACHE``), else ``HF_HOME/hub``, else
``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``
(https://huggingface.co/docs/huggingface_hub/guides/manage-cache). A repo lives in
``models--{org}--{name}/snapshots/{revision}/``; ``refs/main`` names the revision that
``from_pretrained`` would load, so that one is read. A snapshot without ``config.json``
(only a tokenizer or processor cached) does not count as the model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

from vlmdoctor.collect.host import home_relative
from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_bounded
from vlmdoctor.record import record

KINDS = ("catalogue", "directory", "hf-cache")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@record
class ModelSource:
    kind: str                     # catalogue | directory | hf-cache
    path: str | None = None       # as shown in reports (home as ~)
    revision: str | None = None   # the HF cache snapshot that was read
    local: Path | None = None     # the real directory (never saved in a report)
    repo_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "revision": self.revision}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "target.source") -> ModelSource:
        if not isinstance(data, Mapping) or data.get("kind") not in KINDS:
            raise InputError(f"{source}: expected an object with kind one of {', '.join(KINDS)}")
        for key in ("path", "revision"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise InputError(f"{source}.{key}: expected a string")
        return cls(kind=data["kind"], path=data.get("path"), revision=data.get("revision"))


MAX_NAME_BYTES = 255  # NAME_MAX: no file name, so no model directory, is longer


def hub_cache(environ: Mapping[str, str]) -> Path:
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if environ.get(name):
            return Path(environ[name]).expanduser()
    if environ.get("HF_HOME"):
        return Path(environ["HF_HOME"]).expanduser() / "hub"
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "huggingface" / "hub"
    return Path("~/.cache/huggingface/hub").expanduser()


def locate(name: str, environ: Mapping[str, str] | None = None) -> ModelSource | None:
    """The directory or cached snapshot ``name`` names, or None when it names neither."""
    env = os.environ if environ is None else environ
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
           for part in name.split("/")) or "\0" in name:
        raise InputError(f"{name[:80]}...: not a model name or directory (a path part is "
                         f"longer than {MAX_NAME_BYTES} bytes, or holds a NUL)")
    path = Path(name).expanduser()
    if _looks_like_path(name) or path.is_dir():
        if not path.is_dir():
            return None if not _looks_like_path(name) else _missing_dir(name)
        real = path.resolve()
        return ModelSource("directory", path=home_relative(str(real)), local=real)
    if _REPO_ID.match(name):
        return _cached(name, hub_cache(env))
    return None


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or name in (".", "..")


def _missing_dir(name: str) -> ModelSource:
    raise InputError(f"{name}: no such model directory")


def _cached(repo_id: str, cache: Path) -> ModelSource | None:
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    revision = _ref(repo / "refs" / "main")
    if revision is None or not (snapshots / revision).is_dir():
        found = sorted((p for p in snapshots.iterdir() if p.is_dir()),
                       key=lambda p: (p.stat().st_mtime, p.name))
        if not found:
            return None
        revision = found[-1].name  # no refs/main: the newest snapshot
    real = snapshots / revision
    if not (real / "config.json").is_file():
        return None  # only some files cached (a tokenizer, a processor): not a model to read
    return ModelSource("hf-cache", path=home_relative(str(real)), revision=revision,
                       local=real, repo_id=repo_id)


def _ref(path: Path) -> str | None:
    """A commit hash from ``refs/NAME``; a FIFO, device or huge file there is refused."""
    try:
        text = read_bounded(path, str(path), 256, "Hugging Face cache ref").decode(
            "utf-8", "replace").strip()
    except FileNotFoundError:
        return None
    return text if re.fullmatch(r"[0-9a-f]{6,64}", text) else None
