"""What ``--model`` names, resolved once: a catalogue card, a local directory or a repo in
the HF cache (read into facts and a card), or nothing known (a ``model-unknown`` warning).

Only names and paths are looked at here; a saved report's target is replayed from its
saved facts without touching the files (``replay``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.knowledge.catalogue import Catalogue
from vlmdoctor.record import record, replace

if TYPE_CHECKING:  # imported lazily at run time: the gate without --model never loads them
    from vlmdoctor.modelfiles.facts import ModelFacts
    from vlmdoctor.modelfiles.locate import ModelSource


@record
class ResolvedModel:
    requested: str | None = None    # --model as given (or the saved target's model)
    card: ModelCard | None = None   # None: no model, or an unknown one
    source: ModelSource | None = None  # kind, shown path, revision; .local is the directory
    facts: ModelFacts | None = None    # what the files said, when files were read
    suggestions: tuple[str, ...] = ()
    code: tuple[Any, ...] = ()      # modelcode.scan.CodeScan of the model's code

    @property
    def unknown(self) -> bool:
        return self.requested is not None and self.card is None

    @property
    def model_id(self) -> str | None:
        return self.card.id if self.card else self.requested

    def report_fields(self) -> dict[str, Any]:
        """The additive keys of the report's ``target``."""
        out: dict[str, Any] = {}
        if self.requested is not None:
            out["source"] = self.source.to_dict() if self.source is not None else None
        if self.facts is not None:
            out["model_facts"] = self.facts.to_dict()
        if self.code:
            out["code"] = [scan.to_dict() for scan in self.code]
        return out


NO_MODEL = ResolvedModel()


def resolve(catalogue: Catalogue, name: str | None,
            environ: Mapping[str, str] | None = None) -> ResolvedModel:
    if name is None:
        return NO_MODEL
    if not name.strip():
        raise InputError("--model is empty: give a model id (see 'vlmdoctor models'), a model "
                         "directory or a repo id in the Hugging Face cache")
    from vlmdoctor.modelfiles.locate import ModelSource, locate

    source = locate(name, environ)
    if source is not None:
        from vlmdoctor.modelcode.collect import remote_code
        from vlmdoctor.modelfiles.read import read_model

        facts = read_model(source)
        resolved = _from_files(catalogue, name, source, facts,
                               code=remote_code(source.local, facts.files))
        if resolved.card is not None and resolved.card.requirements.code_packages:
            from vlmdoctor.modelcode.collect import package_code

            extra = package_code(resolved.card.requirements.code_packages)
            resolved = replace(resolved, code=resolved.code + extra)
        return resolved
    card = catalogue.find(name)
    if card is not None:
        from vlmdoctor.modelcode.collect import package_code

        return ResolvedModel(name, card, ModelSource("catalogue"),
                             code=package_code(card.requirements.code_packages))
    return ResolvedModel(name, suggestions=catalogue.suggestions(name))


def replay(catalogue: Catalogue, target: Mapping[str, Any], source: str) -> ResolvedModel:
    """The saved target of a report, without the model's files."""
    model = target.get("model")
    if not isinstance(model, str) or not model.strip():
        return NO_MODEL
    from vlmdoctor.modelfiles.locate import ModelSource

    saved_source = target.get("source")
    located = (ModelSource.from_dict(saved_source, source=f"{source}: target.source")
               if saved_source is not None else None)
    if located is not None and located.kind != "catalogue":
        from vlmdoctor.modelfiles.facts import ModelFacts

        raw = target.get("model_facts")
        if raw is None:
            raise InputError(f"{source}: target.source is {located.kind!r} but the report has "
                             "no target.model_facts")
        facts = ModelFacts.from_dict(raw, source=f"{source}: target.model_facts")
        from vlmdoctor.modelcode.collect import saved_code

        return _from_files(catalogue, model, located, facts, saved_id=model,
                           code=saved_code(target.get("code"), source))
    card = catalogue.find(model)
    if card is not None:
        from vlmdoctor.modelcode.collect import saved_code

        return ResolvedModel(model, card, ModelSource("catalogue"),
                             code=saved_code(target.get("code"), source))
    return ResolvedModel(model, suggestions=catalogue.suggestions(model))


def _from_files(catalogue: Catalogue, name: str, source: ModelSource, facts: ModelFacts,
                saved_id: str | None = None, code: tuple[Any, ...] = ()) -> ResolvedModel:
    from vlmdoctor.modelfiles.card import card_from_facts

    cached = source.kind == "hf-cache"
    # The same names live and on replay: a directory's path never names a curated card.
    curated = _curated(catalogue, (saved_id if cached else None, facts.repo_id,
                                   facts.name_or_path))
    if cached:  # the repo id (or the card it is an alias of)
        model_id = curated.id if curated else (facts.repo_id or saved_id or name)
    else:  # the directory, so fixes and re-checks point at the files
        model_id = saved_id or source.path or name
    return ResolvedModel(name if saved_id is None else saved_id,
                         card_from_facts(facts, model_id, curated), source, facts, code=code)


def _curated(catalogue: Catalogue, names: tuple[str | None, ...]) -> ModelCard | None:
    for name in names:
        if not name:
            continue
        try:
            card = catalogue.find(name)
        except InputError:  # ambiguous: not a match
            continue
        if card is not None:
            return card
    return None
