"""Where a transformers version sits in the index, and release sets written as pip specifiers.

The index lists every release from 4.30.0: finals, yanked finals (they install with an exact
pin, and model cards name them) and pre-releases. A version is read as:

- itself, when the index has it (a yanked release or a release candidate included);
- a pre-release or ``.dev`` build the index lacks: the newest indexed release of the same
  version at or below it, else that version's predecessor (the newest final below it);
- a final the index lacks: the newest indexed final below it;
- newer than the index's newest release: the newest release, flagged ``newer`` so that the
  assumption is said;
- ``+local`` parts are dropped; older than the first release, or unparsable: unknown (None).

Windows are sets of release positions. A fix never pins a yanked release or a pre-release.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Optional

from packaging.version import InvalidVersion, Version

from vlmdoctor.record import record

MAX_HOLES = 3  # at most this many '!=' clauses; beyond, the newest unbroken run is offered


@record
class Placement:
    pos: int          # the indexed release the checks read for this version
    version: str      # the version asked about
    read_as: str      # the indexed release at ``pos``
    newer: bool       # newer than the newest indexed release: read as that one


def place(releases: Sequence[Version], names: Sequence[str], version: str) -> Optional[Placement]:
    try:
        wanted = Version(Version(version).public)
    except InvalidVersion:
        return None
    if not releases or wanted < releases[0]:
        return None
    candidates = [i for i, r in enumerate(releases) if r <= wanted and (
        not r.is_prerelease or r.base_version == wanted.base_version)]
    if not candidates:
        return None
    pos = candidates[-1]
    return Placement(pos=pos, version=version, read_as=names[pos], newer=wanted > releases[-1])


def release_of(version: str) -> Optional[str]:
    """The final release a pre-release or ``.dev`` build leads to (``4.45.0.dev0`` ->
    ``4.45.0``); None for a final release or an unparsable version."""
    try:
        parsed = Version(Version(version).public)
    except InvalidVersion:
        return None
    return parsed.base_version if parsed.is_prerelease else None


def runs(positions: Collection[int], order: Sequence[int]) -> list[tuple[int, int]]:
    """Maximal runs of ``positions`` along ``order`` (the positions that count, ascending)."""
    spans: list[tuple[int, int]] = []
    previous_in = False
    for pos in order:
        if pos in positions:
            if previous_in:
                spans[-1] = (spans[-1][0], pos)
            else:
                spans.append((pos, pos))
        previous_in = pos in positions
    return spans


def set_spec(names: Sequence[str], recommendable: Sequence[int], finals: Sequence[int],
             positions: Collection[int]) -> Optional[str]:
    """A pip specifier that selects exactly the recommendable releases in ``positions``
    (``>=A,!=B,<C``); with more than MAX_HOLES holes, the newest unbroken run of them.

    A yanked release may bound the window (``>=4.57.0`` when 4.57.0 is the first to have a
    name): installers skip yanked releases unless pinned with ``==``, which this never
    writes. A window with no recommendable release in it is None."""
    offered = [p for p in recommendable if p in positions]
    if not offered:
        return None
    lo, hi = offered[0], offered[-1]
    holes = [p for p in recommendable if lo < p < hi and p not in positions]
    if len(holes) > MAX_HOLES:
        lo = runs(positions, recommendable)[-1][0]
        holes = []
    earlier = [p for p in finals if p < lo]
    while earlier and earlier[-1] in positions:  # yanked releases just below: the true start
        lo = earlier.pop()
    spec = f">={names[lo]}" + "".join(f",!={names[p]}" for p in holes)
    after = [p for p in finals if p > hi]
    if after:
        spec += f",<{names[after[0]]}"
    return spec
