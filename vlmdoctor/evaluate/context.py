"""What a rule can see: the snapshot, the target model, the options, the tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlmdoctor.record import record
from vlmdoctor.snapshot import Snapshot

if TYPE_CHECKING:  # the knowledge layer imports the fact registry; avoid the cycle
    from vlmdoctor.knowledge.cards import ModelCard
    from vlmdoctor.knowledge.tables import CudaTables
    from vlmdoctor.modelcode.scan import CodeScan
    from vlmdoctor.target import ResolvedModel

DTYPE_CHOICES = ("auto", "bf16", "fp16", "fp32")


class _Unknown:
    """A fact that could not be known (a section missing from the snapshot)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()


@record
class Context:
    snapshot: Snapshot
    tables: CudaTables
    card: ModelCard | None = None
    dtype: str = "auto"
    text: str | None = None  # error text pasted into `vlmdoctor explain`
    code: tuple[CodeScan, ...] = ()  # the model's code (remote code, model packages), scanned
    # How --model was resolved (name as given, source, the model's own facts); None when
    # the caller only has a card (rule fixtures, older callers).
    model: ResolvedModel | None = None

    @property
    def effective_dtype(self) -> str | None:
        if self.dtype != "auto":
            return self.dtype
        return self.card.native_dtype if self.card else None

    def section_unknown(self, name: str) -> bool:
        return name in self.snapshot.unknown
