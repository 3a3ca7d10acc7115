"""`vlmdoctor compare`: the cluster drift analysis, offline, over saved node reports.

What a maintainer does with "works on node A, fails on node B": each report is one node
(its label: the host recorded in its cluster section, else the file name).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from vlmdoctor.cluster.drift import DriftEntry, NodeView, analyse
from vlmdoctor.cluster.findings import drift_findings
from vlmdoctor.cluster.section import digest, node_view
from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_json_file
from vlmdoctor.knowledge.drift_table import DriftTable
from vlmdoctor.report import SCHEMA_VERSION, Finding, summarize
from vlmdoctor.snapshot import Snapshot

MAX_REPORT_BYTES = 256 << 20


def read_report(path: str) -> dict[str, Any]:
    try:
        data = read_json_file(path, path, MAX_REPORT_BYTES, "vlmdoctor report")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    if not isinstance(data, dict) or not isinstance(data.get("environment", data), dict):
        raise InputError(f"{path}: expected a vlmdoctor report or snapshot (a JSON object)")
    Snapshot.from_dict(data.get("environment", data), source=path)  # type-checks, naming the field
    return data


def report_files(paths: Sequence[str], directory: str | None) -> list[str]:
    files = list(paths)
    if directory is not None:
        if not os.path.isdir(directory):
            raise InputError(f"--dir {directory}: not a directory")
        files += sorted(str(p) for p in Path(directory).glob("*.json"))
    if len(files) < 2:
        raise InputError("compare needs at least two reports (files, or --dir with *.json)")
    return files


def label_for(path: str, report: Mapping[str, Any]) -> str:
    cluster = report.get("cluster")
    if isinstance(cluster, Mapping):
        rank = cluster.get("rank")
        for node in cluster.get("nodes") or []:
            if isinstance(node, Mapping) and rank in (node.get("ranks") or []):
                return str(node.get("node"))
    return Path(path).stem


@dataclass(frozen=True)
class Comparison:
    nodes: tuple[NodeView, ...]
    drift: tuple[DriftEntry, ...]
    findings: tuple[Finding, ...]
    golden: str | None
    fail_on: str

    def to_dict(self) -> dict[str, Any]:
        summary = summarize(self.findings, self.fail_on)
        return {
            "schema_version": SCHEMA_VERSION,
            "compare": {"golden": self.golden,
                        "nodes": [{"node": v.node, "local_verdict": v.local_verdict,
                                   "snapshot_digest": digest(v.environment)}
                                  for v in self.nodes],
                        "drift": [d.to_dict() for d in self.drift]},
            "findings": [f.to_dict() for f in self.findings],
            "summary": summary.to_dict(),
        }


def compare(paths: Sequence[str], table: DriftTable, golden: str | None = None,
            fail_on: str = "error") -> Comparison:
    views: list[NodeView] = []
    labels: dict[str, int] = {}
    for path in paths:
        report = read_report(path)
        label = label_for(path, report)
        labels[label] = labels.get(label, 0) + 1
        if labels[label] > 1:
            label = f"{label}#{labels[label]}"
        views.append(node_view(label, report))
    gold = node_view(f"golden:{Path(golden).stem}", read_report(golden)) if golden else None
    entries = analyse(views, table, gold)
    found = drift_findings(entries, table)
    return Comparison(tuple(sorted(views, key=lambda v: v.node)), entries,
                      tuple(sorted(found, key=lambda f: f.sort_key())), golden, fail_on)


def comparison_lines(result: Comparison) -> list[str]:
    summary = summarize(result.findings, result.fail_on)
    basis = f"golden {result.golden}" if result.golden else "the majority"
    lines = [f"vlmdoctor compare: {len(result.nodes)} nodes against {basis}",
             f"Verdict: {summary.verdict.upper()}  ({summary.errors} error(s), "
             f"{summary.warnings} warning(s))", ""]
    lines += [f"  node {v.node}: local {v.local_verdict or 'unknown'}" for v in result.nodes]
    for finding in result.findings:
        lines += ["", f"  [{finding.severity}] [{finding.id}] {finding.title}"]
        lines += [f"      {cmd}" if cmd.startswith("#") else f"      $ {cmd}"
                  for cmd in finding.fix]
    if not result.findings:
        lines += ["", "No drift between the nodes."]
    return lines
