#!/usr/bin/env python3
"""A small mutation check: apply one deliberate bug at a time to a copy of the repository,
run the tests that should notice it, and report the mutants that survive.

    python benchmarks/mutants.py              # every mutant
    python benchmarks/mutants.py NAME ...     # only these
    python benchmarks/mutants.py --list
    python benchmarks/mutants.py --confirm    # survivors again against the whole suite

Each mutant replaces one exact snippet (which must occur exactly once, so a refactor that
moves the code makes the mutant fail loudly as 'stale' instead of silently passing) and
names the tests to run. The working tree is never touched: the copy lives in a temporary
directory. Exit 1 when a mutant survives or is stale.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Mutant(NamedTuple):
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


VLLM = ("tests/plan/test_stack_and_vllm.py", "tests/plan/test_vllm_rules.py")
BUDGETS = "tests/plan/test_budgets_and_notes.py"
FRONTIER = ("tests/plan/test_consumer_setups.py", "tests/plan/test_findings.py",
            "tests/modelfiles/test_layouts.py", BUDGETS)
DEVICEMAP = ("tests/plan/test_devicemap.py", "tests/plan/test_devicemap_oracle.py",
             "tests/plan/test_stack_and_vllm.py")
PLAN = ("tests/plan",)
MEMBERS = ("tests/modelcode/test_members.py", "tests/modelcode/test_members_build.py")
ENGINES = ("tests/engines",)  # test_edges.py among them
DRIFT = ("tests/cluster/test_drift.py", "tests/cluster/test_drift_edges.py")
REQUIREMENTS = ("tests/collect/test_requirements.py", "tests/rules")
JSONFILE = ("tests/hostile/test_bounded_inputs.py", "tests/hostile/test_json_limits.py")
GPUHEALTH = ("tests/collect/test_nvml_isolated.py", "tests/cluster/test_gate.py", "tests/rules")

MUTANTS = (
    # The eight a previous mutation run left alive (issue 11), then guards for polish work.
    Mutant("timed-out-probe-passes", "vlmdoctor/report.py",
           'PROBE_FAILED = ("failed", "timeout")', 'PROBE_FAILED = ("failed",)',
           ("tests/cli/test_polish.py",)),
    Mutant("probe-ignores-family", "vlmdoctor/stages.py",
           "family=card.family if card else None,", "family=None,",
           ("tests/test_regressions.py",)),
    Mutant("plan-ignores-max-pixels", "vlmdoctor/stages.py",
           "max_pixels=int(pixels) if pixels.isdigit() else None,", "max_pixels=None,",
           ("tests/test_regressions.py",)),
    Mutant("probe-kill-path-broken", "vlmdoctor/procgroup.py",
           "            os.killpg(proc.pid, sig)\n", "            pass\n",
           ("tests/test_regressions.py", "tests/probe/test_runner.py")),
    Mutant("raw-pynvml-errors-escape", "vlmdoctor/collect/nvml.py",
           "            raise NvmlFailure(_reason(exc), code if isinstance(code, int) else None) from None\n",
           "            raise\n",
           ("tests/collect",)),
    Mutant("markdown-cells-unescaped", "vlmdoctor/render/safe.py",
           'return printable(text).replace("|", "\\\\|")', "return printable(text)",
           ("tests/test_regressions.py", "tests/render")),
    Mutant("internvl-rotary-pin-removed", "rules/models/internvl.yaml",
           "      - language_model.model.rotary_emb\n", "",
           ("tests/test_regressions.py", "tests/plan")),
    Mutant("probe-safetensors-size-off-10pct", "vlmdoctor/probe/generate.py",
           "{size / 1e6:.1f} MB safetensors", "{size * 1.1 / 1e6:.1f} MB safetensors",
           ("tests/probe/test_probe_cpu.py",)),
    Mutant("fail-on-never-fails", "vlmdoctor/report.py",
           'verdict, reason = "pass", "--fail-on never', 'verdict, reason = "fail", "--fail-on never',
           ("tests/cli/test_polish.py",)),
    Mutant("any-version-spec-shown", "vlmdoctor/knowledge/cards.py",
           'if p.strip() and not _ANY_VERSION.match(p)', "if p.strip()",
           ("tests/cli/test_polish.py",)),
    Mutant("all-references-in-text", "vlmdoctor/render/text.py",
           "MAX_REFERENCES = 2", "MAX_REFERENCES = 9",
           ("tests/cli/test_polish.py",)),
    Mutant("nvml-gpu-names-rejected", "vlmdoctor/plan/gpus.py",
           '_NOISE = frozenset({"NVIDIA", "TESLA", "GEFORCE", "SXM"',
           '_NOISE = frozenset({"GEFORCE", "SXM"',
           ("tests/plan/test_gpus_property.py", "tests/cli/test_polish.py")),
    Mutant("record-eq-ignores-fields", "vlmdoctor/record.py",
           "return _values(self) == _values(other)", "return True",
           ("tests/test_record.py",)),
    Mutant("schema-verdict-any-string", "vlmdoctor/schemas/report.json",
           'or a failed probe.",\n          "enum": ["pass", "fail"]',
           'or a failed probe.",\n          "type": "string"',
           ("tests/schema",)),
    # Issue 19: the survivor classes of the independent check, and this round's modules.
    Mutant("redact-drops-pw-word", "vlmdoctor/redact.py",
           'SECRET_WORDS = frozenset({"PAT", "PW", ', 'SECRET_WORDS = frozenset({"PAT", ',
           ("tests/hostile/test_redaction.py", "tests/hostile/test_redaction_final.py")),
    Mutant("redact-final-misses-json-escapes", "vlmdoctor/render/final.py",
           "md_cell(base), json.dumps(base)[1:-1],", "md_cell(base),",
           ("tests/hostile/test_redaction_final.py",)),
    Mutant("redact-keeps-token-user", "vlmdoctor/redact.py",
           ' or (start < at and text[max(0, start - 3):start] == "://")', "",
           ("tests/hostile/test_redaction_final.py",)),
    Mutant("clip-cuts-before-redacting", "vlmdoctor/redact.py",
           "text = (redact or Redactor(os.environ))(text)", "text = text",
           ("tests/hostile/test_redaction_final.py",)),
    Mutant("fix-values-unquoted", "vlmdoctor/shell.py",
           "        return one_line(value)\n    return word(value)",
           "        return one_line(value)\n    return value",
           ("tests/hostile/test_inert_fixes.py",)),
    Mutant("fix-single-quotes-unescaped", "vlmdoctor/shell.py",
           'return one_line(value).replace("\'", "\'\\"\'\\"\'")', "return one_line(value)",
           ("tests/hostile/test_inert_fixes.py",)),
    Mutant("markers-use-this-machine", "vlmdoctor/evaluate/requirements.py",
           'env["platform_machine"] = host.arch', "pass",
           ("tests/collect/test_markers.py", "tests/collect/test_requirements.py")),
    Mutant("bnb-nocublaslt-bound-off-by-one", "vlmdoctor/evaluate/bitsandbytes.py",
           'Version(g.compute_capability) < Version("7.5")',
           'Version(g.compute_capability) <= Version("7.5")',
           ("tests/rules",)),
    Mutant("cluster-tie-called-majority", "vlmdoctor/cluster/drift.py",
           "counts[0][1] == counts[1][1]", "counts[0][1] < counts[1][1]",
           ("tests/cluster/test_drift.py",)),
    Mutant("exit-zero-read-as-signal", "vlmdoctor/exitstatus.py",
           "if returncode is None or returncode >= 0:", "if returncode is None or returncode > 0:",
           ("tests/collect/test_nvml_isolated.py", "tests/probe/test_runner.py")),
    Mutant("rule-severity-lowered", "rules/checks/cuda.yaml",
           "  - id: cuda-driver-too-old\n    severity: error",
           "  - id: cuda-driver-too-old\n    severity: warning",
           ("tests/rules",)),
    Mutant("failure-pattern-alternative-deleted", "rules/failures.yaml",
           '      - "undefined symbol[^\\\\n]{0,200}flash_attn"\n', "",
           ("tests/knowledge",)),
    Mutant("engine-names-last-release-as-first", "vlmdoctor/evaluate/facts/engines.py",
           "first = rel.releases[min(later)]", "first = rel.releases[max(later)]",
           ("tests/engines",)),
    Mutant("engine-recommends-yanked", "vlmdoctor/evaluate/facts/engines.py",
           "              if rel.releases[p] not in rel.yanked]", "              ]",
           ("tests/engines",)),
    Mutant("ecosystem-counts-guarded-imports", "vlmdoctor/collect/ecosystem.py",
           "for node in tree.body:  # module level", "for node in ast.walk(tree):  # module level",
           ("tests/collect/test_ecosystem.py",)),
    Mutant("members-blame-own-attributes", "vlmdoctor/modelcode/membercheck.py",
           "if member in own or member in now", "if member in now",
           ("tests/modelcode/test_members.py",)),
    Mutant("members-override-kwargs-ignored", "vlmdoctor/modelcode/membercheck.py",
           'if not base or "**" in sig.split(","):', "if not base:",
           ("tests/modelcode/test_members.py",)),
    Mutant("members-old-parameters-blamed", "vlmdoctor/modelcode/membercheck.py",
           "if since and since[0] > 0:", "if since:",
           ("tests/modelcode/test_members.py",)),
    Mutant("awq-packed-counted-once", "vlmdoctor/modelfiles/packing.py",
           "out[t.name] = t.count * (INT32_BITS[t.dtype] // bits)", "out[t.name] = t.count",
           ("tests/modelfiles",)),
    Mutant("nf4-one-weight-per-byte", "vlmdoctor/modelfiles/packing.py",
           "out[t.name] = t.count * 2", "out[t.name] = t.count",
           ("tests/modelfiles",)),
    Mutant("fp8-two-bytes", "vlmdoctor/modelfiles/safetensors.py",
           '"F8_E4M3": 1,', '"F8_E4M3": 2,', ("tests/modelfiles",)),
    Mutant("config-defaults-overwrite-stated", "vlmdoctor/modelfiles/defaults.py",
           "if values.get(key) is None and value is not None", "if value is not None",
           ("tests/modelfiles",)),
    Mutant("kv-cache-without-batch", "vlmdoctor/plan/memory.py",
           "kv = 2 * a.num_kv_heads * hd * b * sequence * batch",
           "kv = 2 * a.num_kv_heads * hd * b * sequence", ("tests/plan/test_kv_batch.py",)),
    Mutant("frontier-one-below", "vlmdoctor/plan/frontier.py",
           "        low, high = (mid, high) if fits(mid) else (low, mid - 1)\n    return low",
           "        low, high = (mid, high) if fits(mid) else (low, mid - 1)\n    return low - 1",
           ("tests/plan",)),
    Mutant("vllm-block-size", "vlmdoctor/plan/vllm.py",
           "BLOCK_SIZE = 16", "BLOCK_SIZE = 32", VLLM),
    Mutant("vllm-utilization-default", "vlmdoctor/plan/vllm.py",
           "DEFAULT_UTILIZATION = 0.9", "DEFAULT_UTILIZATION = 0.95", VLLM),
    Mutant("fixplan-merges-conflicting-pins", "vlmdoctor/fixplan/merge.py",
           "if possible(spec, [found] if found else []):", "if True:", ("tests/fixplan",)),
    Mutant("fixplan-torch-index-always-primary", "vlmdoctor/fixplan/merge.py",
           "extra = any(e for _, u, e, _ in indexes if u == url) or any(p not in served for p in packages)",
           "extra = False", ("tests/fixplan",)),
    Mutant("card-bound-moved", "rules/models/minigemini.yaml",
           '\n        spec: "==4.36.2"', '\n        spec: "==4.36.1"', ("tests/cards",)),
    Mutant("python-isolated-mode", "vlmdoctor/collect/foreign.py",
           '[python, "-E", "-c", SNIPPET]', '[python, "-I", "-c", SNIPPET]',
           ("tests/collect/test_foreign_python.py",)),
    # Issue 19 section 6: this round's modules that had no mutant yet.
    Mutant("jsonfile-one-byte-over-limit", "vlmdoctor/jsonfile.py",
           "    if len(raw) > max_bytes:\n", "    if len(raw) > max_bytes + 1:\n",
           JSONFILE),
    Mutant("jsonfile-depth-limit-doubled", "vlmdoctor/jsonfile.py",
           "        if depth > MAX_DEPTH:\n", "        if depth > 2 * MAX_DEPTH:\n",
           JSONFILE),
    Mutant("jsonfile-minus-sign-counted-as-digit", "vlmdoctor/jsonfile.py",
           'if len(text.lstrip("-")) > MAX_INT_DIGITS:', "if len(text) > MAX_INT_DIGITS:",
           JSONFILE),
    Mutant("jsonfile-devices-read-as-files", "vlmdoctor/jsonfile.py",
           "        if not stat.S_ISREG(mode):\n", "        if stat.S_ISDIR(mode):\n",
           JSONFILE),
    Mutant("breaks-removal-ignored", "vlmdoctor/fixplan/breaks.py",
           "elif req is None and item.package in removed:", "elif False:",
           ("tests/fixplan",)),
    Mutant("breaks-blames-already-met-pin", "vlmdoctor/fixplan/breaks.py",
           "if installed is not None and SpecifierSet(req.spec).contains(installed, prereleases=True):",
           "if False:",
           ("tests/fixplan",)),
    Mutant("torch-position-guesses-newer-minor", "vlmdoctor/torchindex/index.py",
           " and wanted.release[:2] != parsed[-1].release[:2])", ")",
           ("tests/torchindex", "tests/modelcode/test_torch_imports.py",
            "tests/cli/test_explain_index.py")),
    Mutant("span-and-later-missed", "vlmdoctor/torchindex/spans.py",
           "if last == len(releases) - 1:", "if last == len(releases):",
           ("tests/torchindex", "tests/modelcode/test_torch_imports.py",
            "tests/cli/test_explain_index.py")),
    Mutant("span-removed-in-last-present", "vlmdoctor/torchindex/spans.py",
           'f"removed in {package} {releases[last + 1]}', 'f"removed in {package} {releases[last]}',
           ("tests/torchindex", "tests/modelcode/test_torch_imports.py",
            "tests/cli/test_explain_index.py")),
    Mutant("consent-module-loader-unguarded", "vlmdoctor/probe/consent.py",
           '_LOADERS = ("get_class_in_module", "get_class_from_dynamic_module")',
           '_LOADERS = ("get_class_from_dynamic_module",)',
           ("tests/probe/test_consent.py",)),
    Mutant("gpuhealth-old-report-lost-gpus-ignored", "vlmdoctor/evaluate/gpuhealth.py",
           "if match and int(match.group(1)) not in found:", "if False:",
           ("tests/collect/test_nvml_isolated.py", "tests/cluster/test_gate.py", "tests/rules")),
    Mutant("gpu-unusable-only-warns", "rules/checks/cuda.yaml",
           "  - id: gpu-unusable\n    severity: error", "  - id: gpu-unusable\n    severity: warning",
           ("tests/collect/test_nvml_isolated.py", "tests/cluster/test_gate.py", "tests/rules")),
    Mutant("checkimports-era-starts-one-late", "vlmdoctor/modelcode/checkimports.py",
           "if version >= Version(e)), ERAS[0])", "if version > Version(e)), ERAS[0])",
           ("tests/modelcode/test_checkimports.py", "tests/modelcode/test_check_model_code.py")),
    Mutant("checkimports-451-skips-any-availability", "vlmdoctor/modelcode/checkimports.py",
           'return any(c.startswith("is_flash_attn") for c in calls)',
           'return any(c.startswith("is_") for c in calls)',
           ("tests/modelcode/test_checkimports.py", "tests/modelcode/test_check_model_code.py")),
    Mutant("checkimports-try-counted", "vlmdoctor/modelcode/checkimports.py",
           "        if isinstance(node, ast.Try):\n            continue\n",
           "        if isinstance(node, ast.Try):\n            pass\n",
           ("tests/modelcode/test_checkimports.py", "tests/modelcode/test_check_model_code.py")),
    # Issue 19 section 6, third round: the modules that landed last round.
    # plan/vllm.py: what `plan --engine vllm` says vLLM will do
    Mutant("vllm-kv-heads-not-sharded", "vlmdoctor/plan/vllm.py",
           "max(1, a.num_kv_heads // tp)", "a.num_kv_heads", VLLM),
    Mutant("vllm-budget-from-largest-gpu", "vlmdoctor/plan/vllm.py",
           "gpu = min(request.gpus[:tp], key=", "gpu = max(request.gpus[:tp], key=", VLLM),
    Mutant("vllm-utilization-fix-rounds-up", "vlmdoctor/plan/vllm.py",
           "util = round(free / gpu.memory_total_bytes - 0.005, 2)",
           "util = round(free / gpu.memory_total_bytes, 2)", VLLM),
    Mutant("vllm-needed-blocks-rounded-down", "vlmdoctor/plan/vllm.py",
           "needed = -(-length // BLOCK_SIZE) * block", "needed = (length // BLOCK_SIZE) * block",
           VLLM),
    Mutant("vllm-eager-keeps-graph-reserve", "vlmdoctor/plan/vllm.py",
           "graphs = 0 if options.enforce_eager else CUDA_GRAPH_BYTES",
           "graphs = CUDA_GRAPH_BYTES", VLLM),
    Mutant("vllm-tp-fix-offered-on-all-gpus", "vlmdoctor/plan/vllm.py",
           "if options.tensor_parallel_size < len(request.gpus):",
           "if options.tensor_parallel_size <= len(request.gpus):", VLLM),
    Mutant("vllm-utilization-one-rejected", "vlmdoctor/plan/vllm.py",
           "if not 0 < options.gpu_memory_utilization <= 1:",
           "if not 0 < options.gpu_memory_utilization < 1:", (*VLLM, "tests/plan/test_cli.py")),
    Mutant("vllm-sampler-not-profiled", "vlmdoctor/plan/vllm.py",
           "peak = max(lm_peak + sampler, vision_peak)", "peak = max(lm_peak, vision_peak)", VLLM),
    Mutant("vllm-largest-above-model-context", "vlmdoctor/plan/vllm.py",
           "        largest = min(largest, a.max_context)\n", "        pass\n", VLLM),
    Mutant("vllm-tp-divisor-skips-one", "vlmdoctor/plan/vllm.py",
           "for t in range(tp - 1, 0, -1)", "for t in range(tp - 1, 1, -1)", VLLM),
    # plan/frontier.py, devicemap.py, stack.py, notes.py, tokens.py
    Mutant("frontier-vllm-len-without-visual-tokens", "vlmdoctor/plan/frontier.py",
           'f"vllm serve ... --max-model-len {whole}"', 'f"vllm serve ... --max-model-len {best}"',
           FRONTIER),
    Mutant("frontier-context-searched-when-fixed", "vlmdoctor/plan/frontier.py",
           "    if request.context_fixed:\n        return None\n", "", FRONTIER),
    Mutant("frontier-pixels-not-kept-at-top", "vlmdoctor/plan/frontier.py",
           "pixels = None if best is None else (current if best == top else best * per)\n"
           "    detail = (\"no pixel",
           "pixels = None if best is None else best * per\n    detail = (\"no pixel", FRONTIER),
    Mutant("frontier-context-floor-ignores-new-tokens", "vlmdoctor/plan/frontier.py",
           "low = request.new_tokens + 1", "low = 1", FRONTIER),
    Mutant("xcomposer-gpu0-starts-empty", "vlmdoctor/plan/devicemap.py",
           "XCOMPOSER_GPU0_START = 3", "XCOMPOSER_GPU0_START = 0", DEVICEMAP),
    Mutant("tied-head-sent-to-last-gpu", "vlmdoctor/plan/devicemap.py",
           'device_map[name] = 0 if tied and role(name) == "head" else last',
           "device_map[name] = last", DEVICEMAP),
    Mutant("internvl-last-layer-not-on-gpu0", "vlmdoctor/plan/devicemap.py",
           "out = [*every_gpu(out[:-1], len(capacities), held=(0,)), 0]",
           "out = every_gpu(out, len(capacities))", DEVICEMAP),
    Mutant("devicemap-capacities-ignored", "vlmdoctor/plan/devicemap.py",
           "return [max(c, 0) / top for c in capacities]", "return [1.0 for c in capacities]",
           DEVICEMAP),
    Mutant("frontier-pixel-floor-one-token", "vlmdoctor/plan/frontier.py",
           "floor = max((images.min_pixels or per) // per, 1)", "floor = 1", FRONTIER),
    Mutant("stack-plans-for-newest-allowed", "vlmdoctor/plan/stack.py",
           "return min(found) if found else None", "return max(found) if found else None",
           ("tests/plan/test_stack_and_vllm.py", "tests/plan/test_findings.py", BUDGETS)),
    Mutant("stack-sdpa-torch-bound-inclusive", "vlmdoctor/plan/stack.py",
           "torch_version < SDPA_TORCH", "torch_version <= SDPA_TORCH",
           ("tests/plan/test_stack_and_vllm.py", BUDGETS)),
    Mutant("bf16-note-on-ampere", "vlmdoctor/plan/notes.py",
           'if dtype == "bf16" and cc is not None and cc < MIN_CC_BF16:',
           'if dtype == "bf16" and cc is not None and cc <= MIN_CC_BF16:', (BUDGETS,)),
    Mutant("internvl-thumbnail-on-one-tile", "vlmdoctor/plan/tokens.py",
           '(1 if tiles > 1 else 0) if kind == "internvl-tiles"',
           '(1 if tiles >= 1 else 0) if kind == "internvl-tiles"', PLAN),
    Mutant("video-odd-frame-dropped", "vlmdoctor/plan/tokens.py",
           "pairs = -(-frames // FRAME_FACTOR)", "pairs = frames // FRAME_FACTOR", PLAN),
    # the fix plan: merging, reading fix lines, rendering
    Mutant("fixplan-install-before-uninstall", "vlmdoctor/fixplan/build.py",
           'if s.kind not in ("environment", "pip-uninstall")), len(steps))',
           'if s.kind not in ("environment",)), len(steps))', ("tests/fixplan",)),
    Mutant("fixplan-reinstalled-counted-removed", "vlmdoctor/fixplan/merge.py",
           "removed=frozenset(uninstalled - set(wants)))", "removed=frozenset(uninstalled))",
           ("tests/fixplan",)),
    Mutant("fixcmd-unknown-option-merged", "vlmdoctor/fixplan/commands.py",
           '        if token.startswith("-"):\n            return Command(PIP_OTHER, text)\n',
           '        if token.startswith("-"):\n            continue\n', ("tests/fixplan",)),
    Mutant("fixcmd-wheel-file-merged", "vlmdoctor/fixplan/commands.py",
           ' and not token.endswith((".whl", ".zip", ".gz"))', "", ("tests/fixplan",)),
    Mutant("fixcmd-mixed-chain-split", "vlmdoctor/fixplan/commands.py",
           "if any(_pip_args(p) is None for p in parts if p):",
           "if all(_pip_args(p) is None for p in parts if p):", ("tests/fixplan",)),
    Mutant("fixcmd-venv-not-first", "vlmdoctor/fixplan/commands.py",
           'first[0].startswith("python") and first[1:3] == ["-m", "venv"])',
           'first[0].startswith("python") and first[1:3] == ["-m", "virtualenv"])',
           ("tests/fixplan",)),
    Mutant("fixplan-keeps-weaker-bound", "vlmdoctor/fixplan/versions.py",
           "stronger = old is None or (version > old if item.operator in keep_max",
           "stronger = old is None or (version < old if item.operator in keep_max",
           ("tests/fixplan",)),
    Mutant("render-fixplan-note-as-command", "vlmdoctor/render/fixplan.py",
           'return f"# {text}" if step.get("kind") == "note" else text', "return text",
           ("tests/fixplan", "tests/render")),
    Mutant("render-fixplan-steps-from-zero", "vlmdoctor/render/fixplan.py",
           'enumerate(plan.get("steps") or [], 1)', 'enumerate(plan.get("steps") or [])',
           ("tests/fixplan", "tests/render")),
    Mutant("render-fixplan-md-drops-breaks", "vlmdoctor/render/fixplan.py",
           '        out += ["", f"- **Breaks:** {printable(str(b.get(\'why\', \'\')))}"]\n',
           "        pass\n", ("tests/fixplan", "tests/render")),
    Mutant("render-fixplan-resolve-only-hidden", "vlmdoctor/render/fixplan.py",
           'plan.get("conflicts") or plan.get("resolve"))', 'plan.get("conflicts"))',
           ("tests/fixplan", "tests/render")),
    Mutant("render-resolver-error-one-line", "vlmdoctor/render/fixplan.py",
           'if status == "solvable":', 'if status != "error":',
           ("tests/fixplan", "tests/render")),
    Mutant("fixplan-index-check-oldest-match", "vlmdoctor/fixplan/indexcheck.py",
           "chosen = matching[-1]  # what pip would pick", "chosen = matching[0]",
           ("tests/fixplan",)),
    Mutant("alternatives-dry-run-reinstalls-removed", "vlmdoctor/fixplan/alternatives.py",
           """for b in mine
                                  if b.change != "removed"))""", "for b in mine))",
           ("tests/fixplan",)),
    Mutant("alternatives-venv-oldest-python", "vlmdoctor/fixplan/alternatives.py",
           'return next((f"python{v}" for v in PYTHONS if', 'return next((f"python{v}" for v in PYTHONS[::-1] if',
           ("tests/fixplan",)),
    Mutant("render-fixplan-index-problems-hidden", "vlmdoctor/render/fixplan.py",
           """        lines.append((f"  ! {printable(str(problem.get('why', '')))}", "bold yellow"))\n""",
           "        pass\n", ("tests/fixplan", "tests/render")),
    # tfmembers: the members index and its extractor
    Mutant("tfmembers-self-attributes-missed", "vlmdoctor/tfmembers/extract.py",
           "                    members.setdefault(sub.attr, ATTRIBUTE)\n",
           "                    pass\n", MEMBERS),
    Mutant("tfmembers-annotated-attributes-missed", "vlmdoctor/tfmembers/extract.py",
           "        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):\n"
           "            members.setdefault(item.target.id, ATTRIBUTE)\n", "", MEMBERS),
    Mutant("tfmembers-keyword-only-dropped", "vlmdoctor/tfmembers/extract.py",
           '    parts += [k.arg + ("=" if d is not None else "") for k, d in zip(a.kwonlyargs, a.kw_defaults)]\n',
           "", MEMBERS),
    Mutant("tfmembers-base-overrides-subclass", "vlmdoctor/tfmembers/index.py",
           "                if member not in out:\n",
           "                if True:\n", MEMBERS),
    Mutant("tfmembers-span-and-later-missed", "vlmdoctor/tfmembers/index.py",
           "if b == len(self.releases) - 1:", "if b == len(self.releases):", MEMBERS),
    # engines: the artefact scanner and the index reader
    Mutant("engines-rocm-notes-counted", "vlmdoctor/engines/scan.py",
           '"OOT", "ROCM", ', '"OOT", ', ENGINES),
    Mutant("engines-sglang-attribute-entry-missed", "vlmdoctor/engines/scan.py",
           "            elif isinstance(item, ast.Attribute):\n                found.add(item.attr)\n",
           "", ENGINES),
    Mutant("engines-extra-pins-counted", "vlmdoctor/engines/scan.py",
           'if match and not (match.group(4) and "extra" in match.group(4)):', "if match:",
           ENGINES),
    Mutant("engines-metadata-body-read", "vlmdoctor/engines/scan.py",
           "            break  # the header ends at the first blank line",
           "            continue  # the header ends at the first blank line", ENGINES),
    Mutant("engines-turbomind-update-missed", "vlmdoctor/engines/scan.py",
           'and node.func.value.id in ("MODULE_MAP", "SUPPORTED_ARCHS") and node.args:',
           'and node.func.value.id in ("MODULE_MAP",) and node.args:', ENGINES),
    Mutant("engines-last-release-of-span-excluded", "vlmdoctor/engines/index.py",
           "return any(a <= position <= b for a, b in self.spans(arch))",
           "return any(a <= position < b for a, b in self.spans(arch))", ENGINES),
    Mutant("engines-newest-read-as-newer", "vlmdoctor/engines/index.py",
           "return Version(version) > Version(self.releases[-1])",
           "return Version(version) >= Version(self.releases[-1])", ENGINES),
    # modelfiles: visual tokens, component split, config defaults
    Mutant("internvl-downsample-applied-once", "vlmdoctor/modelfiles/images.py",
           '"tokens_per_tile": round(grid * ratio * ratio)', '"tokens_per_tile": round(grid * ratio)',
           ("tests/modelfiles",)),
    Mutant("mllama-class-token-dropped", "vlmdoctor/modelfiles/images.py",
           '"tokens_per_image": tiles * (grid + 1)', '"tokens_per_image": tiles * grid',
           ("tests/modelfiles",)),
    Mutant("fuyu-newline-token-dropped", "vlmdoctor/modelfiles/images.py",
           "(h // ph) * (w // ph + 1)", "(h // ph) * (w // ph)", ("tests/modelfiles",)),
    Mutant("llava-full-strategy-class-token-dropped", "vlmdoctor/modelfiles/images.py",
           '"tokens_per_image": grid + (strategy == "full")', '"tokens_per_image": grid',
           ("tests/modelfiles",)),
    Mutant("anyres-max-cap-ignored", "vlmdoctor/modelfiles/images.py",
           "most = min(most, int(cap[11:]))", "most = max(most, int(cap[11:]))",
           ("tests/modelfiles",)),
    Mutant("patch-size-from-vision-config-lost", "vlmdoctor/modelfiles/images.py",
           '                             lambda: c.int(f"{vkey}.patch_size", MAX_EDGE, edge=True)),',
           "                             ),", ("tests/modelfiles",)),
    Mutant("idefics-tiles-rounded-down", "vlmdoctor/modelfiles/images.py",
           "n = math.ceil(longest / tile) ** 2", "n = (longest // tile) ** 2", ("tests/modelfiles",)),
    Mutant("component-suffix-projector-missed", "vlmdoctor/modelfiles/components.py",
           ' or s.endswith("_projector")', "", ("tests/modelfiles",)),
    Mutant("component-vision-tower-aux-missed", "vlmdoctor/modelfiles/components.py",
           ' or s.startswith("vision_tower")', "", ("tests/modelfiles",)),
    Mutant("defaults-dev-build-as-older", "vlmdoctor/modelfiles/defaults.py",
           "wanted = Version(Version(saved).base_version) if saved else None",
           "wanted = Version(saved) if saved else None", ("tests/modelfiles",)),
    Mutant("defaults-entry-from-later-release", "vlmdoctor/modelfiles/defaults.py",
           "        if first <= index:\n", "        if first < index:\n", ("tests/modelfiles",)),
    Mutant("defaults-flat-config-gets-text-config", "vlmdoctor/modelfiles/defaults.py",
           "and not (flat and key in _TEXT_KEYS)", "", ("tests/modelfiles",)),
    # --python, cluster drift, GPU health, facts
    Mutant("python-paths-sorted", "vlmdoctor/collect/foreign.py",
           "paths = [p for p in sys.path if p]", "paths = sorted(p for p in sys.path if p)",
           ("tests/collect/test_foreign_python.py",)),
    Mutant("python-first-output-line-read", "vlmdoctor/collect/foreign.py",
           '.strip().splitlines()[-1])', '.strip().splitlines()[0])',
           ("tests/collect/test_foreign_python.py",)),
    Mutant("gpuhealth-every-gpu-reset-pending", "vlmdoctor/evaluate/gpuhealth.py",
           "for g in snapshot.gpus\n            if g.reset_pending]", "for g in snapshot.gpus]",
           GPUHEALTH),
    Mutant("drift-unusable-gpus-counted", "vlmdoctor/cluster/drift.py",
           'gpus = [g for g in data if isinstance(g, Mapping) and not g.get("error")]',
           "gpus = [g for g in data if isinstance(g, Mapping)]", DRIFT),
    Mutant("drift-golden-only-value-missed", "vlmdoctor/cluster/drift.py",
           'if len(set(known.values()) | ({reference} if reference else set())) <= 1:',
           "if len(set(known.values())) <= 1:", DRIFT),
    Mutant("drift-model-package-not-error", "vlmdoctor/cluster/drift.py",
           '            severity = "error"\n', "            pass\n", DRIFT),
    Mutant("drift-clock-behind-ignored", "vlmdoctor/cluster/drift.py",
           "if abs(off) > rule.warn_seconds", "if off > rule.warn_seconds", DRIFT),
    Mutant("gpuhealth-fix-names-gpu-zero", "vlmdoctor/evaluate/gpuhealth.py",
           '"fix": f"nvidia-smi -q -i {index} -d ECC', '"fix": f"nvidia-smi -q -i 0 -d ECC',
           GPUHEALTH),
    Mutant("gpuhealth-failed-gpu-reason-lost", "vlmdoctor/evaluate/gpuhealth.py",
           'gpu.error or "unusable"', '"unusable"', GPUHEALTH),
    Mutant("facts-newer-minor-called-newer-major", "vlmdoctor/evaluate/facts/files.py",
           "return saved.major > installed.major", "return saved > installed", ("tests/rules",)),
    Mutant("facts-quant-alternative-required", "vlmdoctor/evaluate/facts/files.py",
           "if not any(name in ctx.snapshot.packages for name in group):",
           "if not all(name in ctx.snapshot.packages for name in group):", ("tests/rules",)),
    Mutant("facts-members-window-oldest-run", "vlmdoctor/evaluate/facts/members.py",
           "last = first = max(positions)", "last = first = min(positions)", MEMBERS),
    Mutant("facts-cuda-library-pin-an-error", "vlmdoctor/evaluate/facts/stack.py",
           'severity = "error" if d.requirer in core and not _runtime_library(d.package) \\',
           'severity = "error" if d.requirer in core \\', REQUIREMENTS),
    Mutant("facts-torch-fix-leaves-torchvision", "vlmdoctor/evaluate/facts/stack.py",
           "            pins.extend(f for f in followers if f not in names)\n", "", REQUIREMENTS),
    Mutant("facts-incompatible-error-needs-all-core", "vlmdoctor/evaluate/facts/stack.py",
           '"severity": "error" if any(w.split(" ")[0] in core for w, _ in pairs)',
           '"severity": "error" if all(w.split(" ")[0] in core for w, _ in pairs)', REQUIREMENTS),
    Mutant("facts-lowest-gpu-cc", "vlmdoctor/evaluate/facts/extensions.py",
           "return str(max(ccs)) if ccs else None", "return str(min(ccs)) if ccs else None",
           ("tests/rules",)),
)


def _copy(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.pyc", ".pytest_cache",
                                    ".mypy_cache", ".ruff_cache", ".hypothesis")
    shutil.copytree(ROOT, dest, ignore=ignore)


# A mutant counts as killed only by a test of behaviour: the docs-sync test fails on any
# change to the rule base, and regenerating the docs would satisfy it.
BEHAVIOUR_ONLY = ("--ignore=tests/test_docs.py",)


def run_one(mutant: Mutant, timeout: float, tests: tuple[str, ...] = ()) -> tuple[str, float]:
    """``tests``: run these instead of the mutant's own (``("tests",)`` confirms a survivor)."""
    with tempfile.TemporaryDirectory(prefix="vlmdoctor-mutant-") as tmp:
        copy = Path(tmp) / "repo"
        _copy(copy)
        target = copy / mutant.path
        text = target.read_text(encoding="utf-8")
        if text.count(mutant.old) != 1:
            return f"stale (snippet found {text.count(mutant.old)} times)", 0.0
        target.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", XDG_CACHE_HOME=str(Path(tmp) / "c"))
        started = time.monotonic()
        try:
            proc = subprocess.run(
                # serial: with xdist, -x reports an interrupted run (exit 2), not a failure
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                 "-p", "no:xdist", *BEHAVIOUR_ONLY, *(tests or mutant.tests)],
                cwd=copy, env=env, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return "killed (timeout)", time.monotonic() - started
        took = time.monotonic() - started
        if proc.returncode == 0:
            return "SURVIVED", took
        if proc.returncode == 1:
            return "killed", took
        return f"error (pytest exit {proc.returncode})", took


def _judge(mutant: Mutant, timeout: float, confirm: bool) -> tuple[str, float]:
    outcome, took = run_one(mutant, timeout)
    if outcome == "SURVIVED" and confirm:
        outcome, more = run_one(mutant, timeout, ("tests",))
        outcome, took = f"{outcome} (whole suite)", took + more
    return outcome, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--confirm", action="store_true",
                        help="run each survivor again against the whole suite")
    parser.add_argument("--jobs", type=int, default=max(1, min(8, os.cpu_count() or 1)),
                        help="mutants checked at once, each in its own copy (default: the "
                             "CPU count, at most 8)")
    args = parser.parse_args()
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:<36} {m.path}  ->  {' '.join(m.tests)}")
        return
    unknown = sorted(set(args.names) - {m.name for m in MUTANTS})
    if unknown:
        parser.error(f"no such mutant: {', '.join(unknown)} (see --list)")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    started = time.monotonic()
    outcomes: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(_judge, m, args.timeout, args.confirm): m for m in chosen}
        for future in as_completed(futures):
            outcome, took = future.result()
            outcomes[futures[future].name] = outcome
            print(f"{outcome:<28} {took:6.1f} s  {futures[future].name}", flush=True)
    left = [m.name for m in chosen if not outcomes[m.name].startswith("killed")]
    killed = len(chosen) - len(left)
    print(f"{killed} of {len(chosen)} mutants killed by behaviour "
          f"({100 * killed / max(1, len(chosen)):.0f} %) in {time.monotonic() - started:.0f} s")
    for name in left:
        print(f"  not killed: {name}: {outcomes[name]}")
    sys.exit(1 if left else 0)


if __name__ == "__main__":
    main()
