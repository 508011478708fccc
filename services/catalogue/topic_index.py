"""The topic index: the stems of the active topics' names in fi, sv and en and of their
synonyms, searched word by word (`similarity`: equal stems, a partial word, an inflected form, a
compound's part), rebuilt only when a topic changes. Finding hosts and suggesting topics use it."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Topic, TopicStatus
from services.common.words import words

SYNONYM_WEIGHT = 0.9
WORD_CUTOFF = 0.75  # per query word, matches much weaker than its best match are dropped


def similarity(query: str, term: str) -> float:
    """How well one query stem matches one index stem, 0..1."""
    if query == term:
        return 1.0
    short, long_ = (query, term) if len(query) <= len(term) else (term, query)
    ratio = len(short) / len(long_)
    if long_.startswith(short):
        if short is query and len(short) >= 3:  # a partial word
            return 0.5 + 0.5 * ratio
        if short is term and len(short) >= 4:  # an inflected form or a compound's first part
            return 0.2 + 0.8 * ratio * ratio
    if len(short) >= 4 and short in long_:
        return 0.3 + 0.4 * ratio
    return 0.0


# --- the topic index ------------------------------------------------------------------------
@dataclass(frozen=True)
class TopicIndex:
    """All index stems of the active topics in one string, to search them with C-speed `find`."""

    terms: tuple[str, ...]
    postings: tuple[tuple[tuple[int, float], ...], ...]  # per term: (topic id, weight)
    blob: str
    starts: tuple[int, ...]
    by_term: dict[str, int]

    def score(self, query_words: Sequence[str]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for q in query_words:
            best: dict[int, float] = {}
            for i in self._candidates(q):
                s = similarity(q, self.terms[i])
                if s <= 0:
                    continue
                for topic_id, weight in self.postings[i]:
                    if s * weight > best.get(topic_id, 0.0):
                        best[topic_id] = s * weight
            cutoff = WORD_CUTOFF * max(best.values(), default=0.0)
            for topic_id, s in best.items():
                if s >= cutoff:
                    scores[topic_id] += s
        return dict(scores)

    def _candidates(self, q: str) -> set[int]:
        found: set[int] = set()
        if q in self.by_term:
            found.add(self.by_term[q])
        if len(q) >= 3:  # index terms containing q (prefix or compound part)
            at = self.blob.find(q)
            while at != -1:
                found.add(bisect_right(self.starts, at) - 1)
                at = self.blob.find(q, at + 1)
        for length in range(4, len(q)):  # index terms inside q (q is a compound or inflected)
            for begin in range(0, len(q) - length + 1):
                i = self.by_term.get(q[begin : begin + length])
                if i is not None:
                    found.add(i)
        return found


TopicRow = tuple[int, str, str, str, str]


def build_index(rows: Iterable[TopicRow]) -> TopicIndex:
    postings: dict[str, dict[int, float]] = defaultdict(dict)
    for topic_id, name_fi, name_sv, name_en, synonyms in rows:
        for text, weight in ((name_fi, 1.0), (name_sv, 1.0), (name_en, 1.0), (synonyms, SYNONYM_WEIGHT)):
            for term in words(text):
                if weight > postings[term].get(topic_id, 0.0):
                    postings[term][topic_id] = weight
    terms = tuple(postings)
    starts: list[int] = []
    at = 0
    for term in terms:
        starts.append(at)
        at += len(term) + 1
    return TopicIndex(
        terms=terms,
        postings=tuple(tuple(postings[t].items()) for t in terms),
        blob="\n".join(terms),
        starts=tuple(starts),
        by_term={t: i for i, t in enumerate(terms)},
    )


_index_cache: dict[tuple[TopicRow, ...], TopicIndex] = {}


def topic_index(session: Session) -> TopicIndex:
    """The index of the active topics, rebuilt only when a topic's names or status changed."""
    rows = tuple(
        (row[0], row[1], row[2], row[3], row[4])
        for row in session.execute(
            select(Topic.id, Topic.name_fi, Topic.name_sv, Topic.name_en, Topic.synonyms)
            .where(Topic.status == TopicStatus.ACTIVE)
            .order_by(Topic.id)
        )
    )
    index = _index_cache.get(rows)
    if index is None:
        if len(_index_cache) > 8:
            _index_cache.clear()
        index = _index_cache[rows] = build_index(rows)
    return index
