"""The names a rule may read, and what kind of value each is: owned by the knowledge layer.

Rules and templates are validated against this list when they load; ``evaluate``
supplies a getter for every name (``evaluate.facts.registry.fact`` refuses a name or kind that is
not declared here, and a test checks that every name has a getter). Names ending in
``.*`` take a suffix: ``packages.transformers``, ``env.MAX_PIXELS``.
"""

from __future__ import annotations

KINDS = ("version", "str", "number", "bool", "list", "spec", "text", "records")

FACT_KINDS: dict[str, str] = {
    "host.os": "str", "host.os_release": "str", "host.distro": "str", "host.arch": "str",
    "host.libc": "str",
    "python.version": "version", "python.implementation": "str",
    "driver.version": "version", "driver.cuda": "version",
    "torch.version": "version", "torch.cuda": "version", "torch.build": "str",
    "cuda_toolkit.nvcc": "version", "cuda_toolkit.cuda_home": "str",
    "gpus.count": "number", "gpus.names": "list", "gpus.min_compute_capability": "version",
    "gpus.below_sm70": "list", "gpus.below_sm80": "list", "gpus.below_sm89": "list",
    "gpus.max_compute_capability": "version", "gpus.unusable": "records",
    "gpus.enumerated": "number", "gpus.reset_pending": "records",
    "packages.*": "version", "env.*": "str", "unavailable.*": "str",
    "network_interfaces": "list",
    "explain.text": "text",
    "compat.driver_status": "str", "compat.driver_required": "version",
    "compat.driver_floor": "version", "compat.torch_fix": "str", "compat.torch_archs": "list",
    "compat.gpus_unsupported_by_torch": "list", "compat.gpus_ptx_jit": "list", "compat.nvcc_vs_torch": "str",
    "compat.opencv_packages": "list", "compat.nccl_socket_ifname_selected": "list",
    "compat.multi_node": "bool",
    "gpus.models": "list", "compat.node_rank": "number",
    "compat.visible_devices_missing": "list", "compat.visible_gpu_count": "number",
    "compat.local_world_size": "number", "compat.nccl_version": "version",
    "compat.nccl_file_problems": "list",
    "stack.requirements_unmet": "records", "stack.requirements_missing": "records",
    "stack.requirements_incompatible": "records", "stack.extension_builds_mismatched": "records",
    "stack.bitsandbytes_library_missing": "records",
    "target.model": "str", "target.dtype": "str", "target.dtype_requested": "str",
    "target.hf_cache": "str", "target.model_suggestions": "list", "target.model_unknown": "str",
    "target.model_unknown_repo": "str",
    "model.name": "str", "model.family": "str", "model.native_dtype": "str",
    "model.flash_attn": "str", "model.attn_fallback": "str",
    "model.min_compute_capability": "version", "model.min_gpus": "number",
    "model.trust_remote_code": "bool", "model.repo_install": "str",
    "model.python_spec": "spec", "model.python_why": "str", "model.transformers_fix": "str",
    "model.transformers_unmet": "records", "model.packages_unmet": "records",
    "model.transformers_index_notes": "records",
    "model.packages_missing": "records", "model.placement_style": "str",
    "model.code_missing_packages": "records", "model.code_torch_imports": "records",
    "explain.index_answers": "records", "index.unavailable": "records",
    "model.files_source": "str", "model.missing_files": "list", "model.remote_code": "list",
    "model.saved_transformers": "version", "compat.saved_transformers_newer_major": "bool",
    "model.quant_method": "str", "model.quant_why": "str",
    "model.quant_min_compute_capability": "version", "model.quant_packages_missing": "records",
    "engines.model_unserved": "records", "model.code_members_missing": "records",
    "model.code_override_mismatch": "records", "model.code_post_init_missing": "records",
    "stack.ecosystem_imports_missing": "records",
    "stack.ecosystem_torch_missing": "records", "explain.engine_unserved": "records",
}

# The keys of each item of a ``records`` fact (``{item.key}`` in a for_each rule).
RECORD_KEYS = ("package", "spec", "found", "why", "severity", "fix", "references",
               "requirer", "requirer_version", "requirement", "requirers", "built_for",
               "import", "where", "escape", "present", "change", "skipped",
               "architecture", "title")


def lookup(name: str) -> tuple[str, str] | None:
    """The declared name that ``name`` resolves to (itself, or a ``.*`` pattern) and its kind."""
    if name in FACT_KINDS and not name.endswith(".*"):
        return name, FACT_KINDS[name]
    head, _, tail = name.rpartition(".")
    while head:
        pattern = head + ".*"
        if pattern in FACT_KINDS and tail:
            return pattern, FACT_KINDS[pattern]
        head, _, _ = head.rpartition(".")
    return None


def kind_of(name: str) -> str | None:
    found = lookup(name)
    return found[1] if found else None


def plain_names() -> list[str]:
    return [n for n in FACT_KINDS if not n.endswith(".*")]
