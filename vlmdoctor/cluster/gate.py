"""`cluster check`: check this node, meet the other nodes, judge the whole job.

collect + local check (this process, torch-free) -> payload -> child (store exchange,
gloo, nccl; hard deadline) -> drift over every node's snapshot -> one node report with
an additive ``cluster`` section. Collaborators are parameters so tests run it without
a launcher or a child.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from vlmdoctor.cluster.child import faults_for
from vlmdoctor.cluster.drift import NodeView, analyse, clock_entry, unusable_gpus
from vlmdoctor.cluster.findings import drift_findings, layer_findings
from vlmdoctor.cluster.launch import Launch
from vlmdoctor.cluster.payload import payload_problem, peer_host
from vlmdoctor.cluster.runner import GRACE_SECONDS, Budget, ChildResult, run_child, spec_for
from vlmdoctor.cluster.section import ClusterSection, NodeRow, digest, node_view
from vlmdoctor.knowledge.drift_table import DriftTable
from vlmdoctor.record import replace
from vlmdoctor.report import Finding, Report, summarize

ChildRunner = Callable[[Mapping[str, Any], float], ChildResult]


@dataclass(frozen=True)
class ClusterOptions:
    backend: str = "auto"
    timeout: float = 60.0
    fail_on: str = "error"
    golden: Mapping[str, Any] | None = None  # a saved report to compare every node with
    golden_name: str | None = None
    model_packages: frozenset[str] = frozenset()


def judge(local: Report, launch: Launch, options: ClusterOptions, table: DriftTable,
          environ: Mapping[str, str] = os.environ,
          child: ChildRunner | None = None, hostname: str | None = None) -> Report:
    t0 = time.monotonic()
    host = hostname or faults_for(launch.rank, environ).get("host") or socket.gethostname()
    payload = {"host": host, "rank": launch.rank, "report": _faulted(local.to_dict(), launch,
                                                                      environ)}
    budget = Budget(options.timeout)
    spec = spec_for(launch, payload, options.backend, budget,
                    _int(environ.get("LOCAL_RANK")))
    runner = child or (lambda s, d: run_child(s, d))
    result = runner(spec, options.timeout + GRACE_SECONDS)
    data = result.data
    layers = [dict(la) for la in data.get("layers", []) if isinstance(la, Mapping)]
    raw_nodes = data.get("nodes")
    received: Mapping[str, Any] = raw_nodes if isinstance(raw_nodes, Mapping) else {}
    missing = tuple(sorted(int(r) for r in data.get("missing_ranks", []) if isinstance(r, int)))
    if not layers:  # the child never said anything: it could not start or died at once
        layers = [{"name": "store", "status": "running" if result.timed_out else "failed",
                   "seconds": result.elapsed, "detail": _died(result), "failed_ranks":
                   [launch.rank]}]
    offsets = (data.get("gloo") or {}).get("clock_offsets", {}) if isinstance(
        data.get("gloo"), Mapping) else {}
    views, rows, hosts, malformed = _nodes(received, offsets)
    golden = node_view(options.golden_name or "golden", options.golden) if options.golden \
        else None
    entries = list(analyse(views, table, golden, options.model_packages))
    clock = clock_entry(views, table.clock)
    entries += [clock] if clock else []
    for layer in layers:
        layer["failed_hosts"] = [hosts.get(r, "unknown") for r in layer.get("failed_ranks", [])
                                 if isinstance(r, int)]
        if layer.get("name") == "store" and missing:
            layer["missing"] = True
    running = next((la.get("name") for la in layers if la.get("status") == "running"), None)
    found = [*drift_findings(entries, table),
             *layer_findings(layers, hosts, launch.to_dict(),
                             local.environment.network_interfaces,
                             str(running) if result.timed_out and running else None),
             *_others_failed(views, host), *_gpus_unusable(views),
             *_malformed(malformed, hosts), *_crashed(result)]
    labels = {row.ranks[0]: row.node for row in rows}
    suspects = tuple(sorted({*_suspects(views, entries, layers, labels),
                             *(hosts[r] for r in malformed)}))
    section = ClusterSection(
        launch=launch.to_dict(), rank=launch.rank, local_verdict=local.summary.verdict,
        nodes=rows, missing_ranks=missing, drift=tuple(entries), layers=tuple(layers),
        suspect_nodes=suspects, golden=options.golden_name,
        bandwidth=data.get("nccl") if isinstance(data.get("nccl"), Mapping) else None,
        timings={"deadline_s": options.timeout, "child_s": result.elapsed,
                 "torch_import_s": _num(data.get("import_s")),
                 "connect_s": _num(data.get("connect_s")),
                 "exchange_s": _num(data.get("exchange_s")),
                 "collectives_s": _collectives(layers),
                 "total_s": round(time.monotonic() - t0, 3)})
    findings = tuple(sorted((*local.findings, *found), key=lambda f: f.sort_key()))
    probe = local.probe.to_dict().get("status") if local.probe is not None else None
    return replace(local, findings=findings,  # Report is a record
                   summary=summarize(findings, options.fail_on, probe), cluster=section)


def _nodes(received: Mapping[str, Any], offsets: Mapping[str, Any]
           ) -> tuple[list[NodeView], tuple[NodeRow, ...], dict[int, str], dict[int, str]]:
    by_rank, malformed, hosts = {}, {}, {}
    for key, payload in received.items():
        if not (str(key).isdigit() and len(str(key)) <= 9):
            continue
        rank = int(key)
        hosts[rank] = peer_host(payload, rank)
        problem = payload_problem(payload)
        if problem:
            malformed[rank] = problem
        else:
            by_rank[rank] = payload
    counts: dict[str, int] = {}
    for h in hosts.values():
        counts[h] = counts.get(h, 0) + 1
    views, rows = [], []
    for rank in sorted(by_rank):
        host = hosts[rank]
        label = host if counts[host] == 1 else f"{host}#{rank}"
        report = by_rank[rank].get("report")
        report = report if isinstance(report, Mapping) else {}
        offset = offsets.get(str(rank))
        view = node_view(label, report, (rank,), float(offset) if isinstance(
            offset, (int, float)) else None)
        views.append(view)
        rows.append(NodeRow(label, host, (rank,), digest(view.environment), view.clock_offset,
                            view.local_verdict))
    return views, tuple(rows), hosts, malformed


def _malformed(malformed: Mapping[int, str], hosts: Mapping[int, str]) -> list[Finding]:
    """One finding per peer whose payload could not be read: it names that peer."""
    return [Finding("cluster-node-payload-malformed", "error",
                    f"Rank {rank} ({hosts[rank]}) sent a payload this node cannot read",
                    f"The payload rank {rank} ({hosts[rank]}) sent was refused: {why}. That "
                    "node's vlmdoctor or its report is broken (or not vlmdoctor at all); its "
                    "environment was left out of the comparison.",
                    (f"# on {hosts[rank]}: vlmdoctor check --no-probe   # its own report",),
                    (), {"rank": rank, "host": hosts[rank]})
            for rank, why in sorted(malformed.items())]


def _others_failed(views: list[NodeView], me: str) -> list[Finding]:
    bad = sorted(v.node for v in views if v.local_verdict == "fail")
    if not bad:
        return []
    return [Finding("cluster-node-check-failed", "error",
                    f"The local check failed on {', '.join(bad)}",
                    "Each node ran the same check as 'vlmdoctor check'; these nodes have errors "
                    "of their own (their node reports list them). The job would fail there.",
                    ("# read the node reports of those nodes: vlmdoctor cluster check -o "
                     "'report-{host}.json'",), (), {"nodes": bad})]


def _gpus_unusable(views: list[NodeView]) -> list[Finding]:
    """Nodes whose NVML enumerates a GPU it cannot use, whatever their own verdict said."""
    bad = {v.node: unusable_gpus(v.environment) for v in views}
    bad = {node: gpus for node, gpus in bad.items() if gpus}
    if not bad:
        return []
    where = "; ".join(f"{node}: {', '.join(gpus)}" for node, gpus in sorted(bad.items()))
    return [Finding("cluster-node-gpu-unusable", "error",
                    f"Nodes with GPUs that cannot be used: {where}",
                    "NVML on these nodes enumerates GPUs it cannot read or that report memory "
                    "faults (their node reports give the reason per GPU). Ranks placed on "
                    "them fail or hang; drain the nodes or reset the GPUs.",
                    ("nvidia-smi -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER   # on each node named",),
                    ("https://docs.nvidia.com/deploy/xid-errors/index.html",),
                    {"nodes": sorted(bad)})]


def _suspects(views: list[NodeView], entries: list[Any], layers: list[dict[str, Any]],
              labels: Mapping[int, str]) -> tuple[str, ...]:
    found = {v.node for v in views if v.local_verdict == "fail" or unusable_gpus(v.environment)}
    for entry in entries:
        if entry.severity == "error" and entry.reference is not None:
            found.update(entry.outliers)
    for layer in layers:  # a rank that went silent is the suspect, not those waiting on it
        if layer.get("status") == "failed":
            blamed = layer.get("silent_ranks") or layer.get("failed_ranks", [])
            found.update(labels.get(r, f"rank{r}") for r in blamed if isinstance(r, int))
    return tuple(sorted(found))


def _faulted(report: dict[str, Any], launch: Launch, environ: Mapping[str, str]
             ) -> dict[str, Any]:
    """Test hook: ``RANK:pkg.NAME=VERSION`` in VLMDOCTOR_CLUSTER_FAULTS changes what this
    rank reports for one package (simulates a node with a different install)."""
    packages = report.get("environment", {}).get("packages")
    for key, version in faults_for(launch.rank, environ).items():
        if key.startswith("pkg.") and isinstance(packages, dict):
            packages[key[4:]] = version
    return report


def _crashed(result: ChildResult) -> list[Finding]:
    if result.timed_out or result.returncode in (0, None) or not result.data.get("layers"):
        return []
    return [Finding("cluster-check-crashed", "error",
                    "The distributed check crashed on this node",
                    f"{_died(result)}. A crash while torch.distributed starts is usually a broken "
                    "torch install or a native library that does not match this node.",
                    ("python -c 'import torch, torch.distributed as d; print(torch.__version__, "
                     "d.is_available())'",), (), {"returncode": result.returncode})]


def _died(result: ChildResult) -> str:
    tail = result.stderr_tail.strip().splitlines()
    last = tail[-1] if tail else "no output"
    if result.timed_out:
        return f"the distributed check did not finish in time ({last})"
    return f"the distributed check exited with status {result.returncode}: {last}"


def _collectives(layers: list[dict[str, Any]]) -> float | None:
    times = [la["seconds"] for la in layers if la.get("name") in ("gloo", "nccl")
             and isinstance(la.get("seconds"), (int, float))]
    return round(sum(times), 3) if times else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0
