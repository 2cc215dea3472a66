"""Cue terms of the mission taxonomy found in a text: which entries' terms occur, how often, and the sentences
they occur in (the evidence a label quotes). Used by ``MissionClassifier`` beside the embeddings and the vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans

from .objectives import LANGUAGES, blank_pipeline, lemma_table, parse
from .taxonomy import Key, Taxonomy

# Procedural text that any call or programme has and that is about no mission: each prototype's similarity to it
# is that prototype's bias, and the margins it reaches are the null distribution a real label must beat.
BACKGROUND = (
    "Le domande devono essere presentate entro il termine indicato tramite la piattaforma online.",
    "Il presente avviso disciplina le modalità di rendicontazione delle spese ammissibili.",
    "Il soggetto attuatore è responsabile dell'attuazione dell'intervento e del monitoraggio.",
    "Decreto di approvazione della graduatoria e impegno di spesa.",
    "La domanda deve essere firmata digitalmente dal legale rappresentante e inviata tramite PEC.",
    "Il contributo è erogato in due tranche: un anticipo del 40% e il saldo a conclusione del progetto.",
    "Sono ammissibili le spese sostenute dopo la data di presentazione della domanda.",
    "La graduatoria sarà pubblicata sul sito istituzionale entro 60 giorni dalla scadenza.",
    "Per informazioni è possibile scrivere all'indirizzo email indicato nell'avviso.",
    "L'istruttoria delle domande è svolta secondo l'ordine cronologico di presentazione.",
    "Il beneficiario è tenuto a conservare la documentazione per cinque anni.",
    "In caso di mancato rispetto degli obblighi il contributo è revocato.",
    "Applications must be submitted via the Funding & Tenders Portal before the deadline.",
    "The grant agreement sets out the obligations of the beneficiaries.",
    "Proposals will be evaluated by independent experts against the award criteria.",
    "The page limit for the technical description is 45 pages.",
    "Eligible costs must be incurred during the duration of the action.",
    "The consortium must include at least three independent legal entities from different Member States.",
    "Payments are made as a pre-financing, interim payments and a payment of the balance.",
    "Applicants will be informed of the outcome of the evaluation within five months.",
)


@dataclass(slots=True)
class Hits:
    terms: set[str] = field(default_factory=set)
    count: int = 0
    sentences: list[str] = field(default_factory=list)


class CueIndex:
    """Every entry's cue terms in PhraseMatchers per language, on lower-cased lookup lemmas; built once.

    A term whose lookup lemma is another word is matched on its surface form instead: the lemma table maps
    comparatives and homographs onto other words ("minori" -> "piccolo", so the welfare cue for children would
    fire on every "piccole e medie imprese"; English "ai" -> "have")."""

    def __init__(self, taxonomy: Taxonomy, max_chars: int = 100_000, max_sentence_chars: int = 300) -> None:
        self.max_chars = max_chars
        self.max_sentence_chars = max_sentence_chars
        self._nlp = {lang: blank_pipeline(lang) for lang in LANGUAGES}
        self._lemmas = {lang: lemma_table(lang) for lang in LANGUAGES}
        self._matchers: dict[str, tuple[PhraseMatcher, PhraseMatcher]] = {}
        for lang, nlp in self._nlp.items():
            by_lemma, by_surface = PhraseMatcher(nlp.vocab, attr="LEMMA"), PhraseMatcher(nlp.vocab, attr="LOWER")
            for framework in taxonomy.frameworks:
                for entry in taxonomy.entries(framework):
                    for term in entry.cues.get(lang, ()):
                        doc = parse(nlp, term, self._lemmas[lang])
                        matcher = by_surface if any(_other_word(token) for token in doc) else by_lemma
                        matcher.add(f"{framework}|{entry.code}", [doc])
            self._matchers[lang] = (by_lemma, by_surface)

    def run(self, parts: Sequence[tuple[str, str | None]], max_sentences: int = 3) -> dict[Key, Hits]:
        """Hits per entry over ``(text, language)`` parts; an unknown language is read as both."""
        hits: dict[Key, Hits] = defaultdict(Hits)
        budget = self.max_chars  # a 300-page PDF says what it is about long before its annexes
        for text, language in parts:
            text = text[:budget]
            budget -= len(text)
            for lang in ([language] if language in LANGUAGES else LANGUAGES) if text.strip() else ():
                doc = parse(self._nlp[lang], text, self._lemmas[lang])
                spans = defaultdict(list)
                surface: set[tuple[int, int]] = set()
                by_lemma, by_surface = self._matchers[lang]
                for matcher in (by_lemma, by_surface):
                    for match_id, start, end in matcher(doc):
                        spans[self._nlp[lang].vocab.strings[match_id]].append(doc[start:end])
                        if matcher is by_surface:
                            surface.add((start, end))
                for name, found in spans.items():
                    framework, code = name.split("|", 1)
                    hit = hits[(framework, code)]
                    for span in filter_spans(found):  # "impianto fotovoltaico" is one hit, not two
                        hit.terms.add(span.text.lower() if (span.start, span.end) in surface else span.lemma_)
                        hit.count += 1
                        sentence = " ".join(span.sent.text.split())[: self.max_sentence_chars]
                        if len(hit.sentences) < max_sentences and sentence not in hit.sentences:
                            hit.sentences.append(sentence)
        return hits


def _other_word(token: Any) -> bool:
    """A content word whose lemma is not the same word inflected ("minori" -> "piccolo", not "aperti" -> "aprire")."""
    return not token.is_stop and token.is_alpha and token.lemma_[:2] != token.lower_[:2]
