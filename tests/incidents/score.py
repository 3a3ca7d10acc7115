"""Score the corpus: how many incidents the doctor diagnoses, and every miss.

    python -m tests.incidents.score                    # this checkout's code and rules
    python -m tests.incidents.score --code /work/main  # another checkout's code and rules
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--code", help="a vlmdoctor checkout whose code and rules/ to score")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.code:
        sys.path.insert(0, str(Path(args.code).resolve()))
    import vlmdoctor
    from tests.incidents.corpus import load_corpus
    from tests.incidents.runner import diagnose
    from vlmdoctor.knowledge import load_knowledge

    root = Path(vlmdoctor.__file__).resolve().parent.parent
    knowledge = load_knowledge(root / "rules")
    corpus = load_corpus()
    outcomes = [diagnose(i, knowledge) for i in corpus]
    hit = [o for o in outcomes if o.diagnosed]
    by_class: Counter[str] = Counter(o.incident.klass for o in outcomes)
    hit_class: Counter[str] = Counter(o.incident.klass for o in hit)
    print(f"code: {root}")
    if not args.quiet:
        for o in outcomes:
            if o.misses:
                print(f"MISS {o.incident.id}: {'; '.join(o.misses)}")
    for klass, n in sorted(by_class.items()):
        print(f"  {klass:24} {hit_class[klass]:3}/{n}")
    print(f"diagnosed {len(hit)}/{len(outcomes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
