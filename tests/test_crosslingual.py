"""The bilingual glossary: where its pairs come from, what a query gains from it, and bad entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from convergenze.index.crosslingual import DEFAULT_GLOSSARY, Glossary, expanded_query, read_glossary
from convergenze.index.sparse import Bm25SparseEncoder, term_id

TAXONOMY = Path(__file__).resolve().parents[1] / "corpora" / "taxonomy" / "missions.yaml"


@pytest.fixture(scope="module")
def analyzer() -> Bm25SparseEncoder:
    return Bm25SparseEncoder()


@pytest.fixture(scope="module")
def glossary(analyzer: Bm25SparseEncoder) -> Glossary:
    return Glossary.load(analyzer)


def _taxonomy_texts() -> dict[str, dict[str, str]]:
    """framework:code -> language -> label, description and cues of that entry, lower case."""
    data = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    texts: dict[str, dict[str, str]] = {}
    for framework, body in data["frameworks"].items():
        for entry in body["entries"]:
            texts[f"{framework}:{entry['code']}"] = {
                language: " | ".join(
                    [entry["label"][language], (entry.get("description") or {}).get(language, ""),
                     *((entry.get("cues") or {}).get(language) or [])]
                ).lower()
                for language in ("it", "en")
            }
    return texts


def test_taxonomy_pairs_are_in_the_taxonomy_entry_they_cite() -> None:
    texts = _taxonomy_texts()
    missing = []
    for entry in read_glossary():
        if entry.source != "taxonomy":
            continue
        assert entry.entry in texts, f"{entry} cites an entry the taxonomy does not have"
        for language in ("it", "en"):
            if not any(term.lower() in texts[entry.entry][language] for term in entry.terms(language)):
                missing.append((entry.entry, language, entry.terms(language)))
    assert not missing


def test_glossary_sources_are_balanced_and_terms_unique() -> None:
    entries = read_glossary()
    assert {e.source for e in entries} == {"taxonomy", "programme", "domain"}
    pairs = [(e.it, e.en) for e in entries]
    assert len(pairs) == len(set(pairs)), "an entry is repeated"


def test_an_italian_query_gains_english_terms(glossary: Glossary) -> None:
    extra = glossary.translations("idrogeno verde per decarbonizzare l'industria siderurgica")
    assert {"hydrogen", "steel"} <= set(extra)
    assert not {"idrogeno", "idrogenare", "siderurgico"} & set(extra)  # its own terms are not added again


def test_an_english_query_gains_italian_terms(glossary: Glossary, analyzer: Bm25SparseEncoder) -> None:
    extra = set(glossary.translations("social housing for young workers"))
    assert set(analyzer.terms("alloggi", "it")) <= extra and set(analyzer.terms("giovani", "it")) <= extra
    assert set(analyzer.terms("acciaio", "it")) <= set(glossary.translations("steel"))


def test_phrases_match_in_order_only(glossary: Glossary) -> None:
    assert "circular" in glossary.translations("progetti di economia circolare")
    assert "circular" not in glossary.translations("la circolare sull'economia")


def test_a_query_without_glossary_terms_is_left_alone(glossary: Glossary, analyzer: Bm25SparseEncoder) -> None:
    assert glossary.translations("Nuova Sabatini") == []
    assert expanded_query(analyzer, glossary, "Nuova Sabatini", 0.5) == analyzer.encode_query("Nuova Sabatini")


def test_translations_get_the_expansion_weight(glossary: Glossary, analyzer: Bm25SparseEncoder) -> None:
    vector = expanded_query(analyzer, glossary, "hydrogen", 0.4)
    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights[term_id("hydrogen")] == 1.0
    assert weights[term_id(analyzer.terms("idrogeno", "it")[0])] == 0.4
    assert expanded_query(analyzer, glossary, "hydrogen", 0.0) == analyzer.encode_query("hydrogen")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"it": ["idrogeno"], "source": "domain"}, "non-empty 'it' and 'en'"),
        ({"it": ["idrogeno"], "en": [""], "source": "domain"}, "non-empty 'it' and 'en'"),
        ({"it": ["idrogeno"], "en": ["hydrogen"], "source": "guess"}, "'source'"),
        ({"it": ["idrogeno"], "en": ["hydrogen"], "source": "taxonomy"}, "names no 'entry'"),
    ],
)
def test_a_malformed_entry_is_named(tmp_path: Path, entry: dict, message: str) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "entries": [{"it": ["a"], "en": ["b"], "source": "domain"}, entry]}))
    with pytest.raises(ValueError, match=message) as error:
        read_glossary(path)
    assert "entry 2" in str(error.value)


def test_the_shipped_glossary_is_the_default() -> None:
    assert DEFAULT_GLOSSARY.is_file() and len(read_glossary()) > 300
