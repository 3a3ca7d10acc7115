"""The weights a request plans: a pre-quantised checkpoint's as stored, else the card's
parameters in the planned dtype (``weights.weigh``)."""

from __future__ import annotations

from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.modelfiles.components import component
from vlmdoctor.plan.checkpoint import Checkpoint, quantised_rate
from vlmdoctor.plan.constants import FLOAT_BYTES
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.weights import Components, Weights, float_dtype, quant_bytes, weigh

# A vision tower stored at under this fraction of its 16-bit size was quantised too.
QUANTISED_VISION = 0.75


def as_stored(request: PlanRequest) -> Checkpoint | None:
    """The checkpoint when the request plans it as stored. AWQ, GPTQ, compressed-tensors and
    bitsandbytes weights stay packed whatever the dtype (transformers' quantizers take it as
    the compute dtype: update_dtype in quantizer_awq.py and quantizer_gptq.py under
    https://github.com/huggingface/transformers/tree/main/src/transformers/quantizers); FP8 is
    dequantised by a float --dtype, and by transformers itself below compute capability 8.9."""
    ckpt = request.checkpoint
    if ckpt is None or (ckpt.dequantised_below and request.resolved_dtype in FLOAT_BYTES):
        return None
    return ckpt


def request_weights(request: PlanRequest, comp: Components) -> Weights:
    ckpt = as_stored(request)
    if ckpt is None:
        return weigh(request.card, comp, request.resolved_dtype)
    return stored_weights(request.card, comp, ckpt)


def stored_weights(card: ModelCard, comp: Components, ckpt: Checkpoint) -> Weights:
    """Embeddings, head and norms are 16-bit (the methods quantise Linear layers, and keep
    lm_head); the decoder layers get the rest of the language model's stored bytes, so the
    total is exactly the headers'. Without headers: ``quantised_rate`` per layer weight."""
    full = FLOAT_BYTES[float_dtype(ckpt.dtype, card.native_dtype)]
    embeddings, head, norm = (round(n * full) for n in (comp.embeddings, comp.head, comp.norm))
    vision_params = comp.vision + comp.projector
    language = ckpt.stored.get("language")
    if language:
        vision = ckpt.stored.get("vision", 0) + ckpt.stored.get("projector", 0)
        rest = language - embeddings - head - norm
        if rest < 0:  # the embeddings or head are quantised too: keep the headers' total
            embeddings = head = norm = 0
            rest = language
        per_layer = rest // comp.layers if comp.layers else 0
        return Weights(vision=vision, embeddings=embeddings, head=head, norm=norm,
                       per_layer=per_layer, body=rest - per_layer * comp.layers,
                       quantised_vision=vision < vision_params * full * QUANTISED_VISION)
    if ckpt.method == "bitsandbytes":
        rate = quant_bytes(ckpt.dtype, card.architecture.hidden_size)
    else:
        rate = quantised_rate(ckpt, card.architecture.hidden_size)
    qvision = bool(ckpt.not_converted) and all(component(_module(n)) == "language"
                                               for n in ckpt.not_converted)
    return Weights(vision=round(vision_params * (rate if qvision else full)),
                   embeddings=embeddings, head=head, norm=norm,
                   per_layer=round(comp.per_layer * rate), body=round(comp.body * rate),
                   quantised_vision=qvision)


def _module(name: str) -> str:
    """A module name from a compressed-tensors ``ignore`` pattern: ``re:.*visual.*`` ->
    ``visual`` (plain names pass through)."""
    return name.removeprefix("re:").replace(".*", ".").strip(".^$")
