"""Text lines for the cluster section (appended to the node's report)."""

from __future__ import annotations

from typing import Any, Mapping


def cluster_lines(section: Mapping[str, Any]) -> list[str]:
    seen, expected = section.get("nodes_seen"), section.get("nodes_expected")
    rdzv = section.get("rendezvous") or {}
    lines = [f"Cluster: {section.get('launcher')} rank {section.get('rank')} of "
             f"{section.get('world_size')}; nodes seen {seen}/{expected}; rendezvous "
             f"{rdzv.get('address')} {rdzv.get('status')}",
             f"  this node's own check: {str(section.get('local_verdict')).upper()}"]
    for layer in section.get("layers") or []:
        secs = layer.get("seconds")
        took = f" in {secs:.2f} s" if isinstance(secs, (int, float)) else ""
        who = layer.get("failed_hosts") or []
        lines.append(f"  layer {layer.get('name'):<6} {layer.get('status')}{took}"
                     + (f" (failing: {', '.join(map(str, who))})" if who else ""))
    bw = section.get("nccl_bandwidth") or {}
    if bw.get("busbw_gbps") is not None:
        lines.append(f"  nccl all-reduce bus bandwidth {bw['busbw_gbps']} GB/s "
                     f"({bw.get('bytes')} bytes)")
    for node in section.get("nodes") or []:
        off = node.get("clock_offset_s")
        clock = f", clock {off:+.3f} s" if isinstance(off, (int, float)) else ""
        lines.append(f"  node {node.get('node')}: ranks {node.get('ranks')}, local "
                     f"{node.get('local_verdict')}, snapshot {node.get('snapshot_digest')}{clock}")
    if section.get("missing_ranks"):
        lines.append(f"  missing ranks: {section['missing_ranks']}")
    if section.get("suspect_nodes"):
        lines.append(f"  suspect nodes: {', '.join(section['suspect_nodes'])}")
    return lines
