"""How well and how fast bot.similarity spots duplicate feedback.

1. Scores every labelled pair in tests/bot/data/duplicate_pairs.csv (a, b, duplicate, kind) and
   prints precision, recall and F1 at the threshold, the hit rate per kind of pair, a sweep of
   nearby thresholds, and every false positive and false negative with its score.
2. Times best_match (it runs each time feedback is filed) against --candidates open items, with
   the normalise cache cleared before each call (cold: the items are new to this process) and
   kept (warm: the steady state, the same open items compared again).

Usage: python bench/duplicates.py [--pairs CSV] [--threshold 0.90] [--candidates 500]
       [--calls 200]
Exits 1 if precision is below 0.9.
"""

import argparse
import csv
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bot.similarity import LOOKS_LIKE, best_match, normalise, similarity

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "bot" / "data" / "duplicate_pairs.csv"
MIN_PRECISION = 0.9


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    duplicate: bool
    kind: str
    score: float


def load(path: Path) -> list[Pair]:
    with path.open(newline="") as f:
        return [
            Pair(row["a"], row["b"], row["duplicate"] == "1", row.get("kind") or "?", 0.0)
            for row in csv.DictReader(f)
        ]


def scored(pairs: list[Pair]) -> list[Pair]:
    return [Pair(p.a, p.b, p.duplicate, p.kind, similarity(p.a, p.b)) for p in pairs]


def counts(pairs: list[Pair], threshold: float) -> tuple[int, int, int]:
    """True positives, false positives, false negatives."""
    tp = sum(p.duplicate and p.score >= threshold for p in pairs)
    fp = sum(not p.duplicate and p.score >= threshold for p in pairs)
    fn = sum(p.duplicate and p.score < threshold for p in pairs)
    return tp, fp, fn


def rates(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (precision is 1 when nothing was suggested)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def report_quality(pairs: list[Pair], threshold: float) -> float:
    tp, fp, fn = counts(pairs, threshold)
    precision, recall, f1 = rates(tp, fp, fn)
    kinds = sorted({p.kind for p in pairs})
    by_kind = ", ".join(f"{sum(p.kind == kind for p in pairs)} {kind}" for kind in kinds)
    print(f"{len(pairs)} pairs: {by_kind}")
    print(
        f"threshold {threshold:.3f}: precision {precision:.3f} ({tp}/{tp + fp}), "
        f"recall {recall:.3f} ({tp}/{tp + fn}), F1 {f1:.3f}"
    )
    print("\nflagged as duplicates, by kind:")
    for kind in kinds:
        of_kind = [p for p in pairs if p.kind == kind]
        flagged = sum(p.score >= threshold for p in of_kind)
        print(f"  {kind:12}{flagged:4} / {len(of_kind):<4}({flagged / len(of_kind):.0%})")
    print(f"\n{'threshold':>10}{'precision':>11}{'recall':>8}{'F1':>7}{'TP':>5}{'FP':>5}")
    for step in range(80, 101, 2):
        at = step / 100
        sweep = counts(pairs, at)
        at_precision, at_recall, at_f1 = rates(*sweep)
        print(
            f"{at:>10.2f}{at_precision:>11.3f}{at_recall:>8.3f}{at_f1:>7.3f}"
            f"{sweep[0]:>5}{sweep[1]:>5}"
        )
    wrong = [
        ("false positives", [p for p in pairs if not p.duplicate and p.score >= threshold]),
        ("false negatives", [p for p in pairs if p.duplicate and p.score < threshold]),
    ]
    for title, misses in wrong:
        print(f"\n{title} ({len(misses)}), highest score first:")
        for p in sorted(misses, key=lambda p: -p.score):
            print(f"  {p.score:.3f} {p.kind:10} {p.a!r}\n{'':18}{p.b!r}")
    return precision


def candidate_texts(pairs: list[Pair], n: int) -> list[tuple[int, str]]:
    """`n` distinct open items built from the pairs' texts (numbered once they run out)."""
    texts = list(dict.fromkeys(t for p in pairs for t in (p.a, p.b)))
    return [
        (i + 1, texts[i % len(texts)] + (f" (#{i})" if i >= len(texts) else "")) for i in range(n)
    ]


def time_best_match(pairs: list[Pair], n: int, calls: int) -> None:
    candidates = candidate_texts(pairs, n)
    queries = [p.b for p in pairs]
    for label, cold in (("cold", True), ("warm", False)):
        elapsed: list[float] = []
        for call in range(calls):
            if cold:
                normalise.cache_clear()
            started = time.perf_counter()
            best_match(queries[call % len(queries)], candidates)
            elapsed.append((time.perf_counter() - started) * 1000)
        elapsed.sort()
        print(
            f"  {label}: median {statistics.median(elapsed):.2f} ms, "
            f"p99 {elapsed[int(len(elapsed) * 0.99) - 1]:.2f} ms, max {elapsed[-1]:.2f} ms"
        )


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--pairs", type=Path, default=PAIRS, help="labelled pairs (CSV)")
    options.add_argument("--threshold", type=float, default=LOOKS_LIKE)
    options.add_argument("--candidates", type=int, default=500, help="open items per call")
    options.add_argument("--calls", type=int, default=200)
    args = options.parse_args()

    pairs = scored(load(args.pairs))
    precision = report_quality(pairs, args.threshold)
    print(f"\nbest_match against {args.candidates} candidates, {args.calls} calls:")
    time_best_match(pairs, args.candidates, args.calls)
    return 0 if precision >= MIN_PRECISION else 1


if __name__ == "__main__":
    raise SystemExit(main())
