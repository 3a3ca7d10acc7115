"""Cluster findings: drift entries and layer results, each with the nodes and the fix."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from vlmdoctor.cluster.drift import NOT_INSTALLED, UNSET, DriftEntry
from vlmdoctor.knowledge.drift_table import DriftTable
from vlmdoctor.report import Finding
from vlmdoctor.shell import arg, one_line, word

NCCL_ENV_DOC = "https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html"
DIST_DOC = "https://pytorch.org/docs/stable/distributed.html#common-environment-variables"
TORCHRUN_DOC = "https://pytorch.org/docs/stable/elastic/run.html"


def _nodes(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "no node"


def _fix(entry: DriftEntry) -> tuple[str, ...]:
    if entry.reference is None:
        return (f"# no majority for {entry.key}: choose one value and use it on every node",)
    section, _, name = entry.key.partition(".")
    on = f"# on {one_line(_nodes(entry.outliers))}:"
    ref = entry.reference
    if section == "packages":
        cmd = (f"pip uninstall -y {word(name)}" if ref == NOT_INSTALLED
               else f"pip install {arg(f'{name}=={ref}')}")
        return (on, cmd)
    if section == "env":
        return (on, f"unset {word(name)}" if ref == UNSET else f"export {word(name)}={word(ref)}")
    if section == "driver":
        return (f"{on} install NVIDIA driver {one_line(ref)}, or keep the job to nodes that have it",)
    if section == "gpus":
        return ("# keep the job to one GPU type: Slurm --constraint=FEATURE or "
                "--gres=gpu:TYPE:N; Kubernetes nodeSelector on nvidia.com/gpu.product",)
    if section == "torch":
        return (f"{on} install the torch build that the other nodes use (CUDA {one_line(ref)})",)
    return (f"{on} use {one_line(entry.key)} {one_line(ref)}, as the reference does",)


def drift_findings(entries: Sequence[DriftEntry], table: DriftTable) -> tuple[Finding, ...]:
    why = {k.path: k for k in table.keys}
    out: list[Finding] = []
    for entry in entries:
        key = why.get(entry.key) or next(
            (k for k in table.keys if k.path.endswith("*")
             and entry.key.startswith(k.path[:-1])), None)
        if entry.id == table.clock.id:
            text, refs = table.clock.why, table.clock.references
            title = f"Clocks differ across nodes by more than {table.clock.warn_seconds:g} s"
        else:
            text, refs = (key.why, key.references) if key else ("", ())
            title = _title(entry)
        values = "; ".join(f"{n}: {v}" for n, v in sorted(entry.values.items()))
        out.append(Finding(
            id=entry.id, severity=entry.severity, title=title,
            message=f"{text} Values: {values}.", fix=_fix(entry) if entry.id != table.clock.id
            else ("# run chrony or ntpd on every node (chronyc tracking shows the offset)",),
            references=refs, evidence={"key": entry.key, "reference": entry.reference,
                                       "basis": entry.basis, "outliers": list(entry.outliers),
                                       "values": dict(sorted(entry.values.items()))}))
    return tuple(out)


def _title(entry: DriftEntry) -> str:
    if entry.reference is None:
        groups: dict[str, list[str]] = {}
        for node, value in sorted(entry.values.items()):
            groups.setdefault(value, []).append(node)
        sides = " vs ".join(f"{v} on {_nodes(n)}" for v, n in sorted(groups.items()))
        return f"{entry.key} differs with no majority: {sides}"
    odd = sorted({entry.values[n] for n in entry.outliers if n in entry.values})
    basis = "the golden report" if entry.basis == "golden" else "the majority"
    return (f"{entry.key} is {', '.join(odd) or '(unknown)'} on {_nodes(entry.outliers)}, "
            f"not {entry.reference} as on {basis}")


def layer_findings(layers: Sequence[Mapping[str, Any]], hosts: Mapping[int, str],
                   launch: Mapping[str, Any], interfaces: Sequence[str] | None,
                   timed_out_layer: str | None) -> tuple[Finding, ...]:
    """One finding per failed layer, naming the ranks, hosts and the likely setting."""
    out: list[Finding] = []
    where = f"{launch.get('master_addr')}:{launch.get('master_port')}"
    ifaces = ", ".join(interfaces) if interfaces else "unknown"
    for layer in layers:
        status, name = layer.get("status"), layer.get("name")
        ranks = [int(r) for r in layer.get("failed_ranks") or [] if isinstance(r, int)]
        who = ", ".join(f"rank {r} ({hosts.get(r, 'host unknown')})" for r in ranks)
        detail = str(layer.get("detail") or "")
        if status == "running" and name == timed_out_layer:
            out.append(_timeout(str(name), where))
        elif status != "failed":
            continue
        elif name == "store" and layer.get("missing"):
            out.append(Finding(
                "cluster-rank-missing", "error", f"Ranks never arrived: {who}",
                f"These ranks did not write their snapshot to the rendezvous store at {where} "
                f"within the join timeout ({detail}). Their node is down, was not started, "
                "started late, or cannot reach MASTER_ADDR.",
                ("# check that the job started on every node: srun/torchrun logs of those ranks",
                 f"# from each missing node: nc -zv {where.replace(':', ' ')}"),
                (TORCHRUN_DOC,), {"missing_ranks": ranks}))
        elif name == "store":
            out.append(Finding(
                "cluster-rendezvous-unreachable", "error",
                f"This node cannot reach the rendezvous store at {where}",
                f"Connecting to the c10d store failed: {detail}. MASTER_ADDR must be an address "
                "of the node running rank 0 that every node can reach (not 127.0.0.1 on "
                "multi-node jobs), and MASTER_PORT must be free there and open between nodes.",
                ("# on rank 0's node: hostname -I   (use one of these as MASTER_ADDR)",
                 "export MASTER_PORT=29500   # or any free port; the same on every node"),
                (DIST_DOC,), {"detail": detail}))
        elif layer.get("silent_ranks"):
            silent = [int(r) for r in layer["silent_ranks"] if isinstance(r, int)]
            gone = ", ".join(f"rank {r} ({hosts.get(r, 'host unknown')})" for r in silent)
            out.append(Finding(
                f"cluster-{name}-failed", "error", f"The {name} layer failed: {gone} went silent",
                f"{gone} joined the rendezvous but never reported on the {name} layer: the "
                "process crashed or hung there (its own node report says which). The other "
                f"ranks then time out waiting for it: {detail}.",
                ("# read the node report and stderr of the silent ranks",),
                (DIST_DOC,), {"failed_ranks": ranks, "silent_ranks": silent, "detail": detail}))
        else:
            setting = "GLOO_SOCKET_IFNAME" if name == "gloo" else "NCCL_SOCKET_IFNAME"
            out.append(Finding(
                f"cluster-{name}-failed", "error", f"The {name} layer failed on {who or 'a rank'}",
                f"A {name} process group over the job's ranks failed: {detail}. The usual cause "
                f"is the network interface it picked: {setting} must name an interface that "
                f"exists on every node and routes between them (this host has: {ifaces}).",
                (f"export {setting}=<interface from 'ip -br addr' that carries the nodes' "
                 "addresses>", f"# NCCL_DEBUG=INFO shows the interface {name} chose"),
                (DIST_DOC if name == "gloo" else NCCL_ENV_DOC,), {"failed_ranks": ranks,
                                                                  "detail": detail}))
    return tuple(out)


def _timeout(layer: str, where: str) -> Finding:
    return Finding(
        "cluster-timeout", "error", f"The cluster check ran past its deadline in the {layer} layer",
        f"The {layer} layer did not finish before the deadline and was killed. A static "
        f"rendezvous to an unreachable address ({where}) and NCCL initialisation can block "
        "without honouring their own timeouts.",
        ("# raise --timeout if the nodes are slow to start; otherwise check MASTER_ADDR, the "
         "firewall and NCCL_SOCKET_IFNAME",), (DIST_DOC,), {"layer": layer})
