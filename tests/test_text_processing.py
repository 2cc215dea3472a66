"""Language tagging, BM25 terms and chunking."""

from __future__ import annotations

from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import DocType
from convergenze.extractors.language import LanguageTagger, detect_language
from convergenze.index.chunking import Chunker
from convergenze.index.sparse import Bm25SparseEncoder, term_id


def test_language_is_detected_and_deterministic() -> None:
    text = "MIGLIORAMENTO DELL'ESPERIENZA D'USO DEL SITO E DEI SERVIZI DIGITALI PER IL CITTADINO"
    assert {detect_language(text) for _ in range(5)} == {"it"}
    assert (
        detect_language("This Challenge looks to accelerate the development of clinical interventions")
        == "en"
    )
    assert detect_language("ab", default="it") == "it"


def test_mixed_document_gets_a_language_per_section() -> None:
    italian = (
        "Il bando sostiene le piccole e medie imprese nella transizione digitale e nella formazione. " * 4
    )
    english = "The call supports small and medium enterprises in the digital transition and in training. " * 3
    doc = Document(
        id="t:1",
        source="t",
        type=DocType.CALL,
        title="Bando",
        sections=[Section(text=italian), Section(text=english, heading="Summary")],
    )
    tagged = LanguageTagger().run(doc)
    assert [s.language for s in tagged.sections] == ["it", "en"]
    assert tagged.language == "it"


def test_bm25_terms_are_lemmatized_folded_and_keep_domain_words() -> None:
    encoder = Bm25SparseEncoder()
    assert encoder.terms("Contributi alle imprese per la digitalizzazione delle Città") == [
        "contributo",
        "impresa",
        "digitalizzazione",
        "citta",
    ]
    assert encoder.terms("Funding for cities adopting renewable energies", "en") == [
        "fund",
        "city",
        "adopt",
        "renewable",
        "energy",
    ]


def test_bm25_document_weights_saturate_and_query_covers_both_languages() -> None:
    encoder = Bm25SparseEncoder()
    (once,), (thrice,) = [
        encoder.encode_documents([t], ["it"]) for t in ("imprese", "imprese imprese imprese")
    ]
    assert once.indices == thrice.indices == [term_id("impresa")]
    assert once.values[0] < thrice.values[0] < 3 * once.values[0]
    query = encoder.encode_query("cities")
    assert term_id("city") in query.indices and set(query.values) == {1.0}


def test_chunker_packs_sentences_with_overlap_and_positions() -> None:
    sentences = [f"Frase numero {i} con alcune parole di contenuto." for i in range(60)]
    doc = Document(
        id="t:2",
        source="t",
        type=DocType.CALL,
        title="Titolo",
        sections=[Section(text=" ".join(sentences), heading="Finalità", language="it")],
    )
    chunks = Chunker(max_words=50, overlap_sentences=1).run(doc)
    assert len(chunks) > 5
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(len(c.text.split()) <= 50 for c in chunks)
    assert chunks[1].text.split(". ")[0] + "." == chunks[0].text.split(". ")[-1]  # one sentence overlaps
    assert {c.heading for c in chunks} == {"Finalità"} and {c.language for c in chunks} == {"it"}
    assert len({c.point_id for c in chunks}) == len(chunks)


def test_point_ids_are_stable_and_content_derived() -> None:
    doc = Document(id="t:3", source="t", type=DocType.CALL, title="T", sections=[Section(text="Uno. Due.")])
    first, again = Chunker().run(doc), Chunker().run(doc)
    assert [c.point_id for c in first] == [c.point_id for c in again]
    changed = Chunker().run(
        Document(id="t:3", source="t", type=DocType.CALL, title="T", sections=[Section(text="Uno. Tre.")])
    )
    assert changed[0].point_id != first[0].point_id
