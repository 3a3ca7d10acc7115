"""Model cards: what each VLM is made of and what it needs.

One YAML file per family under ``rules/models/``. A family file has ``family``
(shared metadata), optional ``defaults`` (deep-merged into every model) and
``models``. Unknown numbers stay ``null``: the planner says it cannot estimate
rather than guessing.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from vlmdoctor.knowledge import schema as s
from vlmdoctor.record import record

DTYPES = ("bf16", "fp16", "fp32")
FLASH_ATTN = ("none", "optional", "default", "required", "required-high-res")
PLACEMENT_STYLES = ("contiguous", "internvl-split", "xcomposer", "single-device")
IMAGE_KINDS = ("fixed", "qwen-pixels", "pixels", "internvl-tiles", "phi-crops", "llava-anyres",
               "slices", "mgm")

_PACKAGE_REQ = s.Record({
    "spec": s.req(s.SPEC),
    "severity": s.opt(s.OneOf(("error", "warning", "info")), "error"),
    "why": s.req(s.STR),
    "fix": s.opt(s.ListOf(s.STR), ()),
    "references": s.req(s.ListOf(s.STR, min_items=1)),
})

_REQUIREMENTS = s.Record({
    "python": s.opt(s.Nullable(s.Record({
        "spec": s.req(s.SPEC), "why": s.req(s.STR),
        "references": s.req(s.ListOf(s.STR, min_items=1)),
    }))),
    # One requirement, or a list of windows each with its own why (too old / too new).
    "packages": s.opt(s.MapOf(s.OneOrMany(_PACKAGE_REQ)), {}),
    "min_compute_capability": s.opt(s.Nullable(s.VERSION)),
    "trust_remote_code": s.opt(s.BOOL, False),
    "flash_attn": s.opt(s.OneOf(FLASH_ATTN), "none"),
    "attn_fallback": s.opt(s.Nullable(s.STR)),
    "min_gpus": s.opt(s.Nullable(s.INT)),
    "needs_repo_install": s.opt(s.Nullable(s.STR)),
    "code_packages": s.opt(s.ListOf(s.STR), ()),
})

_PARAMS = s.Record({
    "vision": s.opt(s.Nullable(s.INT)),
    "projector": s.opt(s.Nullable(s.INT)),
    "language": s.opt(s.Nullable(s.INT)),
    "total": s.opt(s.Nullable(s.INT)),
    "source": s.opt(s.Nullable(s.STR)),
})

_ARCH = s.Record({
    "lm_layers": s.opt(s.Nullable(s.INT)),
    "hidden_size": s.opt(s.Nullable(s.INT)),
    "intermediate_size": s.opt(s.Nullable(s.INT)),
    "num_attention_heads": s.opt(s.Nullable(s.INT)),
    "num_kv_heads": s.opt(s.Nullable(s.INT)),
    "head_dim": s.opt(s.Nullable(s.INT)),
    "vocab_size": s.opt(s.Nullable(s.INT)),
    "max_context": s.opt(s.Nullable(s.INT)),
    "tie_word_embeddings": s.opt(s.Nullable(s.BOOL)),
    "num_experts": s.opt(s.Nullable(s.INT)),
    "vision_layers": s.opt(s.Nullable(s.INT)),
    "vision_hidden_size": s.opt(s.Nullable(s.INT)),
    "vision_heads": s.opt(s.Nullable(s.INT)),
    # Whether bitsandbytes quantises the vision tower and projector under the
    # family's own loader (null: unknown; the planner then keeps them 16-bit).
    "bnb_quantizes_vision": s.opt(s.Nullable(s.BOOL)),
    "source": s.opt(s.Nullable(s.STR)),
})

_PLACEMENT = s.Record({
    "style": s.opt(s.OneOf(PLACEMENT_STYLES), "contiguous"),
    "first_gpu": s.opt(s.ListOf(s.STR), ()),
    "last_gpu": s.opt(s.ListOf(s.STR), ()),
    "layers": s.opt(s.Nullable(s.STR)),
    "vision": s.opt(s.ListOf(s.STR), ()),
    "no_split": s.opt(s.ListOf(s.STR), ()),
    "gpu0_weight": s.opt(s.Nullable(s.NUMBER)),
    "source": s.opt(s.Nullable(s.STR)),
})

_IMAGES = s.Record({
    "kind": s.req(s.OneOf(IMAGE_KINDS)),
    "tokens_per_image": s.opt(s.Nullable(s.INT)),
    "tokens_per_tile": s.opt(s.Nullable(s.INT)),
    "max_tiles": s.opt(s.Nullable(s.INT)),
    "pixels_per_token": s.opt(s.Nullable(s.INT)),
    # Vision-tower patch edge in pixels (null: 14, the ViT-L/14 and SigLIP/14 default).
    "patch_size": s.opt(s.Nullable(s.INT)),
    "min_pixels": s.opt(s.Nullable(s.INT)),
    "max_pixels": s.opt(s.Nullable(s.INT)),
    "env": s.opt(s.MapOf(s.STR), {}),
    "source": s.opt(s.Nullable(s.STR)),
})

_MODEL_FIELDS: dict[str, s.Field] = {
    "id": s.req(s.STR),
    "name": s.req(s.STR),
    "aliases": s.opt(s.ListOf(s.STR), ()),
    "hf_repos": s.opt(s.ListOf(s.STR), ()),
    "native_dtype": s.opt(s.Nullable(s.OneOf(DTYPES))),
    "params": s.opt(s.Nullable(_PARAMS)),
    "architecture": s.opt(s.Nullable(_ARCH)),
    "requirements": s.opt(_REQUIREMENTS, None),
    "placement": s.opt(s.Nullable(_PLACEMENT)),
    "images": s.opt(s.Nullable(_IMAGES)),
    "hf_model_type": s.opt(s.Nullable(s.STR)),
    # The ``architectures`` of the checkpoints' config.json (what serving engines register).
    "hf_architectures": s.opt(s.ListOf(s.STR), ()),
    "notes": s.opt(s.ListOf(s.STR), ()),
    "sources": s.req(s.ListOf(s.STR, min_items=1)),
}
MODEL = s.Record(_MODEL_FIELDS)
DEFAULTS = s.Record({k: s.opt(v.node) for k, v in _MODEL_FIELDS.items()
                     if k not in ("id", "name", "aliases", "hf_repos")})
FAMILY_FILE = s.Record({
    "schema_version": s.req(s.OneOf((1,))),
    "family": s.req(s.Record({
        "id": s.req(s.STR), "name": s.req(s.STR), "homepage": s.opt(s.Nullable(s.STR)),
        "sources": s.opt(s.ListOf(s.STR), ()),
    })),
    "defaults": s.opt(s.Nullable(s.MapOf(s.ANY))),
    "models": s.req(s.ListOf(s.MapOf(s.ANY), min_items=1)),
})
_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


@record
class PackageRequirement:
    package: str
    spec: str
    severity: str
    why: str
    fix: tuple[str, ...]
    references: tuple[str, ...]

    @property
    def shown_spec(self) -> str:
        """The specifier as people read it: '>=0' (any version) says nothing, so it is ''."""
        return shown_spec(self.spec)


_ANY_VERSION = re.compile(r"^\s*>=\s*0(\.0)*\s*$")


def shown_spec(spec: str) -> str:
    return ",".join(p.strip() for p in spec.split(",") if p.strip() and not _ANY_VERSION.match(p))


@record
class PythonRequirement:
    spec: str
    why: str
    references: tuple[str, ...]


@record
class Requirements:
    python: PythonRequirement | None = None
    packages: tuple[PackageRequirement, ...] = ()
    min_compute_capability: str | None = None
    trust_remote_code: bool = False
    flash_attn: str = "none"
    attn_fallback: str | None = None
    min_gpus: int | None = None
    needs_repo_install: str | None = None
    code_packages: tuple[str, ...] = ()  # import names of the model's own installed packages

    def for_package(self, name: str) -> tuple[PackageRequirement, ...]:
        return tuple(req for req in self.packages if req.package == name)


@record
class Params:
    vision: int | None = None
    projector: int | None = None
    language: int | None = None
    total: int | None = None
    source: str | None = None


@record
class Architecture:
    lm_layers: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None
    num_attention_heads: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    max_context: int | None = None
    tie_word_embeddings: bool | None = None
    num_experts: int | None = None
    vision_layers: int | None = None
    vision_hidden_size: int | None = None
    vision_heads: int | None = None
    bnb_quantizes_vision: bool | None = None
    source: str | None = None


@record
class Placement:
    """How a family splits across GPUs (module names as the model really has them).

    ``first_gpu``/``last_gpu`` are module names pinned to GPU 0 / the last GPU;
    ``layers`` is the decoder-layer prefix (``language_model.model.layers``);
    ``vision`` the vision-side modules kept with the embeddings; ``gpu0_weight``
    how much of a GPU the first one counts for when layers are spread.
    """

    style: str = "contiguous"
    first_gpu: tuple[str, ...] = ()
    last_gpu: tuple[str, ...] = ()
    layers: str | None = None
    vision: tuple[str, ...] = ()
    no_split: tuple[str, ...] = ()
    gpu0_weight: float | None = None
    source: str | None = None


@record
class Images:
    kind: str
    tokens_per_image: int | None = None
    tokens_per_tile: int | None = None
    max_tiles: int | None = None
    pixels_per_token: int | None = None
    patch_size: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    env: Mapping[str, str] = None  # type: ignore[assignment]
    source: str | None = None


@record
class ModelCard:
    id: str
    name: str
    family: str
    family_name: str
    aliases: tuple[str, ...]
    hf_repos: tuple[str, ...]
    native_dtype: str | None
    params: Params
    architecture: Architecture
    requirements: Requirements
    placement: Placement
    images: Images | None
    hf_model_type: str | None
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    file: str
    hf_architectures: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.id, self.name, *self.aliases, *self.hf_repos)


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def build_card(raw: Mapping[str, Any], family: Mapping[str, Any], file: str, path: str) -> ModelCard:
    data = MODEL.check(dict(raw), path)
    if not _ID.match(data["id"]):
        raise s.SchemaError(s.join(path, "id"),
                            f"model id {data['id']!r} must be lowercase kebab-case")
    reqs = data["requirements"] or {}
    packages = tuple(
        PackageRequirement(package=name, spec=r["spec"], severity=r["severity"], why=r["why"],
                           fix=r["fix"], references=r["references"])
        for name, windows in sorted((reqs.get("packages") or {}).items())
        for r in windows
    )
    py = reqs.get("python")
    requirements = Requirements(
        python=PythonRequirement(**py) if py else None,
        packages=packages,
        min_compute_capability=reqs.get("min_compute_capability"),
        trust_remote_code=bool(reqs.get("trust_remote_code")),
        flash_attn=reqs.get("flash_attn") or "none",
        attn_fallback=reqs.get("attn_fallback"),
        min_gpus=reqs.get("min_gpus"),
        needs_repo_install=reqs.get("needs_repo_install"),
        code_packages=tuple(reqs.get("code_packages", ())),
    )
    images = data["images"]
    return ModelCard(
        id=data["id"], name=data["name"], family=family["id"], family_name=family["name"],
        aliases=data["aliases"], hf_repos=data["hf_repos"], native_dtype=data["native_dtype"],
        params=Params(**(data["params"] or {})),
        architecture=Architecture(**(data["architecture"] or {})),
        requirements=requirements,
        placement=Placement(**(data["placement"] or {})),
        images=Images(**{**images, "env": images.get("env") or {}}) if images else None,
        hf_model_type=data["hf_model_type"], notes=data["notes"], sources=data["sources"],
        file=file, hf_architectures=data["hf_architectures"],
    )


def parse_family_file(raw: Any, file: str,
                      keep: Callable[[Mapping[str, Any]], bool] | None = None) -> tuple[ModelCard, ...]:
    """Every card of a family file; with ``keep``, only the models it keeps are built (the
    gate looks up one name; the whole file is validated wherever every card is loaded)."""
    top = FAMILY_FILE.check(raw, "")
    defaults = top["defaults"] or {}
    DEFAULTS.check(dict(defaults), "defaults")
    return tuple(
        build_card(deep_merge(defaults, model), top["family"], file, s.join("models", i))
        for i, model in enumerate(top["models"])
        if keep is None or not isinstance(model, Mapping) or keep(model)
    )
