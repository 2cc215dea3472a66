"""The labelled examples the mission vote (``convergenze.extractors.mission_vote``) reads, built from the corpora
mirror and embedded once per embedder.

Every example's labels come from official codes through ``MissionClassifier``'s official path and crosswalks,
never from its text: the PNRR sub-measures' descriptions (QuadroFin) and a seeded sample of funded projects
per sub-measure under that sub-measure's codes and the official PNRR -> SDG mapping; the incentives of
incentivi.gov.it under their official objectives; the Horizon Europe topics under their call identifier (the
mean of their first passages, embedded as the indexer embeds them).

The vectors are cached under ``<models dir>/mission-examples/``, named by the embedder's identity and a hash of
the examples' content (texts, labels, groups): another model, another backend or another mirror builds them
again, an unchanged one loads them. Parts the mirror lacks are left out with a logged reason; with no example
at all the labeller keeps its prototypes and cue terms.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from convergenze.core.embedding import Embedder
from convergenze.core.records import Document, Section
from convergenze.core.settings import DataSettings
from convergenze.core.vocabulary import DocType
from convergenze.corpora.connectors.base import SourceSpec
from convergenze.corpora.connectors.eu_topics import EuTopicsConnector
from convergenze.corpora.registry import (
    SourceResolver,
    SourceUnavailable,
    build_connector,
    load_sources,
    select_sources,
)
from convergenze.extractors.mission_vote import Label, LabelledExamples, MissionVote, VoteConfig, call_group
from convergenze.extractors.missions import MissionClassifier

from .chunking import Chunker
from .indexer import embedding_text

log = logging.getLogger(__name__)

QUADRO_FILE = Path("italia-domani") / "OpenData_PNRR_QuadroFin_Programmazione_v04.csv"
PROJECTS_FILE = Path("italia-domani") / "PNRR_Progetti_validati.parquet"
TOPICS_FILE = Path("eu-funding-tenders") / "topics.json"
INCENTIVES_SOURCE = "incentivi-gov"
CACHE_DIRNAME = "mission-examples"
PROTOTYPES_DIRNAME = "mission-prototypes"
_FORMAT = 1  # bumped when what is stored changes


@dataclass(frozen=True, slots=True)
class ExamplesConfig:
    projects_per_submeasure: int = 10  # funded projects per sub-measure (seeded sample): a few voices each
    topic_passages: int = 2  # an EU topic's first passages, averaged
    max_chars: int = 1000  # of a project's or an incentive's text
    seed: int = 7
    vote: VoteConfig = field(default_factory=VoteConfig)

    def __post_init__(self) -> None:
        if self.projects_per_submeasure < 0 or self.topic_passages < 1 or self.max_chars < 50:
            raise ValueError("projects_per_submeasure >= 0, topic_passages >= 1 and max_chars >= 50 are needed.")


@dataclass(slots=True)
class ExampleTexts:
    """Examples before embedding: each one's passages (their mean is its vector), labels, group, id, title."""

    passages: list[list[str]] = field(default_factory=list)
    labels: list[frozenset[tuple[str, str]]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    def add(self, passages: list[str], labels: frozenset[tuple[str, str]], group: str, id_: str, title: str) -> None:
        if passages and labels:  # an example without a label, or without text, says nothing
            self.passages.append(passages)
            self.labels.append(labels)
            self.groups.append(group)
            self.ids.append(id_)
            self.titles.append(" ".join(title.split())[:200])

    def __len__(self) -> int:
        return len(self.labels)

    def digest(self, embedder: Embedder) -> str:
        """What the vectors depend on: the embedder and every example's passages, labels and group."""
        content = [_FORMAT, embedder.name, embedder.dim, self.passages,
                   [sorted(x) for x in self.labels], self.groups, self.ids, self.titles]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode("utf-8")).hexdigest()[:20]


def _labels(truth_of: MissionClassifier, document: Document) -> frozenset[tuple[str, str]]:
    return frozenset((str(m.framework), m.code) for m in truth_of.run(document))


def read_quadro(corpora: Path) -> pd.DataFrame:
    """One row per PNRR sub-measure with ``full`` (mission, component, measure, sub-measure) and ``bare``
    (measure and sub-measure only) descriptions."""
    frame = pd.read_csv(corpora / QUADRO_FILE, sep=";", encoding="utf-8-sig", dtype=str)
    frame = frame.dropna(subset=["Codice Univoco Submisura"]).drop_duplicates("Codice Univoco Submisura").fillna("")
    frame["full"] = ("Missione: " + frame["Descrizione Missione"] + "\nComponente: " + frame["Descrizione Componente"]
                     + "\nMisura: " + frame["Descrizione Misura"] + "\nSubmisura: " + frame["Descrizione Submisura"])
    frame["bare"] = "Misura: " + frame["Descrizione Misura"] + "\nSubmisura: " + frame["Descrizione Submisura"]
    return frame.reset_index(drop=True)


def submeasure_document(code: str, text: str = "", title: str = "") -> Document:
    """A sub-measure as its official codes give it (labels come from ``submeasure_code``, not the text)."""
    return Document(id=f"pnrr-measure:{code}", source="mission-examples", type=DocType.MEASURE, title=title or code,
                    sections=[Section(text=text or code)], language="it", metadata={"submeasure_code": code})


def _submeasures(texts: ExampleTexts, corpora: Path, truth_of: MissionClassifier) -> None:
    for _, row in read_quadro(corpora).iterrows():
        code = row["Codice Univoco Submisura"]
        document = submeasure_document(code, row["full"], row["Descrizione Submisura"])
        texts.add([row["full"]], _labels(truth_of, document), code, document.id, document.title)


def read_projects(corpora: Path, per_submeasure: int, seed: int, max_chars: int) -> pd.DataFrame:
    """Up to ``per_submeasure`` funded projects per sub-measure (title and synthesis), a seeded sample."""
    columns = ["CUP", "Codice Univoco Submisura", "Titolo progetto", "Sintesi progetto"]
    frame = pd.read_parquet(corpora / PROJECTS_FILE, columns=columns)
    frame = frame.dropna(subset=["Codice Univoco Submisura", "Titolo progetto"]).drop_duplicates("CUP")
    frame["text"] = (frame["Titolo progetto"] + " - " + frame["Sintesi progetto"].fillna("")).str.slice(0, max_chars)
    frame = frame.drop_duplicates("text").sample(frac=1.0, random_state=seed)
    return frame.groupby("Codice Univoco Submisura").head(per_submeasure).reset_index(drop=True)


def _projects(texts: ExampleTexts, corpora: Path, truth_of: MissionClassifier, config: ExamplesConfig) -> None:
    frame = read_projects(corpora, config.projects_per_submeasure, config.seed, config.max_chars)
    by_code: dict[str, frozenset[tuple[str, str]]] = {}
    rows = zip(frame["CUP"], frame["Codice Univoco Submisura"], frame["Titolo progetto"], frame["text"], strict=True)
    for cup, code, title, text in rows:
        if code not in by_code:
            by_code[code] = _labels(truth_of, submeasure_document(code))
        texts.add([text], by_code[code], code, f"pnrr-project:{cup}", title)


def read_incentives(corpora: Path) -> list[Document]:
    (spec,) = select_sources(load_sources(), [INCENTIVES_SOURCE])
    files = SourceResolver(corpora, corpora / ".no-download", allow_download=False).resolve(spec)
    return build_connector(spec, files).run().documents


def _incentives(texts: ExampleTexts, corpora: Path, truth_of: MissionClassifier, config: ExamplesConfig) -> None:
    for document in read_incentives(corpora):
        text = f"{document.title}\n{document.text}"[: config.max_chars]
        texts.add([text], _labels(truth_of, document), document.id, document.id, document.title)


def read_horizon_topics(corpora: Path, truth_of: MissionClassifier) -> list[tuple[Document, frozenset[Label]]]:
    """The Horizon Europe topics whose call identifier names a cluster or mission, with the labels it gives."""
    path = corpora / TOPICS_FILE
    spec = SourceSpec(name="eu-topics", kind="eu_topics", files={"topics": str(path)})
    found = []
    for document in EuTopicsConnector(spec, {"topics": path}).run().documents:
        if str(document.metadata.get("call_identifier") or "").startswith("HORIZON"):
            labels = _labels(truth_of, document)
            if any(framework == "horizon" for framework, _ in labels):
                found.append((document, labels))
    return found


def topic_passages(document: Document, count: int, chunker: Chunker | None = None) -> list[str]:
    """A topic's first passages as the indexer embeds them, from its text alone (no codes, in English)."""
    plain = dataclasses.replace(document, metadata={}, language="en")
    return [embedding_text(plain, chunk) for chunk in (chunker or Chunker()).run(plain)][:count]


def _topics(texts: ExampleTexts, corpora: Path, truth_of: MissionClassifier, config: ExamplesConfig) -> None:
    chunker = Chunker()
    for document, labels in read_horizon_topics(corpora, truth_of):
        group = call_group(str(document.metadata["call_identifier"]))
        texts.add(topic_passages(document, config.topic_passages, chunker), labels, group, document.id, document.title)


def collect_examples(corpora: Path, truth_of: MissionClassifier, config: ExamplesConfig | None = None) -> ExampleTexts:
    """Every example the mirror has; a part whose files are missing or unreadable is skipped with its reason."""
    config = config or ExamplesConfig()
    texts = ExampleTexts()
    parts = (
        ("PNRR sub-measures", QUADRO_FILE, lambda: _submeasures(texts, corpora, truth_of)),
        ("funded projects", PROJECTS_FILE, lambda: _projects(texts, corpora, truth_of, config)),
        ("incentives", None, lambda: _incentives(texts, corpora, truth_of, config)),
        ("Horizon topics", TOPICS_FILE, lambda: _topics(texts, corpora, truth_of, config)),
    )
    for name, path, read in parts:
        if name == "funded projects" and not config.projects_per_submeasure:
            continue
        if path is not None and not (corpora / path).is_file():
            log.info("mission examples: no %s (%s is not in the mirror %s)", name, path, corpora)
            continue
        try:
            read()
        except (SourceUnavailable, OSError, ValueError, KeyError) as error:
            log.warning("mission examples: %s skipped: %s", name, error)
    return texts


def mirror_scope(corpora: Path) -> str:
    """Which mirror a set of examples came from: data dirs (tests, samples) share the models dir, and a small
    mirror's examples must neither replace nor be read for another's."""
    return hashlib.sha256(str(corpora.resolve()).encode("utf-8")).hexdigest()[:8]


def _slug(embedder: Embedder) -> str:
    """The embedder's name as a file name: what the cached vectors of each embedder are told apart by."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.name).strip("_") or "embedder"


def cache_path(models_dir: Path, embedder: Embedder, digest: str, scope: str = "") -> Path:
    slug = _slug(embedder)
    return models_dir / CACHE_DIRNAME / f"{slug}-{scope + '-' if scope else ''}{digest}.npz"


def _read(path: Path) -> LabelledExamples | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            vectors, about = stored["vectors"], json.loads(str(stored["about"]))
        return LabelledExamples(vectors, tuple(frozenset((f, c) for f, c in x) for x in about["labels"]),
                                tuple(about["groups"]), tuple(about["ids"]), tuple(about["titles"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("mission examples: %s is unreadable (%s)", path, error)
        return None


def cached_examples(embedder: Embedder, models_dir: Path, scope: str = "") -> LabelledExamples | None:
    """The examples this embedder last embedded from this mirror (ingestion builds them, and keeps one set per
    embedder and mirror): what a reader of the index (the API) votes with, without reading the mirror again."""
    pattern = cache_path(models_dir, embedder, "*", scope)
    found = sorted(pattern.parent.glob(pattern.name), key=lambda p: p.stat().st_mtime)
    examples = _read(found[-1]) if found else None
    return examples if examples is not None and examples.vectors.shape[1:] == (embedder.dim,) else None


def embed_examples(texts: ExampleTexts, embedder: Embedder, models_dir: Path, scope: str = "") -> LabelledExamples:
    """The examples' vectors: loaded when this embedder already embedded these very examples, built otherwise
    (and the same embedder's vectors of other examples of the same mirror removed)."""
    path = cache_path(models_dir, embedder, texts.digest(embedder), scope)
    loaded = _read(path) if path.is_file() else None
    vectors = loaded.vectors if loaded is not None else None
    if vectors is None or vectors.shape != (len(texts), embedder.dim):
        flat = [p for passages in texts.passages for p in passages]
        log.info("mission examples: embedding %d passages of %d examples with %s", len(flat), len(texts),
                 embedder.name)
        embedded = embedder.embed_passages(flat) if flat else np.zeros((0, embedder.dim), np.float32)
        bounds = np.cumsum([0] + [len(p) for p in texts.passages])
        vectors = np.stack([embedded[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
        vectors = vectors.astype(np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(cache_path(models_dir, embedder, "*", scope).name):
            stale.unlink(missing_ok=True)
        partial = path.parent / f".{path.name}"  # outside the glob readers and the pruning use
        about = {"labels": [sorted(x) for x in texts.labels], "groups": texts.groups, "ids": texts.ids,
                 "titles": texts.titles}
        np.savez(partial, vectors=vectors, about=np.array(json.dumps(about, ensure_ascii=False)))
        partial.replace(path)  # readers never see half a file
    return LabelledExamples(vectors, tuple(texts.labels), tuple(texts.groups), tuple(texts.ids), tuple(texts.titles))


def build_vote(examples: LabelledExamples, config: VoteConfig | None = None) -> MissionVote:
    vote = MissionVote(examples, config)
    vote.calibrate()
    return vote


def load_prototypes(classifier: MissionClassifier, embedder: Embedder, models_dir: Path) -> None:
    """The vectors the classifier calibrates on (its prototypes and background texts), read from the models dir
    when this embedder embedded these very texts before, else embedded and kept there: every new process (a cold
    ``convergenze match``, the API's start) would otherwise embed them again, most of its start-up work."""
    inputs = classifier.embedding_inputs()
    digest = hashlib.sha256(json.dumps([embedder.name, sorted(inputs.items())], ensure_ascii=False).encode())
    slug = _slug(embedder)
    path = models_dir / PROTOTYPES_DIRNAME / f"{slug}-{digest.hexdigest()[:16]}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            vectors = {name: stored[name] for name in inputs}
        if all(v.shape == (len(inputs[n][1]), embedder.dim) for n, v in vectors.items()):
            classifier.preload(vectors)
            return
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:  # absent, torn, older
        log.debug("mission prototypes: %s not usable (%s)", path, error)
    vectors = {name: (embedder.embed_queries if mode == "query" else embedder.embed_passages)(texts)
               for name, (mode, texts) in inputs.items()}
    classifier.preload(vectors)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{slug}-*.npz"):
            stale.unlink(missing_ok=True)
        partial = path.parent / f".{path.name}"  # outside the glob readers and the pruning use
        np.savez(partial, **vectors)
        partial.replace(path)  # readers never see half a file
    except OSError as error:  # a read-only models dir: the next process embeds them again, nothing worse
        log.warning("mission prototypes: not kept in %s (%s)", path.parent, error)


def mission_labeller(
    embedder: Embedder | None, data: DataSettings, config: ExamplesConfig | None = None, *, build: bool = True
) -> MissionClassifier:
    """The classifier the ingestion and the services use: official codes first, then, for the frameworks the
    vote covers, the vote of the mirror's labelled examples, and the prototypes and cue terms elsewhere.
    ``build``: read the mirror and embed what changed (ingestion); else the examples this embedder last embedded
    (a reader of the index, which must label as the ingestion did)."""
    config = config or ExamplesConfig()
    truth_of = MissionClassifier.from_settings(None, data, model_frameworks=())
    vote = None
    if embedder is not None and not build:
        examples = cached_examples(embedder, data.models_dir, mirror_scope(data.corpora_dir))
        vote = build_vote(examples, config.vote) if examples is not None else None
    elif embedder is not None and data.corpora_dir.is_dir():
        texts = collect_examples(data.corpora_dir, truth_of, config)
        if len(texts):
            scope = mirror_scope(data.corpora_dir)
            vote = build_vote(embed_examples(texts, embedder, data.models_dir, scope), config.vote)
        else:
            log.info("mission examples: none in %s; mission labels come from prototypes and cue terms",
                     data.corpora_dir)
    classifier = MissionClassifier(truth_of.taxonomy, embedder, truth_of.sdg_mapping, cues=truth_of.cues, vote=vote)
    if embedder is not None:
        load_prototypes(classifier, embedder, data.models_dir)
    return classifier

