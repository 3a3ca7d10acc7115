"""Parameter counts per component, and what they weigh in a given dtype."""

from __future__ import annotations

from dataclasses import dataclass

from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.plan.constants import FLOAT_BYTES, INT4_BYTES, INT8_BYTES, INT8_ROW_SCALE_BYTES


@dataclass(frozen=True)
class Components:
    """Parameter counts the planner uses. ``head`` is 0 when tied to the embeddings."""

    vision: int
    projector: int
    embeddings: int
    head: int
    norm: int
    per_layer: int
    layers: int
    body: int  # language parameters not attributed to layers (all of them when layers are unknown)
    notes: tuple[str, ...] = ()

    @property
    def language(self) -> int:
        return self.embeddings + self.head + self.norm + self.per_layer * self.layers + self.body

    @property
    def total(self) -> int:
        return self.vision + self.projector + self.language


def components(card: ModelCard) -> Components | None:
    """Split the card's parameter counts; None when the card cannot size the model."""
    p, a = card.params, card.architecture
    notes: list[str] = []
    vision = p.vision or 0
    projector = p.projector or 0
    if p.vision is None:
        notes.append("vision tower size unknown (params.vision is null); counted as 0")
    language = p.language
    if language is None and p.total is not None:
        language = p.total - vision - projector
        notes.append(f"language model size derived as params.total - vision - projector = {language:,}")
    if language is None:
        return None
    embeddings = head = norm = 0
    if a.vocab_size and a.hidden_size:
        embeddings = a.vocab_size * a.hidden_size
        if a.tie_word_embeddings is None:
            notes.append("tie_word_embeddings unknown; the output head is counted separately")
        head = 0 if a.tie_word_embeddings else embeddings
        norm = a.hidden_size
    else:
        notes.append("vocab_size or hidden_size unknown; embeddings and head not itemised")
    rest = language - embeddings - head - norm
    layers = a.lm_layers or 0
    per_layer = rest // layers if layers and rest > 0 else 0
    body = rest - per_layer * layers
    if not layers:
        notes.append("lm_layers unknown: the language model cannot be split across GPUs")
    return Components(vision=vision, projector=projector, embeddings=embeddings, head=head,
                      norm=norm, per_layer=per_layer, layers=layers, body=body,
                      notes=tuple(notes))


@dataclass(frozen=True)
class Weights:
    """Bytes per component in the planned dtype."""

    vision: int  # vision tower + projector
    embeddings: int
    head: int
    norm: int
    per_layer: int
    body: int
    quantised_vision: bool

    def total(self, layers: int) -> int:
        return (self.vision + self.embeddings + self.head + self.norm + self.body
                + self.per_layer * layers)


def float_dtype(dtype: str, native: str | None) -> str:
    """The 16/32-bit dtype of what is not quantised (the compute dtype)."""
    if dtype in FLOAT_BYTES:
        return dtype
    return native if native in ("fp16", "bf16") else "fp16"


def quant_bytes(dtype: str, hidden: int | None) -> float:
    if dtype == "int8":
        return INT8_BYTES + (INT8_ROW_SCALE_BYTES / hidden if hidden else 0.0)
    return INT4_BYTES


def weigh(card: ModelCard, comp: Components, dtype: str) -> Weights:
    """bitsandbytes replaces nn.Linear only: embeddings, norms and (by default) lm_head stay
    16-bit; the vision tower and projector are quantised only where the family's loader lets
    it (card field architecture.bnb_quantizes_vision)."""
    full = FLOAT_BYTES[float_dtype(dtype, card.native_dtype)]
    if dtype in FLOAT_BYTES:
        linear = full
        qvision = False
    else:
        linear = quant_bytes(dtype, card.architecture.hidden_size)
        qvision = bool(card.architecture.bnb_quantizes_vision)
    vision_rate = linear if qvision else full
    return Weights(vision=round((comp.vision + comp.projector) * vision_rate),
                   embeddings=round(comp.embeddings * full), head=round(comp.head * full),
                   norm=round(comp.norm * full), per_layer=round(comp.per_layer * linear),
                   body=round(comp.body * linear), quantised_vision=qvision)
