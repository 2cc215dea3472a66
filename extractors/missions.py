"""Where a document sits on the mission taxonomy (corpora/taxonomy/missions.yaml): the six Convergenze
transition missions, PNRR missions and components, the SDGs, cohesion policy objectives and Horizon Europe.

What is known is used first, in this order, and a framework that it covers is not guessed from the text:

1. official codes of the source: a PNRR record's mission/component/sub-measure codes; an EU topic's call
   identifier or cluster (HORIZON-CL5-... -> CL5, HORIZON-MISS-...-CANCER-... -> the Cancer mission) and, for
   programmes whose regulation states the mission (LIFE -> climate), the programme (score 1.0, "official");
2. the official PNRR -> SDG mapping, by sub-measure (the prevalent goal 1.0, the others ``secondary_sdg_score``);
3. crosswalks from those codes to the other frameworks (score times ``crosswalk_weight``), and from a source's own
   objectives (incentivi.gov.it's "Obiettivo/Finalità", scored by the taxonomy's weight; these leave the framework
   open to the text, whose labels are added beside them);
4. elsewhere the text: embedding prototypes (label + description + cue terms of each entry) and cue terms.

Text scores, per framework. A passage's margin for an entry is its cosine to the entry's prototypes minus the
prototype's mean cosine to procedural boilerplate (``BACKGROUND``: each prototype's bias) minus the passage's
mean over the framework's entries: e5 cosines sit in a narrow band (0.78-0.89), so only a margin over the
siblings says anything. The boilerplate also gives the null: the best margin text about no mission reaches
(mean m0, spread s0, per framework and per embedding mode). The embedding score is a logistic of the best
passage's margin, centred at m0 + (``null_sigmas`` + sqrt(2 ln n)) * s0 for n passages (the best of n passages
beats the null by chance more often), with slope 1/s0. Cue terms score 1 - 0.5**hits (distinct terms, repeats a
quarter), damped by their share of the strongest entry of the same level. The two combine as a noisy-or; an
entry is kept above ``threshold`` and at least ``relative`` times the best of its level (PNRR missions and
components are ranked separately), at most ``max_model_labels`` per level. Measured in benchmarks/missions.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convergenze.core.embedding import Embedder
from convergenze.core.records import Document, MissionLabel
from convergenze.core.settings import DataSettings
from convergenze.core.vocabulary import LabelSource, MissionFramework

from .mission_cues import BACKGROUND, CueIndex, Hits
from .mission_vote import MissionVote, Voted, own_groups
from .objectives import LANGUAGES
from .taxonomy import SDG_MAPPING_FILE, Key, Taxonomy, TaxonomyEntry, read_sdg_mapping

_TRUST = list(LabelSource)  # most trusted first
_FRAMEWORK_ORDER = list(MissionFramework)


@dataclass(frozen=True, slots=True)
class Calibration:
    prototypes: np.ndarray  # entries x languages x dim
    bias: np.ndarray  # per entry: mean cosine to the background
    null_mean: float  # the best margin background text reaches: mean and spread
    null_std: float


@dataclass(slots=True)
class _Known:
    score: float
    source: str
    evidence: list[str] = field(default_factory=list)


class MissionClassifier:
    """``run(document)`` -> the document's labels in all five frameworks (see the module's docstring)."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder | None = None,
        sdg_mapping: dict[str, list[tuple[str, bool]]] | None = None,
        threshold: float = 0.5,
        *,
        secondary_sdg_score: float = 0.8,
        crosswalk_weight: float = 0.9,
        null_sigmas: float = 2.0,
        relative: float = 0.8,
        max_model_labels: int = 3,
        max_evidence: int = 3,
        max_passages: int = 32,
        model_frameworks: Sequence[str] = tuple(MissionFramework),
        cues: CueIndex | None = None,
        vote: MissionVote | None = None,
    ) -> None:
        for name, value in (
            ("threshold", threshold),
            ("secondary_sdg_score", secondary_sdg_score),
            ("crosswalk_weight", crosswalk_weight),
            ("relative", relative),
        ):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}.")
        if max_model_labels < 1 or max_evidence < 1 or max_passages < 1:
            raise ValueError("max_model_labels, max_evidence and max_passages must be at least 1.")
        if unknown := set(model_frameworks) - set(MissionFramework):
            raise ValueError(f"model_frameworks {sorted(unknown)} are not among {[f.value for f in MissionFramework]}.")
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.sdg_mapping = sdg_mapping or {}
        self.threshold = threshold
        self.secondary_sdg_score = secondary_sdg_score
        self.crosswalk_weight = crosswalk_weight
        self.null_sigmas = null_sigmas
        self.relative = relative
        self.max_model_labels, self.max_evidence, self.max_passages = (
            max_model_labels,
            max_evidence,
            max_passages,
        )
        self.model_frameworks = tuple(model_frameworks)
        self.cues = cues or CueIndex(taxonomy)
        self.vote = vote
        self._embedded: dict[str, np.ndarray] = {}  # embedding_inputs()' vectors, by name
        self._calibrations: dict[tuple[str, str], Calibration] = {}  # (framework, "passage" | "query")

    @classmethod
    def from_settings(cls, embedder: Embedder | None, data: DataSettings, **options: Any) -> MissionClassifier:
        """The default taxonomy and, when the mirror has it, the official PNRR -> SDG mapping."""
        path = data.corpora_dir / SDG_MAPPING_FILE
        return cls(Taxonomy.load(), embedder, read_sdg_mapping(path) if path.is_file() else None, **options)

    # --- public API ----------------------------------------------------------------------------------------

    def run(
        self,
        document: Document,
        passage_vectors: np.ndarray | None = None,
        *,
        passage_texts: Sequence[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[MissionLabel]:
        """Labels of ``document``. ``passage_vectors`` are its chunk embeddings from the indexer (same embedder);
        ``passage_texts``, the chunks' texts, only let a model label quote its best passage. The vote's examples
        of ``own_groups(document)`` and of the groups in ``exclude`` do not vote."""
        lang = document.language if document.language in LANGUAGES else "it"
        known: dict[Key, _Known] = {}
        self._official(document, known)
        self._mapped(document, known)
        self._crosswalked(known)
        closed = {f for f, _ in known}  # a source's own objectives label a framework without closing it to the text
        self._objectives(document, known)
        labels = [
            MissionLabel(MissionFramework(fw), code, self.taxonomy.label(fw, code, lang), round(k.score, 4), k.evidence,
                         LabelSource(k.source))
            for (fw, code), k in known.items()
        ]
        open_frameworks = [fw for fw in self.model_frameworks if fw not in closed]
        if open_frameworks:
            vectors, texts = self._document_vectors(document, passage_vectors, passage_texts)
            parts = [(s.text, s.language or document.language) for s in document.sections]
            if document.title not in document.text[: len(document.title) + 200]:  # connectors often repeat it
                parts.insert(0, (document.title, document.language))
            groups = own_groups(document) | set(exclude)
            found = self._model(parts, vectors, texts, open_frameworks, lang, exclude=groups)
            labels += [label for label in found if (label.framework, label.code) not in known]
        return _sorted(labels)

    def run_sections(
        self,
        document: Document,
        section_vectors: Sequence[np.ndarray] | None = None,
        section_texts: Sequence[Sequence[str]] | None = None,
    ) -> list[list[MissionLabel]]:
        """Text-only labels of each section (official codes belong to the whole document, not to a section).
        ``section_vectors[i]`` are section i's passage vectors from the indexer and ``section_texts[i]`` their
        texts (one per vector, quoted as evidence); without vectors each section is embedded whole here."""
        texts = [self._passage(document.title, s.heading, s.text) for s in document.sections]
        if section_vectors is not None:
            passages = section_texts or [[texts[i]] * len(v) for i, v in enumerate(section_vectors)]
            if len(section_vectors) != len(document.sections) or any(
                len(v) != len(t) for v, t in zip(section_vectors, passages, strict=True)
            ):
                raise ValueError("section_vectors and section_texts need one entry per section, one text per vector.")
            lang = document.language if document.language in LANGUAGES else "it"
            return [
                _sorted(
                    self._model(
                        [(s.text, s.language or document.language)],
                        section_vectors[i],
                        list(passages[i]),
                        self.model_frameworks,
                        lang,
                        exclude=own_groups(document),
                    )
                )
                for i, s in enumerate(document.sections)
            ]
        vectors = self.embedder.embed_passages(texts) if self.embedder and texts else None
        lang = document.language if document.language in LANGUAGES else "it"
        return [
            _sorted(
                self._model(
                    [(s.text, s.language or document.language)],
                    None if vectors is None else vectors[i : i + 1],
                    [texts[i]],
                    self.model_frameworks,
                    lang,
                    exclude=own_groups(document),
                )
            )
            for i, s in enumerate(document.sections)
        ]

    def classify_text(
        self, text: str, language: str | None = None, query_vector: np.ndarray | None = None
    ) -> list[MissionLabel]:
        """Text-only labels of a query or a project description (embedded as a query, unless the caller
        already has its query vector from the same embedder)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("classify_text needs a non-empty text (a query or a project description).")
        if query_vector is not None:
            vectors: np.ndarray | None = np.asarray(query_vector, dtype=np.float32).reshape(1, -1)
        else:
            vectors = self.embedder.embed_queries([text]) if self.embedder else None
        lang = language if language in LANGUAGES else "it"
        return _sorted(self._model([(text, language)], vectors, [text], self.model_frameworks, lang, "query"))

    # --- what is known -------------------------------------------------------------------------------------

    def _put(self, known: dict[Key, _Known], key: Key, score: float, source: str, evidence: str) -> None:
        current = known.get(key)
        if current is None or _TRUST.index(LabelSource(source)) < _TRUST.index(LabelSource(current.source)):
            known[key] = _Known(score, source, [evidence])
        elif current.source == source:
            current.score = max(current.score, score)
            if evidence not in current.evidence and len(current.evidence) < self.max_evidence:
                current.evidence.append(evidence)

    @staticmethod
    def _submeasures(meta: dict[str, Any]) -> list[str]:
        codes = [meta.get("submeasure_code"), *(meta.get("submeasure_codes") or ())]
        return list(dict.fromkeys(c.strip() for c in codes if isinstance(c, str) and c.strip()))

    def _official(self, document: Document, known: dict[Key, _Known]) -> None:
        meta = document.metadata
        found = [(name, meta.get(name)) for name in ("mission_code", "component_code")]
        found += [("mission_codes", c) for c in meta.get("mission_codes") or ()]
        found += [("submeasure_code", c) for s in self._submeasures(meta) for c in (s[:2], s[:4])]
        for name, code in found:
            code = code.strip().upper() if isinstance(code, str) else ""
            if self.taxonomy.has("pnrr", code) and ("pnrr", code) not in known:
                self._put(known, ("pnrr", code), 1.0, "official", f"{name}: {code}")
        identifiers = [str(meta[k]) for k in ("call_identifier", "topic_id") if meta.get(k)]
        programmes = meta.get("programme") or []
        programmes = [programmes] if isinstance(programmes, str) else [str(p) for p in programmes]
        heads = {i.split("-", 1)[0].upper() for i in identifiers}
        for rule in self.taxonomy.programmes:
            if heads & {i.upper() for i in rule.identifiers} or {p.lower() for p in programmes} & {
                n.lower() for n in rule.names
            }:
                for target in rule.targets:
                    self._put(known, target, 1.0, "official", f"programme: {', '.join(programmes or identifiers)}")
        if "HORIZON" not in heads and not any(p.lower().startswith("horizon") for p in programmes):
            return
        parts = {p.upper() for i in identifiers for p in i.split("-")} | {str(meta.get("cluster") or "").upper()}
        matched = False
        for entry in self.taxonomy.entries("horizon"):
            is_mission = entry.code.startswith("MISS-")
            if set(entry.ids) & parts and (not is_mission or "MISS" in parts):
                matched |= is_mission
                self._put(known, ("horizon", entry.code), 1.0, "official", f"call_identifier: {identifiers[0]}")
        if "MISS" in parts and not matched:  # a mission call whose id does not name the mission: its text does
            text = f"{document.title}\n{document.text[:20_000]}".lower()
            for entry in self.taxonomy.entries("horizon"):
                if any(alias in text for alias in entry.aliases):
                    self._put(known, ("horizon", entry.code), 1.0, "official", "mission named in the text")

    def _mapped(self, document: Document, known: dict[Key, _Known]) -> None:
        for submeasure in self._submeasures(document.metadata):
            for goal, prevalent in self.sdg_mapping.get(submeasure, ()):
                if self.taxonomy.has("sdg", goal):
                    score = 1.0 if prevalent else self.secondary_sdg_score
                    note = f"PNRR-SDG mapping: {submeasure} -> {goal}" + (" (prevalent)" if prevalent else "")
                    self._put(known, ("sdg", goal), score, "mapping", note)

    def _crosswalked(self, known: dict[Key, _Known]) -> None:
        sources = [(key, k) for key, k in known.items() if k.source in ("official", "mapping")]
        present = {key for key, _ in sources}
        for (framework, code), value in sources:
            # A component is more specific than its mission: "M5C3" is territorial, "M5" welfare and work.
            if any(
                ("pnrr", child.code) in present
                for child in self.taxonomy.entries(framework)
                if framework == "pnrr" and child.parent == code
            ):
                continue
            for target in self.taxonomy.crosswalk(framework, code):
                why = self.taxonomy.rationale(framework, code)
                self._put(
                    known,
                    target,
                    value.score * self.crosswalk_weight,
                    "crosswalk",
                    f"{framework} {code} -> {target[0]} {target[1]}: {why}",
                )

    def _objectives(self, document: Document, known: dict[Key, _Known]) -> None:
        """The source's own objectives through the taxonomy's ``objectives`` crosswalk, scored by its weight."""
        meta = document.metadata
        vocabulary = meta.get("topics_vocabulary")
        if not isinstance(vocabulary, str):
            return
        for value in meta.get("topics") or ():
            rule = self.taxonomy.objective(vocabulary, str(value))
            if rule is None or rule.weight <= 0:
                continue
            for target in rule.targets:
                why = f"objective: {value} -> {target[0]} {target[1]}: {rule.why}"
                self._put(known, target, rule.weight, LabelSource.CROSSWALK, why)

    # --- what the text says ----------------------------------------------------------------------------------

    @staticmethod
    def _passage(title: str, heading: str | None, text: str, max_chars: int = 1500) -> str:
        return f"{title}\n{heading + ': ' if heading else ''}{text[:max_chars]}".strip()

    def _document_vectors(
        self, document: Document, vectors: np.ndarray | None, texts: Sequence[str] | None
    ) -> tuple[np.ndarray | None, list[str] | None]:
        if vectors is None:
            if self.embedder is None:
                return None, None
            passages = [self._passage(document.title, s.heading, s.text) for s in document.sections if s.text]
            passages = passages[: self.max_passages] or [document.title]
            return self.embedder.embed_passages(passages), passages
        if self.embedder is None:
            raise ValueError("passage_vectors need the embedder that produced them: pass it to MissionClassifier.")
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.embedder.dim:
            raise ValueError(f"passage_vectors must have shape (n, {self.embedder.dim}); got {array.shape}.")
        if texts is not None and len(texts) != len(array):
            raise ValueError(f"passage_texts has {len(texts)} texts for {len(array)} vectors; pass one per vector.")
        return array[: self.max_passages], None if texts is None else list(texts)[: self.max_passages]

    def embedding_inputs(self) -> dict[str, tuple[str, list[str]]]:
        """What calibrating the model frameworks embeds, by name: (``query`` | ``passage``, texts). The same for
        every process with this taxonomy, so a cache of their vectors spares a new one the model work."""
        inputs = {f"prototypes:{f}": ("query", self._prototype_texts(f)) for f in self.model_frameworks}
        return inputs | {f"background:{mode}": (mode, list(BACKGROUND)) for mode in ("passage", "query")}

    def preload(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Vectors of ``embedding_inputs()`` embedded earlier by this classifier's embedder."""
        self._embedded.update(vectors)
        self._calibrations.clear()

    def _prototype_texts(self, framework: str) -> list[str]:
        return [e.prototype(lang) for e in self.taxonomy.entries(framework) for lang in LANGUAGES]

    def _embedded_input(self, name: str, mode: str, texts: Callable[[], list[str]]) -> np.ndarray:
        if name not in self._embedded:
            if self.embedder is None:
                raise ValueError("embedding prototypes needs an embedder: pass one to MissionClassifier.")
            embed = self.embedder.embed_queries if mode == "query" else self.embedder.embed_passages
            self._embedded[name] = embed(texts())
        return self._embedded[name]

    def calibration(self, framework: str, mode: str = "passage") -> Calibration:
        """Prototypes of ``framework``, their bias and null margins for texts embedded as ``mode``; built once."""
        if mode not in ("passage", "query"):
            raise ValueError(f"mode {mode!r} must be 'passage' (documents) or 'query' (classify_text).")
        if (framework, mode) not in self._calibrations:
            entries = self.taxonomy.entries(framework)
            prototypes = self._embedded_input(
                f"prototypes:{framework}", "query", lambda: self._prototype_texts(framework)
            ).reshape(len(entries), len(LANGUAGES), -1)
            background = self._embedded_input(f"background:{mode}", mode, lambda: list(BACKGROUND))
            sims = np.einsum("bd,eld->bel", background, prototypes).max(axis=2)
            bias = sims.mean(axis=0)
            null = (sims - bias).max(axis=1) - (sims - bias).mean(axis=1)
            self._calibrations[(framework, mode)] = Calibration(prototypes, bias, float(null.mean()), float(null.std()))
        return self._calibrations[(framework, mode)]

    def margins(self, framework: str, vectors: np.ndarray, mode: str = "passage") -> np.ndarray:
        """Per passage and entry: debiased cosine minus the passage's mean over the framework's entries."""
        calibration = self.calibration(framework, mode)
        sims = np.einsum("nd,eld->nel", vectors, calibration.prototypes).max(axis=2) - calibration.bias
        return np.asarray(sims - sims.mean(axis=1, keepdims=True))

    def text_scores(
        self,
        parts: Sequence[tuple[str, str | None]],
        vectors: np.ndarray | None,
        frameworks: Sequence[str],
        mode: str = "passage",
        hits: dict[Key, Hits] | None = None,
    ) -> dict[str, TextScores]:
        """Embedding, cue and combined scores of every entry of ``frameworks`` (what labels are cut from);
        ``hits``: the cue terms found in ``parts``, when the caller has them already."""
        hits = self.cues.run(parts, self.max_evidence) if hits is None else hits
        result = {}
        for framework in frameworks:
            entries = self.taxonomy.entries(framework)
            found = [hits.get((framework, e.code)) for e in entries]
            strength = np.array([len(h.terms) + 0.25 * (h.count - len(h.terms)) if h else 0.0 for h in found])
            # Damped by the share of the best label of the same level (PNRR missions and components compete
            # within their level: a mission's own cues must not silence its components).
            level = np.array([entry.parent is not None for entry in entries])
            top = np.array([strength[level == lv].max() for lv in level])
            cue = (1 - 0.5**strength) * np.sqrt(strength / np.maximum(top, 1e-9))
            emb, best = np.zeros(len(entries)), np.zeros(len(entries), dtype=int)
            if vectors is not None and len(vectors):
                margins = self.margins(framework, vectors, mode)
                calibration = self.calibration(framework, mode)
                # The best of n passages beats the null more often by chance: expected maximum of n normals.
                sigmas = self.null_sigmas + (np.sqrt(2 * np.log(len(vectors))) if len(vectors) > 1 else 0.0)
                threshold = calibration.null_mean + sigmas * calibration.null_std
                emb = 1 / (1 + np.exp(-(margins.max(axis=0) - threshold) / calibration.null_std))
                best = margins.argmax(axis=0)
            score = 1 - (1 - emb) * (1 - cue)
            for child, entry in enumerate(entries):  # a component's evidence is its mission's too
                if entry.parent:
                    parent = next(i for i, e in enumerate(entries) if e.code == entry.parent)
                    score[parent] = max(score[parent], score[child])
            result[framework] = TextScores(entries, score, emb, cue, best, found)
        return result

    def _model(
        self,
        parts: Sequence[tuple[str, str | None]],
        vectors: np.ndarray | None,
        texts: list[str] | None,
        frameworks: Sequence[str],
        lang: str,
        mode: str = "passage",
        exclude: Collection[str] = (),
    ) -> list[MissionLabel]:
        """Labels from the text: the vote where it labels a framework, else the prototypes and cue terms."""
        hits = self.cues.run(parts, self.max_evidence)
        voted: dict[str, list[Voted]] = {}
        if self.vote is not None and vectors is not None and len(vectors):
            voted = self.vote.predict(self.vote.document_vector(vectors), exclude, frameworks)
        labels = [self._voted_label(v, hits, lang) for found in voted.values() for v in found]
        rest = [fw for fw in frameworks if fw not in voted]
        for framework, scores in self.text_scores(parts, vectors, rest, mode, hits).items():
            # A second label must be nearly as strong as the first: Horizon topics have one cluster, and
            # long texts touch many themes (benchmarks/missions.py: precision 0.51 -> 0.70 at recall 0.99).
            level = np.array([entry.parent is not None for entry in scores.entries])
            chosen = []
            for lv in sorted(set(level.tolist())):
                indices = np.flatnonzero(level == lv)
                ranked = indices[np.argsort(-scores.score[indices], kind="stable")][: self.max_model_labels]
                cut = max(self.threshold, self.relative * float(scores.score[ranked[0]]))
                chosen += [i for i in ranked if scores.score[i] >= cut]
            for index in chosen:
                entry, found = scores.entries[index], scores.hits[index]
                evidence = (
                    list(found.sentences)
                    if found and found.sentences
                    else ([texts[scores.best[index]][:300]] if texts else [])
                )
                source = LabelSource.CUES if scores.cue[index] >= scores.emb[index] else LabelSource.MODEL
                labels.append(
                    MissionLabel(
                        MissionFramework(framework),
                        entry.code,
                        entry.labels[lang],
                        round(float(scores.score[index]), 4),
                        evidence,
                        source,
                    )
                )
        return labels


    def _voted_label(self, voted: Voted, hits: dict[Key, Hits], lang: str) -> MissionLabel:
        """A voted label quotes the nearest examples that voted for it, then the cue sentences, if any."""
        found = hits.get((voted.framework, voted.code))
        evidence = [f"similar example ({n.similarity:.2f}): {n.title}" for n in voted.neighbours]
        evidence += list(found.sentences) if found else []
        return MissionLabel(MissionFramework(voted.framework), voted.code,
                            self.taxonomy.label(voted.framework, voted.code, lang), min(1.0, voted.share),
                            evidence, LabelSource.EXAMPLES)


@dataclass(frozen=True, slots=True)
class TextScores:
    entries: list[TaxonomyEntry]
    score: np.ndarray
    emb: np.ndarray
    cue: np.ndarray
    best: np.ndarray  # per entry: the passage that matches it best
    hits: list[Hits | None]


def _sorted(labels: list[MissionLabel]) -> list[MissionLabel]:
    return sorted(labels, key=lambda m: (_FRAMEWORK_ORDER.index(m.framework), -m.score, m.code))
