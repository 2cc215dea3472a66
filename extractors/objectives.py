"""Objective statements of calls and programmes, in Italian and English, with exact character offsets.

Three ways an objective shows itself, tried in this order:

1. a heading that announces objectives ("Finalità", "1. Obiettivi", "Art. 1 – Finalità e ...", "Expected Outcome:",
   "Objective:"): the list items or the first sentences of the block under it are objectives;
2. a sentence with an objective cue ("ha l'obiettivo di", "si propone di", "mira a", "intende sostenere",
   "aims to", "the objective of"); a cue sentence that ends with ':' introduces a list of objectives;
3. weak cues ("al fine di", "in order to") only when followed by a goal verb ("al fine di promuovere", not
   "al fine di accedere"), and ranked last.

EU portal texts are flattened ("outcomes:Increased ...;More accurate ...;Improved ..."): a sentence with a colon
followed by ';'-separated parts is split into its items. Privacy notices ("finalità del trattamento") and tables
of contents are skipped; decree premises ("VISTO ...", "CONSIDERATO ...") quote other acts' aims and rank last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import spacy
from spacy.language import Language
from spacy.lookups import Table, load_lookups
from spacy.matcher import Matcher
from spacy.tokens import Doc

from convergenze.core.records import Objective

LANGUAGES = ("it", "en")


def blank_pipeline(language: str) -> Language:
    """A blank spaCy pipeline (tokenizer and sentencizer): no model, offline."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} has no pipeline here; use one of {LANGUAGES}.")
    nlp = spacy.blank(language)
    nlp.add_pipe("sentencizer")
    return nlp


def lemma_table(language: str) -> Table:
    """spacy-lookups-data's lemma table for ``language`` (what spaCy's lookup lemmatizer reads)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} has no lemma table here; use one of {LANGUAGES}.")
    return load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")


def parse(nlp: Language, text: str, lemmas: Table | None = None) -> Doc:
    """Doc of ``text`` whose sentences also break at line ends (list items and headings have no full stop).

    The text keeps its case (the tokenizer splits 'identified.Hybrid' only before a capital); with ``lemmas``
    each token's lemma is looked up lower-cased, because the lookup tables only hold lower-case forms.
    """
    doc = nlp(text)
    for token in doc:
        if token.i and ("\n" in doc[token.i - 1].text or "\n" in doc[token.i - 1].whitespace_):
            token.is_sent_start = True
        if lemmas is not None:
            lower = token.lower_
            token.lemma_ = lemmas.get(lower, lower)
    return doc


_GOAL_VERBS_IT = (
    "promuovere sostenere favorire incentivare supportare rafforzare valorizzare contribuire realizzare finanziare "
    "agevolare sviluppare migliorare ridurre garantire accrescere incrementare potenziare contrastare ampliare "
    "consolidare stimolare diffondere creare aumentare tutelare proteggere accompagnare rilanciare facilitare "
    "assicurare innovare riqualificare digitalizzare attrarre prevenire superare colmare affrontare perseguire "
    "raggiungere conseguire dare rendere ripristinare recuperare riconvertire"
).split()
_GOAL_VERBS_EN = (
    "support promote foster develop strengthen improve reduce increase enable boost accelerate ensure contribute "
    "enhance address create build achieve advance facilitate encourage stimulate deliver provide demonstrate "
    "protect restore prevent tackle"
).split()
_ART: dict[str, Any] = {"LOWER": {"REGEX": r"^(?:l|dell|all|nell|dall|un)['’]$"}}
_TO: dict[str, Any] = {"LOWER": {"IN": ["a", "ad", "al", "alla", "allo", "ai", "agli", "alle", "all’", "all'"]}}
_HAS: dict[str, Any] = {"LOWER": {"IN": ["ha", "hanno", "avrà", "avranno", "aveva"]}}
_IT_VERB: dict[str, Any] = {"LOWER": {"IN": _GOAL_VERBS_IT}}
_EN_VERB: dict[str, Any] = {"LOWER": {"IN": _GOAL_VERBS_EN}}
_SUBJECTS = [
    "call",
    "topic",
    "programme",
    "program",
    "action",
    "initiative",
    "project",
    "mission",
    "fund",
    "scheme",
    "grant",
    "grants",
    "instrument",
    "partnership",
]
# (cue name, strength, patterns); strength 2 marks an objective on its own, 1 only ranks after everything else.
_CUES: tuple[tuple[str, int, list[list[dict[str, Any]]]], ...] = (
    (
        "ha l'obiettivo di",
        2,
        [
            [_HAS, _ART, {"LOWER": {"IN": ["obiettivo", "obiettivi"]}}],
            [_HAS, {"LOWER": {"IN": ["come", "per"]}}, {"LOWER": "obiettivo"}],
            [{"LOWER": "con"}, _ART, {"LOWER": "obiettivo"}, {"LOWER": "di"}],
            [{"LOWER": "si"}, {"LOWER": {"IN": ["pone", "pongono"]}}, _ART, {"LOWER": "obiettivo"}],
            [{"LOWER": "obiettivo"}, {"LOWER": {"IN": ["generale", "specifico", "principale"]}}],
        ],
    ),
    (
        "ha la finalità di",
        2,
        [
            [
                _HAS,
                {"LOWER": {"IN": ["la", "lo"]}},
                {"LOWER": {"IN": ["finalità", "scopo"]}},
                {"LOWER": "di"},
            ],
            [
                {"LOWER": {"IN": ["allo", "con"]}},
                {"LOWER": {"IN": ["scopo", "la"]}},
                {"LOWER": {"IN": ["di", "finalità"]}},
            ],
        ],
    ),
    ("si propone di", 2, [[{"LOWER": "si"}, {"LOWER": {"IN": ["propone", "propongono"]}}, {"LOWER": "di"}]]),
    ("mira a", 2, [[{"LOWER": {"IN": ["mira", "mirano", "mirando", "mirerà", "mireranno"]}}, _TO]]),
    ("intende sostenere", 2, [[{"LOWER": {"IN": ["intende", "intendono"]}}, _IT_VERB]]),
    (
        "finalizzato a",
        2,
        [[{"LOWER": {"REGEX": r"^(?:finalizzat|volt|orientat|indirizzat)[oaie]$"}}, _TO, _IT_VERB]],
    ),
    ("al fine di", 1, [[{"LOWER": "al"}, {"LOWER": "fine"}, {"LOWER": "di"}, _IT_VERB]]),
    (
        "aims to",
        2,
        [
            [{"LOWER": {"IN": ["aims", "aim", "aimed", "aiming"]}}, {"LOWER": {"IN": ["to", "at"]}}],
            [{"LOWER": {"IN": ["seeks", "intends"]}}, {"LOWER": "to"}],
            [{"LOWER": "is"}, {"LOWER": "intended"}, {"LOWER": "to"}],
            [
                {"LOWER": "with"},
                {"LOWER": "the"},
                {"LOWER": {"IN": ["aim", "objective", "purpose"]}},
                {"LOWER": "of"},
            ],
        ],
    ),
    # "the objectives of the research effort" is boilerplate in every Horizon topic: only the call's own.
    (
        "the objective of",
        2,
        [
            [
                {"LOWER": "the"},
                {"LOWER": {"IN": ["objective", "objectives", "aim", "aims", "purpose", "goal"]}},
                {"LOWER": "of"},
                {"LOWER": {"IN": ["this", "the"]}},
                {"LOWER": {"IN": _SUBJECTS}},
            ],
            [{"LOWER": {"IN": ["objective", "aim", "purpose", "goal"]}}, {"LOWER": "is"}, {"LOWER": "to"}],
        ],
    ),
    ("in order to", 1, [[{"LOWER": "in"}, {"LOWER": "order"}, {"LOWER": "to"}, _EN_VERB]]),
    # A sentence that starts with the word itself: "Obiettivo del bando è ...", "The objective is ...".
    (
        "obiettivo",
        2,
        [
            [{"IS_SENT_START": True}, _ART, {"LOWER": {"IN": ["obiettivo", "obiettivi", "finalità"]}}],
            [{"IS_SENT_START": True, "LOWER": {"IN": ["obiettivo", "obiettivi", "finalità", "scopo"]}}],
            [
                {"IS_SENT_START": True, "LOWER": "the"},
                {"LOWER": {"IN": ["objective", "objectives", "aim", "purpose"]}},
            ],
        ],
    ),
)

_NUMBERING = r"(?:(?:art(?:icolo|\.)?\s*\d+[a-z]?|\d+(?:\.\d+)*\.?|[A-Z]\.)\s*[.)\-–—:]?\s*)?"
_OBJECTIVE_WORDS = (
    r"obiettiv[oi](?:\s+(?:general[ei]|specific[oi]|strategic[oi]))?|finalit(?:à|a['’])"
    r"|oggetto\s+e\s+finalit(?:à|a['’])|expected\s+outcomes?|objectives?|aims?|purpose"
)
_OBJECTIVE_HEADING = re.compile(
    rf"^[ \t]*{_NUMBERING}(?P<cue>{_OBJECTIVE_WORDS}|scope)\b(?P<rest>[^\n]*)$", re.IGNORECASE | re.MULTILINE
)
# The portal's inline headings ("...research.Scope:Size of ..."), as split by the EU topics connector.
_EU_HEADING = re.compile(
    r"(?:(?<=[.:!?\s])|^)(Expected Outcomes?|Objectives?|Scope|Expected Impact|Specific "
    r"conditions|Eligibility|Themes and priorities|Description)\s*:"
)
_ARTICLE = re.compile(r"^\s*art(?:icolo|\.)\s*\d+", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*\d+(?:\.\d+)*[.)]?\s*[-–—]?\s*(?P<word>[A-ZÀ-Ý][^\s,;:]*)")
_CAPS = re.compile(r"^\s*[A-ZÀ-Ý][A-ZÀ-Ý'’ ,\-]{3,80}$")
_BULLET = re.compile(r"^[ \t]*(?:[-–—•▪◦·*●○]|\(?[a-z]\)|\(?\d{1,2}[.)]|\(?[ivx]{1,4}\))[ \t]+(?=\S)", re.IGNORECASE)
_SKIP = re.compile(
    r"trattamento\s+dei\s+dati|dati\s+personali|\bgdpr\b|privacy|finalit\S+\s+(?:del|di)\s+trattamento"
    r"|\.{5,}|…{2,}",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(
    r"^\s*(?:vist[oaie]|considerat[oaie]|tenuto\s+conto|ritenut[oaie]|premess[oaie]|richiamat"
    r"[oaie]|preso\s+atto|atteso)\b",
    re.IGNORECASE,
)
_CLAUSE_END = " \t\n;,:"
# A colon after one of these introduces a list ("contribute to all of the following outcomes:A;B", "Proposals
# should:A;B"); after anything else it is part of the sentence ("Size of the grants: EUR 150 000 ...").
_LEAD_IN = re.compile(
    r"following|seguent|expected|should|must|shall|intend|aim|obiettiv|finalit|propos|persegu"
    r"|contribu|\bdi$|\bto$",
    re.IGNORECASE,
)
_ITEM_MARKER = re.compile(r"\s*(?:\(?[a-z]\)|\(?\d{1,2}[.)]|[-–•])?\s*")
MAX_BLOCK_SENTENCES = 3


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    cue: str
    priority: int


class ObjectiveExtractor:
    """``run(text, language, section)`` -> the objective statements of the text, at most ``max_objectives``."""

    def __init__(
        self,
        max_objectives: int = 12,
        max_chars: int = 200_000,
        max_objective_chars: int = 600,
        max_block_units: int = 10,
        min_words: int = 3,
    ) -> None:
        if max_objectives < 1 or max_block_units < 1:
            raise ValueError("max_objectives and max_block_units must be at least 1.")
        if max_objective_chars < 40:
            raise ValueError("max_objective_chars must be at least 40 (an objective is a sentence or a list item).")
        self.max_objectives = max_objectives
        self.max_chars = max_chars
        self.max_objective_chars = max_objective_chars
        self.max_block_units = max_block_units
        self.min_words = min_words
        self._nlp = {language: blank_pipeline(language) for language in LANGUAGES}
        self._matchers: dict[str, Matcher] = {}
        for language, nlp in self._nlp.items():
            matcher = Matcher(nlp.vocab)
            for name, strength, patterns in _CUES:
                matcher.add(f"{strength}|{name}", patterns)
            self._matchers[language] = matcher

    def run(self, text: str, language: str | None = "it", section: str | None = None) -> list[Objective]:
        """Objectives in reading order; ``text[o.start:o.end] == o.text``. Texts other than English are read
        with the Italian tokenizer; the cues of both languages are always on (EU texts quote Italian and back)."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, not {type(text).__name__}; pass the section's text.")
        text = text[: self.max_chars]
        nlp_key = "en" if language == "en" else "it"
        units: list[_Unit] = []
        if section and (heading := _OBJECTIVE_HEADING.match(section.strip())):
            # The section itself is an objectives block (the EU connector's "Expected Outcome" section).
            units += self._block(text, 0, len(text), section.strip(), nlp_key, strong=self._strong(heading))
        else:
            units += self._headed_blocks(text, nlp_key)
        units += self._cue_sentences(text, nlp_key)
        return [
            Objective(
                text=text[u.start : u.end],
                start=u.start,
                end=u.end,
                language=language,
                cue=u.cue,
                section=section,
            )
            for u in self._select(text, units)
        ]

    # --- blocks under headings -----------------------------------------------------------------------------

    def _headed_blocks(self, text: str, nlp_key: str) -> list[_Unit]:
        units: list[_Unit] = []
        for heading in _OBJECTIVE_HEADING.finditer(text):
            line = heading.group(0)
            if len(line.strip()) > 120 or _SKIP.search(line) or line.rstrip().endswith((".", ";", ",")):
                continue
            cue, rest = " ".join(heading.group("cue").split()), heading.group("rest")
            inline = re.match(r"\s*(?:\d+(?:\.\d+)*\s*)?[-–—:]\s*(?=\S)", rest)
            if inline and len(rest.split()) >= 4:  # "Obiettivo Specifico 3 - Rafforzare la crescita ..."
                units.append(_Unit(heading.start("rest") + inline.end(), heading.end("rest"), cue, 3))
            body_start = heading.end() + 1
            units += self._block(
                text,
                body_start,
                self._block_end(text, body_start),
                cue,
                nlp_key,
                strong=self._strong(heading),
            )
        for heading in _EU_HEADING.finditer(text):
            name = heading.group(1)
            if name.lower().startswith(("expected outcome", "objective", "scope")):
                end = next((m.start() for m in _EU_HEADING.finditer(text, heading.end())), len(text))
                units += self._block(text, heading.end(), end, name, nlp_key, strong=name.lower() != "scope")
        return units

    @staticmethod
    def _strong(heading: re.Match[str]) -> bool:
        return heading.group("cue").lower() != "scope"

    @staticmethod
    def _block_end(text: str, start: int, max_chars: int = 3000) -> int:
        limit = min(len(text), start + max_chars)
        eu = _EU_HEADING.search(text, start, limit)
        if eu and eu.start() > start:
            limit = eu.start()
        position = start
        for line in text[start:limit].splitlines(keepends=True):
            if position > start and (_is_heading(line) or _OBJECTIVE_HEADING.match(line)):
                return position
            position += len(line)
        return limit

    def _block(self, text: str, start: int, end: int, cue: str, nlp_key: str, *, strong: bool) -> list[_Unit]:
        """The block's list items; without a list, its first sentences. Under a weak heading ('Scope', which
        describes the work rather than the aim) only a list counts."""
        if end <= start:
            return []
        units = self._items(text, start, end)
        if not units:
            clauses = [self._clauses(text, s, e) for s, e in self._sentences(text, start, end, nlp_key)]
            if any(len(parts) > 1 for parts in clauses):
                units = [part for parts in clauses for part in parts if len(parts) > 1 or strong]
            elif strong:  # plain prose: its opening sentences state the aim
                units = [parts[0] for parts in clauses[:MAX_BLOCK_SENTENCES]]
        return [_Unit(s, e, cue, 3 if strong else 1) for s, e in units[: self.max_block_units]]

    @staticmethod
    def _items(text: str, start: int, end: int) -> list[tuple[int, int]]:
        items = []
        position = start
        for line in text[start:end].splitlines(keepends=True):
            marker = _BULLET.match(line)
            if marker:
                items.append((position + marker.end(), position + len(line.rstrip())))
            position += len(line)
        return items

    def _sentences(self, text: str, start: int, end: int, nlp_key: str) -> list[tuple[int, int]]:
        doc = parse(self._nlp[nlp_key], text[start:end])
        return [(start + s.start_char, start + s.end_char) for s in doc.sents if s.text.strip()]

    @staticmethod
    def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
        """A sentence as list items: 'the following outcomes:A;B;C.' -> [A, B, C]; a plain sentence -> [it]."""
        colon = text.find(":", start, end)
        if colon >= 0 and _LEAD_IN.search(text[start:colon].rstrip()):
            start = colon + 1
        elif ";" not in text[start:end]:
            return [(start, end)]
        pieces, position = [], start
        for part in re.split(r"(;)", text[start:end]):
            if part != ";":
                marker = _ITEM_MARKER.match(part)
                pieces.append((position + (marker.end() if marker else 0), position + len(part)))
            position += len(part)
        return pieces

    # --- cue sentences ---------------------------------------------------------------------------------------

    def _cue_sentences(self, text: str, nlp_key: str) -> list[_Unit]:
        nlp = self._nlp[nlp_key]
        doc = parse(nlp, text)
        units: list[_Unit] = []
        for match_id, first, last in self._matchers[nlp_key](doc):
            strength = int(nlp.vocab.strings[match_id].split("|", 1)[0])
            cue = " ".join(doc[first:last].text.lower().split())
            sentence = doc[first].sent
            start, end = sentence.start_char, sentence.end_char
            priority = strength - (1 if _PREAMBLE.match(text[start:end]) else 0)
            if text[start:end].rstrip().endswith(":"):
                # "Il bando ha l'obiettivo di:" followed by a list: the items are the objectives.
                items = self._items(text, end, self._block_end(text, end))
                units += [_Unit(s, e, cue, priority + 1) for s, e in items[: self.max_block_units]]
                if items:
                    continue
            units += [_Unit(s, e, cue, priority) for s, e in self._clauses(text, start, end)]
        return units

    # --- ranking -----------------------------------------------------------------------------------------------

    def _select(self, text: str, units: list[_Unit]) -> list[_Unit]:
        """Best first (heading blocks, strong cues, weak cues), no overlaps or repeats, back in reading order."""
        chosen: list[_Unit] = []
        seen: set[str] = set()
        weak_left = max(1, self.max_objectives // 3)  # a 'Scope' list or 'al fine di' must not crowd out aims
        for unit in sorted(units, key=lambda u: (-u.priority, u.start)):
            trimmed = self._trim(text, unit)
            if trimmed is None or (trimmed.priority <= 1 and weak_left == 0):
                continue
            key = " ".join(text[trimmed.start : trimmed.end].casefold().split())
            if key in seen or any(trimmed.start < c.end and c.start < trimmed.end for c in chosen):
                continue
            seen.add(key)
            chosen.append(trimmed)
            weak_left -= trimmed.priority <= 1
            if len(chosen) == self.max_objectives:
                break
        return sorted(chosen, key=lambda u: u.start)

    def _trim(self, text: str, unit: _Unit) -> _Unit | None:
        start, end = unit.start, unit.end
        if heading := _EU_HEADING.match(text, start):  # a sentence that still carries "Scope:" in front
            start = heading.end()
        while start < end and text[start] in " \t\n\r\"'“”«»":
            start += 1
        while end > start and text[end - 1] in _CLAUSE_END + "\r":
            end -= 1
        if end - start > self.max_objective_chars:
            cut = text.rfind(" ", start, start + self.max_objective_chars)
            end = cut if cut > start else start + self.max_objective_chars
        body = text[start:end]
        if len(body.split()) < self.min_words or _SKIP.search(body):
            return None
        return _Unit(start, end, unit.cue, unit.priority)


def _is_heading(line: str) -> bool:
    """A line that opens the next part of the document: 'Articolo 2 – Beneficiari', '2. Beneficiari', 'RISORSE'.
    A numbered line that starts with an infinitive ('1. Rafforzare la ...') is a list item, not a heading."""
    stripped = line.strip()
    if not stripped or len(stripped) > 100 or stripped.endswith((".", ";", ",", ":")):
        return False
    if _ARTICLE.match(stripped) or _CAPS.match(stripped):
        return True
    numbered = _NUMBERED.match(stripped)
    return bool(numbered and len(stripped.split()) <= 7 and not re.search(r"(?:are|ere|ire)$", numbered.group("word")))
