"""The mission vote: labels from the nearest officially labelled examples, with cue terms where it cannot vote,
examples embedded once per embedder and content, and no item voting for itself."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from convergenze.core.embedding import Embedder
from convergenze.core.records import Document, MissionLabel, Section
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import DocType
from convergenze.extractors.mission_vote import LabelledExamples, MissionVote, VoteConfig, own_groups
from convergenze.extractors.missions import MissionClassifier
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.index.mission_examples import (
    ExampleTexts,
    cache_path,
    cached_examples,
    embed_examples,
    mission_labeller,
)


class WordHashEmbedder(Embedder):
    """A small deterministic embedder (hashed bag of words) with a chosen identity, counting what it embeds."""

    def __init__(self, name: str, dim: int = 64) -> None:
        self._name, self._dim, self.embedded = name, dim, 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(f"{self._name}|{word}".encode()).hexdigest(), 16) % self._dim] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.embedded += len(texts)
        return self._vectors(texts)


def by_key(labels: list[MissionLabel]) -> dict[tuple[str, str], MissionLabel]:
    return {(label.framework, label.code): label for label in labels}


def examples(vectors: np.ndarray, labels: list[set[tuple[str, str]]], groups: list[str]) -> LabelledExamples:
    ids = [f"example:{i}" for i in range(len(labels))]
    titles = [f"example {i}" for i in range(len(labels))]
    return LabelledExamples(np.asarray(vectors, np.float32), tuple(frozenset(x) for x in labels), tuple(groups),
                            tuple(ids), tuple(titles))


def around(direction: np.ndarray, count: int, seed: int, spread: float = 0.15) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return direction + spread * rng.standard_normal((count, len(direction)))


# --- the vote itself ---------------------------------------------------------------------------------------------


def test_the_nearest_examples_vote_and_a_calibrated_cut_keeps_the_winner() -> None:
    rng = np.random.default_rng(1)
    climate, welfare = rng.standard_normal(32), rng.standard_normal(32)
    vectors = np.vstack([around(climate, 30, 2), around(welfare, 30, 3)])
    labels = [{("convergenze", "climate"), ("sdg", "SDG7")}] * 30 + [{("convergenze", "welfare")}] * 30
    vote = MissionVote(examples(vectors, labels, [f"g{i}" for i in range(60)]), VoteConfig(k=5))
    vote.calibrate()
    found = vote.predict(climate + 0.05 * rng.standard_normal(32))
    assert [v.code for v in found["convergenze"]] == ["climate"]
    assert [v.code for v in found["sdg"]] == ["SDG7"]  # only the examples that carry SDG labels vote on SDGs
    assert found["convergenze"][0].share > 0.9 and len(found["convergenze"][0].neighbours) == 3
    assert "cohesion" not in found  # no example carries it: the cue terms label it
    near_welfare = vote.predict(welfare)
    assert [v.code for v in near_welfare["convergenze"]] == ["welfare"] and "sdg" in near_welfare


def test_an_item_never_votes_for_itself_its_submeasure_or_its_call() -> None:
    rng = np.random.default_rng(4)
    own, other = rng.standard_normal(16), rng.standard_normal(16)
    # The item's own record, its sub-measure's projects and its call's topics sit on it, labelled climate;
    # everything else, a little further, is labelled digital.
    vectors = np.vstack([own, around(own, 3, 5, 0.05), around(own, 3, 6, 0.05), around(own + 0.5 * other, 6, 7)])
    labels = [{("convergenze", "climate")}] * 7 + [{("convergenze", "digital")}] * 6
    groups = ["incentive:7"] + ["M2C1I3.02.00"] * 3 + ["call:HORIZON-CL5-2024-D3-01"] * 3 + [f"o{i}" for i in range(6)]
    vote = MissionVote(examples(vectors, labels, groups), VoteConfig(k=5))
    vote.cuts["convergenze"] = 0.5
    document = Document(id="incentive:7", source="t", type=DocType.CALL, title="t", sections=[Section(text="t")],
                        metadata={"submeasure_codes": ["M2C1I3.02.00"], "call_identifier": "HORIZON-CL5-2024-D3-01-05"})
    assert own_groups(document) == {"incentive:7", "M2C1I3.02.00", "call:HORIZON-CL5-2024-D3-01"}
    assert [v.code for v in vote.predict(own)["convergenze"]] == ["climate"]
    voted = vote.predict(own, own_groups(document))["convergenze"]
    assert [v.code for v in voted] == ["digital"]
    assert {n.title for v in voted for n in v.neighbours} <= {f"example {i}" for i in range(7, 13)}


def test_the_vote_abstains_below_its_floor() -> None:
    rng = np.random.default_rng(8)
    vectors = rng.standard_normal((40, 16))
    labels = [{("convergenze", code)} for code in ("climate", "welfare", "digital", "digital")] * 10
    vote = MissionVote(examples(vectors, labels, [f"g{i}" for i in range(40)]), VoteConfig(k=10))
    vote.floors["convergenze"] = 0.6  # ten scattered neighbours of four labels never agree that much
    assert vote.predict(rng.standard_normal(16)) == {}


# --- the classifier: vote, fallback, evidence ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="module")
def cue_index(taxonomy: Taxonomy):  # type: ignore[no-untyped-def]
    return MissionClassifier(taxonomy, None, None).cues


def test_a_document_is_labelled_from_examples_with_their_titles_as_evidence(  # type: ignore[no-untyped-def]
    taxonomy: Taxonomy, cue_index, tmp_path: Path
) -> None:
    embedder = WordHashEmbedder("words")
    texts = ExampleTexts()
    for i, text in enumerate(["Biblioteca comunale digitale e archivio dei libri", "Archivio storico e biblioteca",
                              "Nuova biblioteca di quartiere con sala lettura"]):
        texts.add([text], frozenset({("convergenze", "welfare"), ("sdg", "SDG4")}), f"c{i}", f"c{i}", text)
    for i, text in enumerate(["Pista ciclabile e mobilità sostenibile", "Autobus elettrici per il trasporto urbano"]):
        texts.add([text], frozenset({("convergenze", "climate")}), f"m{i}", f"m{i}", text)
    vote = MissionVote(embed_examples(texts, embedder, tmp_path), VoteConfig(k=3))
    classifier = MissionClassifier(taxonomy, embedder, None, cues=cue_index, vote=vote)
    document = Document(id="call:1", source="t", type=DocType.CALL, title="Biblioteca",
                        sections=[Section(text="Ampliamento della biblioteca comunale e del suo archivio")])
    labels = by_key(classifier.run(document))
    welfare = labels[("convergenze", "welfare")]
    assert welfare.source == "examples" and 0.5 < welfare.score <= 1.0
    assert any("Archivio storico e biblioteca" in e for e in welfare.evidence)
    assert labels[("sdg", "SDG4")].source == "examples"
    assert ("convergenze", "climate") not in labels
    assert all(label.source != "examples" for label in labels.values() if label.framework == "cohesion")


def test_without_examples_the_cue_terms_label(taxonomy: Taxonomy, tmp_path: Path) -> None:
    empty = tmp_path / "mirror"
    empty.mkdir()
    classifier = mission_labeller(WordHashEmbedder("words"), DataSettings(CONVERGENZE_CORPORA=str(empty),
                                                                           CONVERGENZE_MODELS=str(tmp_path)))
    assert classifier.vote is None
    text = "Riqualificazione energetica degli edifici pubblici con impianti fotovoltaici e pompe di calore."
    labels = by_key(classifier.classify_text(text, "it"))
    assert labels[("convergenze", "climate")].source == "cues"
    assert not (tmp_path / "mission-examples").exists()


def test_a_model_change_rebuilds_the_examples_and_an_unchanged_one_loads_them(tmp_path: Path) -> None:
    texts = ExampleTexts()
    texts.add(["Pista ciclabile"], frozenset({("convergenze", "climate")}), "a", "a", "Pista ciclabile")
    texts.add(["Asilo nido", "Scuola dell'infanzia"], frozenset({("convergenze", "welfare")}), "b", "b", "Asilo")
    first, same, other = WordHashEmbedder("model-a"), WordHashEmbedder("model-a"), WordHashEmbedder("model-b")
    built = embed_examples(texts, first, tmp_path)
    assert first.embedded == 3 and cache_path(tmp_path, first, texts.digest(first)).is_file()
    loaded = embed_examples(texts, same, tmp_path)
    assert same.embedded == 0 and np.array_equal(built.vectors, loaded.vectors)
    rebuilt = embed_examples(texts, other, tmp_path)
    assert other.embedded == 3 and not np.array_equal(built.vectors, rebuilt.vectors)
    assert len(list((tmp_path / "mission-examples").glob("*.npz"))) == 2  # one per model
    texts.add(["Banda ultralarga"], frozenset({("convergenze", "digital")}), "c", "c", "Banda ultralarga")
    embed_examples(texts, same, tmp_path)  # other examples: built again, the model's stale file goes
    assert same.embedded == 4 and len(list((tmp_path / "mission-examples").glob("model-a-*.npz"))) == 1
    # A reader of the index (the API) votes with the set its embedder last built, without the mirror.
    latest = cached_examples(WordHashEmbedder("model-a"), tmp_path)
    assert latest is not None and latest.ids == ("a", "b", "c") and latest.labels[2] == {("convergenze", "digital")}
    assert cached_examples(WordHashEmbedder("model-c"), tmp_path) is None


class QueryCountingEmbedder(WordHashEmbedder):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.queried = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queried += len(texts)
        return self._vectors(texts)


def test_a_new_process_reads_the_prototypes_back_instead_of_embedding_them(tmp_path: Path) -> None:
    empty = tmp_path / "mirror"
    empty.mkdir()
    data = DataSettings(CONVERGENZE_CORPORA=str(empty), CONVERGENZE_MODELS=str(tmp_path / "models"))
    text = "Riqualificazione energetica degli edifici pubblici con impianti fotovoltaici e pompe di calore."
    first = QueryCountingEmbedder("model-a")
    classifier = mission_labeller(first, data)
    built = first.queried
    assert built > 100 and first.embedded > 0  # prototypes (queries) and background texts (both kinds)
    labels = classifier.classify_text(text, "it")
    again = QueryCountingEmbedder("model-a")
    classifier = mission_labeller(again, data)
    assert (again.queried, again.embedded) == (0, 0)
    assert classifier.classify_text(text, "it") == labels and again.queried == 1  # only the text itself
    stored = list((tmp_path / "models" / "mission-prototypes").glob("*.npz"))
    assert len(stored) == 1 and stored[0].name.startswith("model-a-")
    other = QueryCountingEmbedder("model-b")  # another model never reads model-a's vectors
    mission_labeller(other, data)
    assert other.queried == built
    stored[0].write_bytes(stored[0].read_bytes()[:100])  # torn: embedded again and rewritten, not fatal
    torn = QueryCountingEmbedder("model-a")
    assert mission_labeller(torn, data).classify_text(text, "it") == labels and torn.queried == built + 1


@pytest.mark.slow
def test_ingestions_labeller_votes_from_the_mirrors_examples(mini_mirror: Path, models_dir: Path,
                                                            tmp_path: Path) -> None:
    from convergenze.index.embeddings import create_embedder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = DataSettings(CONVERGENZE_CORPORA=str(mini_mirror), CONVERGENZE_MODELS=str(models_dir))
    embedder = create_embedder(EmbeddingSettings(), data)
    classifier = mission_labeller(embedder, data)
    assert classifier.vote is not None and "convergenze" in classifier.vote.frameworks  # the mini mirror has no SDG map
    kinds = {i.split(":", 1)[0] for i in classifier.vote.examples.ids}
    assert {"pnrr-measure", "pnrr-project"} <= kinds
    text = "Digitalizzazione dei servizi della pubblica amministrazione e migrazione al cloud dei dati dei comuni."
    labels = classifier.run(Document(id="pdf:cloud-comuni", source="t", type=DocType.CALL, title="Cloud per i comuni",
                                     sections=[Section(text=text)]))
    voted = [label for label in labels if label.source == "examples"]
    assert voted and all(any(e.startswith("similar example") for e in label.evidence) for label in voted)
