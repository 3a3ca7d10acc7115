"""Text lines and findings for ``plan --engine vllm``."""

from __future__ import annotations

from vlmdoctor.plan.constants import GIB
from vlmdoctor.plan.vllm import VllmOptions, VllmPlan
from vlmdoctor.report import Finding

REFERENCES = ("docs/planner.md",
              "https://docs.vllm.ai/en/latest/configuration/conserving_memory/",
              "https://github.com/vllm-project/vllm/blob/main/vllm/v1/core/kv_cache_utils.py")


def vllm_text_lines(name: str, options: VllmOptions, plan: VllmPlan) -> list[str]:
    verdict = {True: "starts", False: "does NOT start", None: "not sized"}[plan.starts]
    lines = [f"vLLM plan: {name} with --tensor-parallel-size {options.tensor_parallel_size}"
             + (f" --max-model-len {plan.max_model_len}" if plan.max_model_len else "")
             + f": {verdict}"]
    labels = (("budget_bytes", "budget (gpu_memory_utilization x total)"),
              ("weights_bytes", "weights (this rank's shard)"),
              ("activation_peak_bytes", "profiling-run peak"),
              ("cuda_graph_bytes", "CUDA graphs"), ("non_torch_bytes", "CUDA context"),
              ("kv_available_bytes", "left for the KV cache"))
    for key, label in labels:
        if key in plan.per_rank:
            lines.append(f"  {label:<42}{plan.per_rank[key] / GIB:>8.2f} GiB")
    if "kv_bytes_per_token" in plan.per_rank:
        lines.append(f"  KV cache per token per rank: {plan.per_rank['kv_bytes_per_token']:,} B")
    if plan.largest_max_model_len is not None:
        lines.append(f"  largest --max-model-len that fits: {plan.largest_max_model_len:,}")
    if plan.message:
        lines.append(f"vLLM would stop with: ValueError: {plan.message}")
    if plan.fixes:
        lines.append("Flags that make it start:")
        lines.extend(f"  {fix}" for fix in plan.fixes)
    lines.append("Notes:")
    lines.extend(f"  - {note}" for note in plan.notes)
    return lines


def vllm_findings(name: str, plan: VllmPlan) -> tuple[Finding, ...]:
    if plan.starts is not False:
        return ()
    return (Finding(
        id="plan-vllm-does-not-start", severity="error",
        title=f"vllm serve {name} would not start with these flags",
        message=f"vLLM would stop with: {plan.message}",
        fix=plan.fixes, references=REFERENCES,
        evidence={"largest_max_model_len": plan.largest_max_model_len or 0,
                  **plan.per_rank}),)
