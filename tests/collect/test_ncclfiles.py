"""NCCL_TOPO_FILE / NCCL_GRAPH_FILE are read as text: GPU count and sm values from the
<gpu> tags; a missing path or anything but a regular file counts as missing."""

from __future__ import annotations

import os
from pathlib import Path

from vlmdoctor.collect.ncclfiles import read_nccl_files
from vlmdoctor.snapshot import NcclFile, Snapshot

TOPO = """<system version="1">
  <cpu numaid="0" affinity="0000ffff" arch="x86_64" vendor="GenuineIntel">
    <pci busid="0000:07:00.0" class="0x030200" link_speed="16 GT/s" link_width="16">
      <gpu dev="0" sm="80" rank="0" gdr="1"><nvlink target="0000:c0:00.0" count="12"/></gpu>
    </pci>
    <pci busid="0000:0f:00.0" class="0x030200"><gpu dev="1" sm="80" rank="1" gdr="1"/></pci>
  </cpu>
</system>
"""
GRAPH = """<graphs version="1">
  <graph id="0" pattern="4" crossnic="0" nchannels="2" speedintra="40" speedinter="40">
    <channel><net dev="0"/><gpu dev="0"/><gpu dev="1"/><gpu dev="2"/><net dev="0"/></channel>
    <channel><net dev="1"/><gpu dev="2"/><gpu dev="1"/><gpu dev="0"/><net dev="1"/></channel>
  </graph>
</graphs>
"""


def test_topology_and_graph_files_are_described(tmp_path: Path) -> None:
    (tmp_path / "topo.xml").write_text(TOPO)
    (tmp_path / "graph.xml").write_text(GRAPH)
    found = read_nccl_files({"NCCL_TOPO_FILE": str(tmp_path / "topo.xml"),
                             "NCCL_GRAPH_FILE": str(tmp_path / "graph.xml")})
    assert found == {"NCCL_TOPO_FILE": NcclFile(True, 2, ("80",)),
                     "NCCL_GRAPH_FILE": NcclFile(True, 3, ())}


def test_missing_directory_and_fifo_count_as_missing(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would block: it must not be opened
    for path in (tmp_path / "nope.xml", tmp_path, fifo):
        assert read_nccl_files({"NCCL_TOPO_FILE": str(path)}) == {
            "NCCL_TOPO_FILE": NcclFile(exists=False)}
    assert read_nccl_files({}) == {}


def test_the_section_round_trips_and_is_unknown_in_older_snapshots() -> None:
    snap = Snapshot(nccl_files={"NCCL_TOPO_FILE": NcclFile(True, 8, ("90",))})
    again = Snapshot.from_dict(snap.to_dict())
    assert again.nccl_files == snap.nccl_files
    assert "nccl_files" in Snapshot.from_dict({"schema_version": 1}).unknown
