"""The pip command that moves torch into a window of releases, keeping this install's build.

With a driver known and a CUDA build of torch installed, the existing torch fix machinery
(``derive.torch_fix``) picks the newest release in the window with a build that runs on this
driver and these GPUs, with its index URL. Otherwise (no driver facts, a CPU build, a
window the tables do not list) the window itself, on the index of the installed build.
"""

from __future__ import annotations

from collections.abc import Sequence

from vlmdoctor.evaluate.derive import INDEX_URL, torch_fix
from vlmdoctor.knowledge.tables import CudaTables
from vlmdoctor.snapshot import Snapshot

NO_RELEASE = ("# no indexed torch release has every name the code imports: the code must "
              "change (see the message)")


def window_fix(snapshot: Snapshot, tables: CudaTables, spec: str | None,
               releases: Sequence[str]) -> str:
    if spec is None or not releases:
        return NO_RELEASE
    torch = snapshot.torch
    local = (torch.version or "").partition("+")[2] if torch is not None else ""
    if torch is not None and torch.cuda:
        allowed = set(releases)
        fix = torch_fix(snapshot, tables, allow=allowed.__contains__)
        if fix is not None:
            return fix
    command = f"pip install 'torch{spec}'"
    if local and local.replace(".", "").isalnum():
        command += f" --index-url {INDEX_URL.format(tag=local)}"
    return command
