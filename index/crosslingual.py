"""Retrieval across Italian and English: a query in either language reaches documents in both.

Left alone, both retrievers stay inside the query's language: BM25 matches words, and multilingual-e5-small
scores a query closer to passages in its own language than to an equally relevant passage in the other, so an
Italian query ranks Italian calls above the EU topics that fit it better. Two things cross the line:

* **Legs per language.** Each retriever runs once over the Italian passages and once over the others (English
  EU topics, the odd French or Spanish one), and the four lists are fused with RRF in the store (one Qdrant
  query with filtered prefetches, ``VectorStore.search(languages=...)``). Ranks, unlike cosines, are comparable
  across languages, so the best English passage competes with the best Italian one instead of starting a few
  hundredths of cosine behind.
* **A bilingual glossary for BM25.** Terms of the query found in ``corpora/glossary/it_en.yaml`` bring their
  translation into the sparse query, with a lower weight: "idrogeno" also looks for "hydrogen", "steel" for
  "acciaio" and "siderurgia".

A filter on one language (``SearchFilters.language``) turns the legs off: that search stays in its language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from convergenze.core.records import SparseVector

from .sparse import SUPPORTED, Bm25SparseEncoder

DEFAULT_GLOSSARY = Path(__file__).resolve().parents[1] / "corpora" / "glossary" / "it_en.yaml"
GLOSSARY_LANGUAGES = SUPPORTED
# Legs of a cross-lingual search: Italian passages, then all the others (see VectorStore.search).
LEG_LANGUAGES: tuple[str, ...] = SUPPORTED
SOURCES = ("taxonomy", "programme", "domain")


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """One concept named in both languages; ``entry`` is the taxonomy entry a ``taxonomy`` pair comes from."""

    it: tuple[str, ...]
    en: tuple[str, ...]
    source: str
    entry: str | None = None

    def terms(self, language: str) -> tuple[str, ...]:
        return self.it if language == "it" else self.en


class Glossary:
    """Finds glossary terms in a query (as BM25 lemmas, phrases in order) and gives their translations."""

    def __init__(self, entries: Sequence[GlossaryEntry], analyzer: Bm25SparseEncoder) -> None:
        self.entries = tuple(entries)
        self.analyzer = analyzer
        # language -> phrases (tuples of lemmas) -> entries naming them
        self._phrases: dict[str, dict[tuple[str, ...], list[int]]] = {lang: {} for lang in GLOSSARY_LANGUAGES}
        self._lemmas: dict[tuple[int, str], tuple[str, ...]] = {}
        for index, entry in enumerate(self.entries):
            for language in GLOSSARY_LANGUAGES:
                lemmas: list[str] = []
                for term in entry.terms(language):
                    phrase = tuple(analyzer.terms(term, language))
                    if phrase:
                        self._phrases[language].setdefault(phrase, []).append(index)
                        lemmas += phrase
                self._lemmas[(index, language)] = tuple(dict.fromkeys(lemmas))
        self._longest = max((len(p) for by in self._phrases.values() for p in by), default=0)

    @classmethod
    def load(cls, analyzer: Bm25SparseEncoder, path: Path = DEFAULT_GLOSSARY) -> Glossary:
        return cls(read_glossary(path), analyzer)

    def found(self, text: str) -> list[tuple[GlossaryEntry, str]]:
        """The entries whose terms occur in ``text``, with the language they were found in."""
        return [(self.entries[index], language) for index, language in self._matches(text)]

    def translations(self, text: str) -> list[str]:
        """BM25 terms of the other language for every glossary term in ``text``, minus the text's own terms."""
        own = set(self.analyzer.query_terms(text))
        found: dict[str, None] = {}
        for index, language in self._matches(text):
            found.update(dict.fromkeys(self._lemmas[(index, "en" if language == "it" else "it")]))
        return [term for term in found if term not in own]

    def _matches(self, text: str) -> list[tuple[int, str]]:
        out: dict[tuple[int, str], None] = {}
        for language in GLOSSARY_LANGUAGES:
            lemmas = self.analyzer.terms(text, language)
            phrases = self._phrases[language]
            for start in range(len(lemmas)):
                for length in range(1, min(self._longest, len(lemmas) - start) + 1):
                    for index in phrases.get(tuple(lemmas[start : start + length]), ()):
                        out[(index, language)] = None
        return list(out)


def read_glossary(path: Path = DEFAULT_GLOSSARY) -> list[GlossaryEntry]:
    """The glossary file's entries; a malformed entry is an error naming it (the file ships with the code)."""
    # libyaml's loader when PyYAML has it: the pure-Python one took a second of every cold search
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 (a safe loader)
    entries: list[GlossaryEntry] = []
    for number, raw in enumerate(data.get("entries") or [], start=1):
        it, en, source = raw.get("it"), raw.get("en"), raw.get("source")
        if not (_terms(it) and _terms(en)) or source not in SOURCES:
            raise ValueError(
                f"{path}: entry {number} ({raw!r}) needs non-empty 'it' and 'en' lists of terms and a 'source' "
                f"among {', '.join(SOURCES)}."
            )
        if source == "taxonomy" and not raw.get("entry"):
            raise ValueError(f"{path}: entry {number} comes from the taxonomy but names no 'entry' (framework:code).")
        entries.append(GlossaryEntry(tuple(it), tuple(en), source, raw.get("entry")))
    return entries


def _terms(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(t, str) and t.strip() for t in value)


def expanded_query(
    analyzer: Bm25SparseEncoder, glossary: Glossary | None, text: str, weight: float
) -> SparseVector:
    """The BM25 query of ``text`` plus the glossary's translations of its terms at ``weight``."""
    extra: Iterable[str] = glossary.translations(text) if glossary is not None and weight > 0 else ()
    return analyzer.encode_query(text, extra=extra, extra_weight=weight)
