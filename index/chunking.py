"""Splitting documents into passages that fit the embedding model (e5: 512 tokens)."""

from __future__ import annotations

import re

from convergenze.core.records import Chunk, Document

# Sentence ends: . ! ? ; followed by space and an upper-case letter or a digit; or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-Ý0-9«\"(])|\n+")


class Chunker:
    """Packs sentences into passages of at most ``max_words`` words, never splitting a section's heading
    from its text; one sentence of overlap keeps context across passage boundaries."""

    def __init__(self, max_words: int = 160, overlap_sentences: int = 1) -> None:
        if max_words < 20:
            raise ValueError("max_words must be at least 20 (160 fits e5's 512 tokens for Italian text).")
        if overlap_sentences < 0:
            raise ValueError("overlap_sentences cannot be negative.")
        self.max_words = max_words
        self.overlap = overlap_sentences

    def run(self, document: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        for number, section in enumerate(document.sections):
            for passage in self._passages(section.text):
                chunks.append(
                    Chunk(
                        section=number,
                        document_id=document.id,
                        position=len(chunks),
                        text=passage,
                        heading=section.heading,
                        language=section.language or document.language,
                    )
                )
        if not chunks:
            chunks.append(Chunk(document_id=document.id, position=0, text=document.title, language=document.language))
        return chunks

    def _passages(self, text: str) -> list[str]:
        sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
        sentences = [piece for s in sentences for piece in self._split_long(s)]
        passages: list[str] = []
        current: list[str] = []
        words = 0
        for sentence in sentences:
            n = len(sentence.split())
            if current and words + n > self.max_words:
                passages.append(" ".join(current))
                current = current[-self.overlap :] if self.overlap else []
                words = sum(len(s.split()) for s in current)
            current.append(sentence)
            words += n
        if current and (not passages or len(current) > self.overlap):
            passages.append(" ".join(current))
        return passages

    def _split_long(self, sentence: str) -> list[str]:
        words = sentence.split()
        if len(words) <= self.max_words:
            return [sentence]
        step = self.max_words
        return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
