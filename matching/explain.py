"""Why a document matched a description: shared missions, shared objectives, and the best pair of passages.

The description is read once (sentences, objective statements, mission labels, sentence vectors); each hit
is then explained with its stored missions and objectives and its best passage. Vectors are the index's own
embedder, so "alike" means what it means in retrieval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convergenze.core.embedding import Embedder
from convergenze.core.generations import PerGeneration
from convergenze.core.payload import EXPLAINED_OBJECTIVES, objective_texts
from convergenze.core.records import Hit, MissionLabel, PassagePair
from convergenze.extractors.missions import MissionClassifier
from convergenze.extractors.objectives import LANGUAGES, ObjectiveExtractor, blank_pipeline
from convergenze.index.store.base import VectorStore
from convergenze.index.text_vectors import TextVectors


@dataclass(slots=True)
class ReadDescription:
    """A caller's text, read once per request."""

    text: str
    language: str
    query_vector: np.ndarray  # the text as a search query, for the search that follows the reading
    sentences: list[str]
    sentence_vectors: np.ndarray
    missions: list[MissionLabel]
    objectives: list[str]


@dataclass(slots=True)
class Explanation:
    missions: list[dict[str, Any]] = field(default_factory=list)
    objectives: list[PassagePair] = field(default_factory=list)
    passages: list[PassagePair] = field(default_factory=list)


class Explainer:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore | None = None,
        classifier: MissionClassifier | None = None,
        objectives: ObjectiveExtractor | None = None,
        max_sentences: int = 40,
        max_objectives: int = EXPLAINED_OBJECTIVES,
        min_objective_score: float = 0.8,
        objective_vectors: TextVectors | None = None,
    ) -> None:
        if max_sentences < 1 or max_objectives < 1:
            raise ValueError("max_sentences and max_objectives must be at least 1.")
        self.embedder = embedder
        self.store = store  # where the hits' passage vectors are read back instead of embedding them again
        self.classifier = classifier
        self.objectives = objectives or ObjectiveExtractor()
        self.max_sentences = max_sentences
        self.max_objectives = max_objectives
        self.min_objective_score = min_objective_score
        self.stored_objective_vectors = objective_vectors  # embedded by the ingestion (``TextVectors``)
        self._nlp: dict[str, Any] = {}
        # The hits' objectives' vectors, as the ingestion stored them or embedded here: the same calls come back
        # request after request. Kept until the index changes.
        self._objective_vectors: PerGeneration[str, np.ndarray] = PerGeneration(
            store.version if store is not None else _unversioned, 4096)

    def read(self, text: str, language: str | None) -> ReadDescription:
        """The text embedded as a query (for the search that follows and its mission labels) and its sentences
        as passages (to pair with the hits' passages), in one model call where the embedder can."""
        lang = language if language in LANGUAGES else "it"
        if lang not in self._nlp:
            self._nlp[lang] = blank_pipeline(lang)
        nlp = self._nlp[lang]
        sentences = [s.text.strip() for s in nlp(text[:50_000]).sents if len(s.text.strip()) > 20]
        sentences = sentences[: self.max_sentences] or [text.strip()[:2000]]
        query_vector, vectors = self.embedder.embed_query_and_passages(text, sentences)
        missions = self.classifier.classify_text(text, lang, query_vector) if self.classifier else []
        objectives = [o.text for o in self.objectives.run(text, language=lang)][: self.max_objectives]
        return ReadDescription(text, lang, query_vector, sentences, vectors, missions, objectives)

    def run(self, read: ReadDescription, hits: list[Hit]) -> list[Explanation]:
        """One explanation per hit, in order. The hits' passages are compared through their stored vectors
        (embedding ten passages again cost a second a request); objectives are short, embedded in one batch and
        kept until the index changes."""
        stored = self.store.dense_vectors([h.point_id for h in hits]) if self.store else {}
        slots: list[tuple[int, str, str]] = []  # (hit index, "passage" | "objective", text)
        for i, hit in enumerate(hits):
            slots.append((i, "passage", hit.snippet))
            for objective in objective_texts(hit.payload.get("metadata") or {}, self.max_objectives):
                slots.append((i, "objective", objective))
        objectives = iter(self._objective_vectors.get_many(
            [text for _, kind, text in slots if kind == "objective"], self._objectives))
        embedded = iter(self._embed_many(
            [text for i, kind, text in slots if kind == "passage" and hits[i].point_id not in stored]))

        def vector(i: int, kind: str) -> Any:
            if kind == "objective":
                return next(objectives)
            return stored[hits[i].point_id] if hits[i].point_id in stored else next(embedded)

        dim = read.sentence_vectors.shape[1]
        vectors = np.array([vector(i, kind) for i, kind, _ in slots], dtype=np.float32).reshape(len(slots), dim)
        similarity = vectors @ read.sentence_vectors.T
        out = [Explanation(missions=_shared_missions(read.missions, hit)) for hit in hits]
        for row, (i, kind, text) in enumerate(slots):
            best = int(np.argmax(similarity[row]))
            pair = PassagePair(query=read.sentences[best], document=text, score=round(float(similarity[row, best]), 4))
            if kind == "passage":
                out[i].passages.append(pair)
            elif pair.score >= self.min_objective_score:
                out[i].objectives.append(pair)
        for explanation in out:
            explanation.objectives.sort(key=lambda p: -p.score)
            del explanation.objectives[2:]
        return out


    def _embed_many(self, texts: list[str]) -> list[np.ndarray]:
        return list(self.embedder.embed_passages(texts)) if texts else []

    def _objectives(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of objectives: those the ingestion stored, the others embedded now."""
        stored = self.stored_objective_vectors.get_many(texts) if self.stored_objective_vectors else {}
        embedded = iter(self._embed_many([t for t in texts if t not in stored]))
        return [stored[t] if t in stored else next(embedded) for t in texts]


def _unversioned() -> None:
    """Without a store there is no generation: vectors of a text stay what they are, kept up to the bound."""
    return None


def _shared_missions(mine: list[MissionLabel], hit: Hit) -> list[dict[str, Any]]:
    theirs = {(m.get("framework"), m.get("code")): m for m in (hit.payload.get("metadata") or {}).get("missions") or []
              if isinstance(m, dict)}
    shared = []
    for label in mine:
        other = theirs.get((label.framework, label.code))
        if other is not None:
            shared.append({"framework": label.framework, "code": label.code, "label": label.label,
                           "score": round(min(label.score, float(other.get("score", 0.0))), 3),
                           "evidence": list(other.get("evidence") or [])[:1]})
    return shared
