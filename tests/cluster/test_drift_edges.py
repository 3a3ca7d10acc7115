"""Drift at its edges (issue 19 §6): a value only the golden node has, a GPU the driver lists
but cannot use, and a clock that is behind rather than ahead."""

from __future__ import annotations

from tests.cluster.test_drift import TABLE, env, nodes
from vlmdoctor.cluster.drift import NodeView, analyse, clock_entry
from vlmdoctor.cluster.findings import drift_findings


def test_a_variable_set_only_on_the_golden_node_is_drift_on_every_node() -> None:
    views = nodes(env(env={}), env(env={}))
    golden = NodeView("golden", env(env={"NCCL_IB_DISABLE": "1"}))
    (entry,) = analyse(views, TABLE, golden)
    assert (entry.key, entry.reference, entry.basis, entry.outliers) == (
        "env.NCCL_IB_DISABLE", "1", "golden", ("n0", "n1"))
    (finding,) = drift_findings((entry,), TABLE)
    assert finding.fix == ("# on n0, n1:", "export NCCL_IB_DISABLE=1")


def test_nodes_agreeing_on_another_version_than_the_golden_all_drift() -> None:
    views = nodes(env(packages__transformers="4.44.0"), env(packages__transformers="4.44.0"))
    golden = NodeView("golden", env(packages__transformers="4.45.2"))
    (entry,) = analyse(views, TABLE, golden)
    assert (entry.key, entry.severity, entry.outliers) == ("packages.transformers", "error",
                                                           ("n0", "n1"))


def test_an_unusable_gpu_is_not_counted_as_a_gpu_of_the_node() -> None:
    base = env()
    broken = env(gpus=[*base["gpus"], {"index": len(base["gpus"]), "name": "NVIDIA A100",
                                       "error": "GPU is lost"}])
    assert [e.key for e in analyse(nodes(env(), env(), broken), TABLE)
            if e.key.startswith("gpus.")] == []


def test_a_clock_behind_by_more_than_the_limit_is_skew() -> None:
    views = [NodeView("a", env(), clock_offset=0.0), NodeView("b", env(), clock_offset=-9.0)]
    clock = clock_entry(views, TABLE.clock)
    assert clock is not None and (clock.id, clock.outliers) == ("cluster-clock-skew", ("b",))
    assert clock.values["b"] == "-9.000 s"
