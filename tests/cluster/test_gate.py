"""The cluster judgement with a fake distributed child: layers and drift become findings."""

from __future__ import annotations

import json
from typing import Any, Mapping

from tests.cli.test_cli import run
from tests.conftest import ROOT, environment, make_knowledge
from tests.schema.test_schema import REPORT, errors
from vlmdoctor.cluster.gate import ClusterOptions, judge
from vlmdoctor.cluster.launch import HOW_TO_LAUNCH, Launch
from vlmdoctor.cluster.runner import ChildResult
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.knowledge.drift_table import load_drift_table

TABLE = load_drift_table(ROOT / "rules")
LAUNCH = Launch("env", 0, 3, "10.1.0.1", 29500)


def _local(env: Mapping[str, Any]) -> Any:
    from vlmdoctor.collect import Collected
    from vlmdoctor.snapshot import Snapshot

    snap = Snapshot.from_dict(env)
    return run_check(CheckRequest(), make_knowledge(), collect=lambda: Collected(snap, ()),
                     clock=lambda: "2026-12-01T00:00:00+00:00")


def _payload(host: str, rank: int, env: Mapping[str, Any], verdict: str = "pass") -> dict:
    return {"host": host, "rank": rank, "report": {"environment": env,
                                                   "summary": {"verdict": verdict}}}


def fake(data: Mapping[str, Any], **kw: Any) -> Any:
    def runner(spec: Mapping[str, Any], deadline: float) -> ChildResult:
        assert spec["payload"]["rank"] == 0 and deadline > spec["join_timeout"]
        return ChildResult(data=data, **kw)
    return runner


def test_healthy_cluster_passes_with_one_row_per_node() -> None:
    env = environment("a100-cu124")
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []},
                       {"name": "gloo", "status": "ok", "seconds": 0.2, "failed_ranks": []}],
            "nodes": {str(r): _payload(f"node{r}", r, env) for r in range(3)},
            "gloo": {"clock_offsets": {"0": 0.0, "1": 0.01, "2": -0.02}}, "missing_ranks": []}
    report = judge(_local(env), LAUNCH, ClusterOptions(), TABLE, environ={},
                   child=fake(data), hostname="node0")
    section = report.to_dict()["cluster"]
    assert errors(REPORT, report.to_dict()) == []
    assert [f.id for f in report.findings if f.id.startswith("cluster-")] == []
    assert (section["nodes_seen"], section["role"], section["suspect_nodes"],
            section["local_verdict"]) == (3, "coordinator", [], "pass")
    assert len({n["snapshot_digest"] for n in section["nodes"]}) == 1


def test_missing_rank_drift_and_clock_are_findings() -> None:
    env = environment("a100-cu124")
    odd = environment("a100-cu124", {"packages": {"transformers": "4.44.0"}})
    data = {"layers": [{"name": "store", "status": "failed", "seconds": 9.0,
                        "detail": "ranks [3] did not arrive within 27 s", "failed_ranks": [3]}],
            "nodes": {"0": _payload("a", 0, env), "1": _payload("b", 1, env),
                      "2": _payload("c", 2, odd, "fail")}, "missing_ranks": [3]}
    launch = Launch("env", 0, 4, "10.1.0.1", 29500)
    report = judge(_local(env), launch, ClusterOptions(), TABLE, environ={}, child=fake(data),
                   hostname="a")
    ids = sorted(f.id for f in report.findings if f.id.startswith("cluster-"))
    assert ids == ["cluster-drift-package", "cluster-node-check-failed", "cluster-rank-missing"]
    missing = next(f for f in report.findings if f.id == "cluster-rank-missing")
    assert missing.title == "Ranks never arrived: rank 3 (host unknown)"
    section = report.to_dict()["cluster"]
    assert errors(REPORT, report.to_dict()) == []
    assert section["missing_ranks"] == [3] and section["suspect_nodes"] == ["c", "rank3"]
    assert report.summary.verdict == "fail" and section["local_verdict"] == "pass"


def test_a_killed_child_names_the_layer_that_was_running() -> None:
    env = environment("a100-cu124")
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []},
                       {"name": "nccl", "status": "running", "seconds": None,
                        "failed_ranks": []}],
            "nodes": {"0": _payload("a", 0, env)}, "missing_ranks": []}
    report = judge(_local(env), Launch("env", 0, 1, "h", 1), ClusterOptions(timeout=10), TABLE,
                   environ={}, child=fake(data, timed_out=True), hostname="a")
    (timeout,) = [f for f in report.findings if f.id == "cluster-timeout"]
    assert timeout.title == "The cluster check ran past its deadline in the nccl layer"


def test_a_child_that_never_spoke_is_a_rendezvous_finding() -> None:
    env = environment("a100-cu124")
    report = judge(_local(env), LAUNCH, ClusterOptions(), TABLE, environ={},
                   child=fake({}, returncode=1, stderr_tail="OSError: boom\n"), hostname="a")
    (found,) = [f for f in report.findings if f.id.startswith("cluster-")]
    assert found.id == "cluster-rendezvous-unreachable"
    assert "the distributed check exited with status 1: OSError: boom" in found.message


def test_gloo_failure_names_ranks_hosts_and_interfaces() -> None:
    env = environment("a100-cu124")
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []},
                       {"name": "gloo", "status": "failed", "seconds": 2.0, "failed_ranks": [1],
                        "detail": "rank 1: RuntimeError: Unable to find address for: nope0"}],
            "nodes": {"0": _payload("a", 0, env), "1": _payload("b", 1, env)},
            "missing_ranks": []}
    report = judge(_local(env), Launch("env", 0, 2, "h", 1), ClusterOptions(), TABLE,
                   environ={}, child=fake(data), hostname="a")
    (gloo,) = [f for f in report.findings if f.id == "cluster-gloo-failed"]
    assert gloo.title == "The gloo layer failed on rank 1 (b)"
    assert "GLOO_SOCKET_IFNAME must name an interface" in gloo.message
    assert report.to_dict()["cluster"]["layers"][1]["failed_hosts"] == ["b"]


def test_cluster_check_outside_a_launcher_exits_2(monkeypatch: Any) -> None:
    for name in ("RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run("cluster", "check")
    assert (code, out) == (2, "")
    assert err == f"vlmdoctor: error: {HOW_TO_LAUNCH}\n"


def test_compare_cli_majority_and_exit(tmp_path: Any) -> None:
    for name, version in (("a", "4.45.2"), ("b", "4.45.2"), ("c", "4.44.0")):
        env = environment("a100-cu124", {"packages": {"transformers": version}})
        (tmp_path / f"{name}.json").write_text(json.dumps({"environment": env}))
    code, out, err = run("compare", "--dir", str(tmp_path), "--format", "json")
    assert code == 1, err
    result = json.loads(out)
    assert [f["id"] for f in result["findings"]] == ["cluster-drift-package"]
    assert result["compare"]["drift"][0]["outliers"] == ["c"]
    code, out, _ = run("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert code == 0 and "No drift between the nodes." in out


def test_compare_with_golden_and_bad_input(tmp_path: Any) -> None:
    good = environment("a100-cu124")
    (tmp_path / "a.json").write_text(json.dumps(good))
    (tmp_path / "gold.json").write_text(json.dumps(
        environment("a100-cu124", {"packages": {"torch": "2.5.0+cu124"}})))
    code, out, _ = run("compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"),
                       "--golden", str(tmp_path / "gold.json"), "--format", "json")
    assert code == 1 and json.loads(out)["findings"][0]["id"] == "cluster-drift-torch"
    (tmp_path / "bad.json").write_text("{nope")
    code, out, err = run("compare", str(tmp_path / "a.json"), str(tmp_path / "bad.json"))
    assert code == 2 and err.startswith(f"vlmdoctor: error: {tmp_path / 'bad.json'}: malformed")
    code, _, err = run("compare", str(tmp_path / "a.json"))
    assert (code, err) == (2, "vlmdoctor: error: compare needs at least two reports "
                              "(files, or --dir with *.json)\n")


def test_a_node_with_a_lost_gpu_fails_the_cluster_gate() -> None:
    """Whatever verdict the node sent, a GPU its NVML cannot use fails the job and names it;
    the drift count compares usable GPUs."""
    env = environment("a100-cu124")
    gpu = env["gpus"][0]
    lost = environment("a100-cu124", {"gpus": [gpu, {"index": 1, "name": None,
                                                     "error": "NVML error: GPU is lost"}]})
    old = environment("a100-cu124", {"unavailable": {"gpus[0]": "NVML error: GPU is lost"}})
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []}],
            "nodes": {"0": _payload("a", 0, env), "1": _payload("b", 1, lost),
                      "2": _payload("c", 2, old)}, "missing_ranks": []}
    report = judge(_local(env), LAUNCH, ClusterOptions(), TABLE, environ={}, child=fake(data),
                   hostname="a")
    found = [f for f in report.findings if f.id == "cluster-node-gpu-unusable"]
    assert [(f.severity, f.title) for f in found] == [
        ("error", "Nodes with GPUs that cannot be used: b: GPU 1; c: GPU 0")]
    section = report.to_dict()["cluster"]
    assert section["suspect_nodes"] == ["b", "c"] and report.summary.verdict == "fail"
    assert "cluster-drift-gpu" not in {f.id for f in report.findings}  # usable: 1 each
    assert errors(REPORT, report.to_dict()) == []


def test_the_local_node_with_a_lost_gpu_fails_itself() -> None:
    env = environment("a100-cu124", {"gpus": [
        {"index": 0, "name": "NVIDIA A100-SXM4-80GB", "error": "NVML error: Unknown Error"}]})
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []}],
            "nodes": {"0": _payload("a", 0, env, "fail")}, "missing_ranks": []}
    local = _local(env)
    assert [f.title for f in local.findings if f.id == "gpu-unusable"] == [
        "GPU 0 (NVIDIA A100-SXM4-80GB) cannot be used: NVML error: Unknown Error"]
    report = judge(local, Launch("env", 0, 1, "10.1.0.1", 29500), ClusterOptions(), TABLE,
                   environ={}, child=fake(data), hostname="a")
    assert report.summary.verdict == "fail" and report.to_dict()["cluster"]["local_verdict"] == "fail"


def test_a_malformed_peer_payload_names_that_peer() -> None:
    env = environment("a100-cu124")
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []}],
            "nodes": {"0": _payload("a", 0, env),
                      "1": {"error": "unreadable payload: ValueError: Exceeds the limit"},
                      "2": _payload("c", 2, {**env, "gpus": "eight"}),
                      "3": _payload("d\ud800", 3, env),
                      "4": ["not", "an", "object"],
                      "5": _payload("e", 5, {**env, "packages": {"torch": "1" * 5000}})},
            "missing_ranks": []}
    report = judge(_local(env), Launch("env", 0, 6, "10.1.0.1", 29500), ClusterOptions(),
                   TABLE, environ={}, child=fake(data), hostname="a")
    found = [f for f in report.findings if f.id == "cluster-node-payload-malformed"]
    assert [f.title for f in found] == [
        "Rank 1 (rank1) sent a payload this node cannot read",
        "Rank 2 (c) sent a payload this node cannot read",
        "Rank 3 (rank3) sent a payload this node cannot read",
        "Rank 4 (rank4) sent a payload this node cannot read",
        "Rank 5 (e) sent a payload this node cannot read"]
    assert "unreadable payload: ValueError" in found[0].message
    assert "report: environment.gpus: expected a list of objects" in found[1].message
    assert "host: contains a NUL character or a lone surrogate" in found[2].message
    assert "environment.packages.torch: expected a version of at most 256" in found[4].message
    section = report.to_dict()["cluster"]
    assert section["local_verdict"] == "pass" and "a" not in section["suspect_nodes"]
    assert section["suspect_nodes"] == ["c", "e", "rank1", "rank3", "rank4"]
    assert [n["node"] for n in section["nodes"]] == ["a"]
    assert report.summary.verdict == "fail"
    json.dumps(report.to_dict()).encode("utf-8")  # printable: no lone surrogate left
