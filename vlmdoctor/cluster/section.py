"""The report's additive ``cluster`` section, and the node view of a saved report."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from vlmdoctor.cluster.drift import DriftEntry, NodeView
from vlmdoctor.redact import is_secret_name

PER_PROCESS = re.compile(r"^(RANK|LOCAL_RANK|GROUP_RANK|ROLE_RANK|NODE_RANK|LOCAL_WORLD_SIZE"
                         r"|SLURM_(PROCID|LOCALID|NODEID|TASK_PID|STEP_\w+|LAUNCH_NODE_IPADDR)"
                         r"|TORCHELASTIC_\w+|MASTER_PORT)$")


def digest(environment: Mapping[str, Any]) -> str:
    """A short fingerprint of a node's snapshot: equal on identically set-up nodes, so
    what differs per process (collection time, rank variables, free memory) is left out."""
    kept = {k: v for k, v in environment.items() if k != "collected_at"}
    if isinstance(kept.get("env"), Mapping):
        kept["env"] = {k: v for k, v in kept["env"].items() if not PER_PROCESS.match(str(k))}
    if isinstance(kept.get("gpus"), list):
        kept["gpus"] = [{k: v for k, v in g.items() if k != "memory_free_mib"}
                        if isinstance(g, Mapping) else g for g in kept["gpus"]]
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def safe_environment(environment: Mapping[str, Any]) -> dict[str, Any]:
    """A saved environment with any secret-named variable dropped (reports may be edited)."""
    out = dict(environment)
    env = out.get("env")
    if isinstance(env, Mapping):
        out["env"] = {k: v for k, v in env.items() if not is_secret_name(str(k))}
    return out


def node_view(label: str, report: Mapping[str, Any], ranks: tuple[int, ...] = (),
              clock_offset: float | None = None) -> NodeView:
    """A node as drift analysis sees it, from a report (or a bare snapshot)."""
    env = report.get("environment") if isinstance(report.get("environment"), Mapping) else report
    summary = report.get("summary")
    verdict = summary.get("verdict") if isinstance(summary, Mapping) else None
    return NodeView(label, safe_environment(env if isinstance(env, Mapping) else {}), ranks,
                    verdict if isinstance(verdict, str) else None, clock_offset)


@dataclass(frozen=True)
class NodeRow:
    node: str
    host: str
    ranks: tuple[int, ...]
    snapshot_digest: str
    clock_offset_s: float | None
    local_verdict: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "host": self.host, "ranks": list(self.ranks),
                "snapshot_digest": self.snapshot_digest, "clock_offset_s": self.clock_offset_s,
                "local_verdict": self.local_verdict}


@dataclass(frozen=True)
class ClusterSection:
    launch: Mapping[str, Any]
    rank: int
    local_verdict: str
    nodes: tuple[NodeRow, ...] = ()
    missing_ranks: tuple[int, ...] = ()
    drift: tuple[DriftEntry, ...] = ()
    layers: tuple[Mapping[str, Any], ...] = ()
    suspect_nodes: tuple[str, ...] = ()
    timings: Mapping[str, float | None] = field(default_factory=dict)
    golden: str | None = None
    bandwidth: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        world = int(self.launch.get("world_size", 0))
        store = next((la for la in self.layers if la.get("name") == "store"), None)
        return {
            "launcher": self.launch.get("launcher"),
            "world_size": world,
            "rank": self.rank,
            "role": "coordinator" if self.rank == 0 else "node",
            "nodes_expected": world,
            "nodes_seen": len(self.nodes),
            "rendezvous": {"address": f"{self.launch.get('master_addr')}:"
                                      f"{self.launch.get('master_port')}",
                           "status": store.get("status") if store else "not-run",
                           "seconds": store.get("seconds") if store else None},
            "local_verdict": self.local_verdict,
            "nodes": [n.to_dict() for n in self.nodes],
            "missing_ranks": list(self.missing_ranks),
            "drift": [d.to_dict() for d in self.drift],
            "layers": [dict(la) for la in self.layers],
            "suspect_nodes": list(self.suspect_nodes),
            "golden": self.golden,
            "nccl_bandwidth": dict(self.bandwidth) if self.bandwidth else None,
            "timings": dict(self.timings),
        }
