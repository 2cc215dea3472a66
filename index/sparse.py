"""BM25 sparse vectors over Italian and English text: spaCy tokens, stop words and lookup lemmas.

Documents carry BM25's saturated term frequencies; Qdrant applies the IDF (the sparse vector is configured
with the IDF modifier), so the collection's statistics stay right as documents come and go.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from convergenze.core.records import SparseVector
from convergenze.extractors.nlp import import_spacy

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Token

SUPPORTED = ("it", "en")
# spaCy's Italian stop list is for general prose; in funding calls these words carry meaning
# ("Marche" is a region, "lavoro" and "città" are what a call is about).
KEEP = frozenset(
    {
        "città",
        "lavoro",
        "governo",
        "nazionale",
        "marche",
        "futuro",
        "consiglio",
        "ministro",
        "persone",
        "gruppo",
        "registrazione",
        "giorni",
        "grande",
        "generale",
        "milioni",
        "miliardi",
        "mancanza",
        "titolo",
        "conclusione",
        "anticipo",
    }
)
# Lookup lemmas are ambiguous out of context: "impresa" (company) comes out as "imprendere" while its plural
# "imprese" comes out as "impresa". Nouns that matter for funding calls are pinned to their noun lemma.
LEMMA_OVERRIDES = {
    "impresa": "impresa",
    "lavoro": "lavoro",
    "marche": "marche",
    "bando": "bando",
    "bandi": "bando",
    "fondi": "fondo",
    "fondo": "fondo",
    "comuni": "comune",
    "comune": "comune",
}


def _fold(text: str) -> str:
    """Lower case without accents: "Città" and "citta" are the same term."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


class Bm25SparseEncoder:
    def __init__(self, k1: float = 1.2, b: float = 0.75, avg_len: float = 80.0, min_len: int = 2) -> None:
        if k1 <= 0 or not 0 <= b <= 1 or avg_len <= 0:
            raise ValueError("BM25 needs k1 > 0, 0 <= b <= 1 and avg_len > 0 (defaults: 1.2, 0.75, 80).")
        self.k1, self.b, self.avg_len, self.min_len = k1, b, avg_len, min_len
        self._nlp: dict[str, tuple[Language, Mapping[str, str]]] = {}

    def _pipeline(self, language: str) -> tuple[Language, Mapping[str, str]]:
        """A blank pipeline (tokenizer, stop words) and spacy-lookups-data's lemma table: offline, no pretrained
        package. The table is read into a dict and looked up here, as spaCy's lookup lemmatizer does
        (``table.get(token.text, token.text)``), because filling spaCy's own ``Table`` took seconds of a cold
        search."""
        lang = language if language in SUPPORTED else "en"
        if lang not in self._nlp:
            spacy = import_spacy()
            from spacy.util import load_language_data, registry

            lemmas = load_language_data(registry.lookups.get(lang)["lemma_lookup"])
            if not isinstance(lemmas, dict):
                raise ValueError(f"spacy-lookups-data's {lang} lemma table is not a mapping; reinstall it.")
            self._nlp[lang] = (spacy.blank(lang), lemmas)
        return self._nlp[lang]

    def terms(self, text: str, language: str | None = "it") -> list[str]:
        nlp, lemmas = self._pipeline(language or "it")
        return self._terms_of(nlp(text.lower()), lemmas)

    def _terms_of(self, doc: Iterable[Token], lemmas: Mapping[str, str]) -> list[str]:
        out = []
        for token in doc:
            if (
                (token.is_stop and token.lower_ not in KEEP)
                or token.is_punct
                or token.is_space
                or not (token.is_alpha or token.like_num)
            ):
                continue
            term = _fold(LEMMA_OVERRIDES.get(token.lower_) or lemmas.get(token.text, token.text) or token.text)
            if len(term) >= self.min_len:
                out.append(term)
        return out

    def encode_documents(self, texts: Sequence[str], languages: Sequence[str | None]) -> list[SparseVector]:
        if len(texts) != len(languages):
            raise ValueError("encode_documents needs one language per text.")
        vectors: list[SparseVector | None] = [None] * len(texts)
        by_language: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            by_language.setdefault(language if language in SUPPORTED else "en", []).append(i)
        for language, positions in by_language.items():
            nlp, lemmas = self._pipeline(language)
            docs = nlp.pipe((texts[i].lower() for i in positions), batch_size=256)
            for i, doc in zip(positions, docs, strict=True):
                vectors[i] = self._weights(self._terms_of(doc, lemmas))
        return [v if v is not None else SparseVector([], []) for v in vectors]

    def query_terms(self, text: str) -> list[str]:
        """A query's terms, lemmatized both ways so that its language need not be guessed."""
        return list(dict.fromkeys(t for language in SUPPORTED for t in self.terms(text, language)))

    def encode_query(self, text: str, extra: Iterable[str] = (), extra_weight: float = 1.0) -> SparseVector:
        """Query terms with weight 1, and ``extra`` terms (e.g. translations) with ``extra_weight``."""
        weights = {term_id(t): extra_weight for t in extra}
        weights.update((term_id(t), 1.0) for t in self.query_terms(text))
        ids = sorted(weights)
        return SparseVector(indices=ids, values=[weights[i] for i in ids])

    def _weights(self, terms: list[str]) -> SparseVector:
        counts: Counter[int] = Counter(term_id(t) for t in terms)
        norm = self.k1 * (1 - self.b + self.b * len(terms) / self.avg_len)
        ids = sorted(counts)
        return SparseVector(indices=ids, values=[counts[i] * (self.k1 + 1) / (counts[i] + norm) for i in ids])
