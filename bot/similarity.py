"""Spotting that new feedback repeats an open item, so Rolecall can say "Looks like #12".

A wrong suggestion costs more than a missed one: people stop trusting (and reading) the hint, and
a +1 lands on the wrong request. So the bar is set for precision, measured on the labelled pairs in
tests/bot/data/duplicate_pairs.csv (see bench/duplicates.py): this catches the same ask retyped,
with typos, Slack markup or a few extra words, and deliberately lets most paraphrases (same ask,
different words) through as new items. Telling "export to CSV" from "import from CSV" takes
meaning, not spelling.
"""

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

LOOKS_LIKE = 0.90
"""Lowest `similarity` at which we suggest an item. WRatio gives exactly 0.90 when the shorter
text appears verbatim inside a much longer one, and at least 0.90 for the same words give or
take a typo; between its 0.855 plateau and 0.90 sit pairs with one word swapped, and on our data
those are as often a different ask ("editing" vs "deleting" comments) as the same one."""

MIN_WORDS = 3
"""Texts with fewer meaningful words than this must match as a whole: "dark mode" is contained in
"dark mode on desktop is broken", and substring credit would call that a duplicate."""

_MARKUP = re.compile(r"<([^<>]*)>")
_EMOJI = re.compile(r":(?:[+-]1|[a-z0-9_+'-]*[a-z][a-z0-9_+'-]*):")  # a letter: not a time
_ENTITY = re.compile(r"&(amp|lt|gt);")
_APOSTROPHE = re.compile("['\u2019]")  # straight or curly: "don't" → "dont"
_NON_WORD = re.compile(r"[\W_]+")
_LABEL = re.compile(r"\s*(?:feedback|customer quote|idea|request)\s*:")
_WISH = re.compile(r"would be (?:nice|great|good|awesome)\b")  # "it" and "if" are stopwords
# Glue words only. Negations (not, no, never, without, cant) stay: they flip the ask.
_GLUE = """a an the to for of in on at is are be been being it its this that these those and or
    but so as by with from into i we you they he she me us our my your their them his her please
    pls plz would could can should will just also really very some any all there here if have has
    had do does did get got need needs want wants like"""
_STOPWORDS = frozenset(_GLUE.split())


@lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """Lowercase words of `text` without Slack markup, emoji, punctuation, filler or stopwords.

    Mentions, channel links and bare URLs are dropped (who said it and where is not the ask); a
    labelled link keeps its label. Plurals lose their `s` so "task" and "tasks" agree. Cached:
    a team's open items are compared again every time someone files feedback.
    """
    text = _MARKUP.sub(_markup_label, text)
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text).casefold()
    text = _EMOJI.sub(" ", text)
    if label := _LABEL.match(text):
        text = text[label.end() :]
    text = _NON_WORD.sub(" ", _APOSTROPHE.sub("", _WISH.sub(" ", text)))
    return " ".join(_singular(word) for word in text.split() if word not in _STOPWORDS)


def similarity(a: str, b: str) -> float:
    """How alike two feedback texts are, from 0 (nothing shared) to 1 (the same once normalised)."""
    return _score(normalise(a), normalise(b))


def best_match(
    text: str, candidates: Sequence[tuple[int, str]], threshold: float = LOOKS_LIKE
) -> tuple[int, float] | None:
    """The (id, score) of the candidate most like `text`, if any reaches `threshold`.

    Candidates are (item id, text) pairs, say the team's open feedback. On a tie the lower id wins:
    the older item is the one people have been +1-ing.
    """
    query = normalise(text)
    best: tuple[int, float] | None = None
    for item_id, candidate in candidates:
        score = _score(query, normalise(candidate), threshold)
        if score >= threshold and (
            best is None or score > best[1] or (score == best[1] and item_id < best[0])
        ):
            best = (item_id, score)
    return best


def _score(a: str, b: str, cutoff: float = 0.0) -> float:
    """`similarity` of two normalised texts; 0 when below `cutoff` (lets rapidfuzz stop early)."""
    if not a or not b:
        return 0.0
    # A hair under, so that float rounding (0.07 * 100 == 7.000000000000001) cannot turn away a
    # score exactly at the threshold; callers still compare the score to it.
    percent = max(0.0, cutoff * 100 - 1e-6)
    if min(a.count(" "), b.count(" ")) + 1 < MIN_WORDS:
        # Whole against whole: no credit for being part of, or a subset of, the other text.
        return fuzz.token_sort_ratio(a, b, score_cutoff=percent) / 100
    return fuzz.WRatio(a, b, score_cutoff=percent) / 100


def _markup_label(match: re.Match[str]) -> str:
    """A Slack `<...>` token as plain words: a link's label, or nothing."""
    body = match.group(1)
    if body.startswith(("@", "#", "!")) or "|" not in body:
        return " "
    return " " + body.split("|", 1)[1] + " "


def _singular(word: str) -> str:
    """Crude plural folding ("reports" → "report"), enough for near-identical texts to agree."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
