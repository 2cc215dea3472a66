"""Call metadata extraction: dates, amounts, beneficiaries, territory, issuer, programmes, codes and status
of a funding call, each value with the sentence it came from.

    extractor = CallMetadataExtractor(today=date(2026, 5, 1))
    meta = extractor.run(text)            # -> convergenze.core.records.CallMetadata
    meta.deadline.value, meta.deadline.evidence.text

The spaCy pipeline (a blank Italian pipeline with a sentencizer, no model download) and the gazetteer are
built on first use and reused by every later call.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from datetime import date
from functools import lru_cache

import spacy
from spacy.language import Language

from convergenze.core.records import (
    Amount,
    Beneficiary,
    CallMetadata,
    Code,
    DateValue,
    Evidence,
    FirmSizeValue,
    Place,
    Programme,
    SupportFormValue,
)
from convergenze.core.vocabulary import ActorType, AmountKind, CallStatus, DateKind, FirmSize, PlaceLevel, SupportForm

from . import amounts_it, call_cues, call_parties, call_support, dates_it
from .gazetteer import EUROPE, NATIONAL, Gazetteer, default_gazetteer

_BLOCK_CHARS = 100_000  # spaCy refuses texts over nlp.max_length; long acts are segmented in blocks
_EVIDENCE_CHARS = 400
_LONG_RUN = re.compile(r"\S{80,}")
_PREAMBLE_SHARE = 0.5
_DECREE_VERB = re.compile(
    r"^\s*(?:DECRETA|DETERMINA|DISPONE|DELIBERA|ADOTTA|EMANA|DECIDE)\s*:?\s*$", re.MULTILINE
)
_ROLLING = re.compile(
    r"(?:procedura|procedimento|modalità)\s+(?:valutativa\s+)?(?:con\s+procedimento\s+)?a\s+sportello|\ba\s+sportello\b"
    r"|sportello\s+(?:resta\s+|rimane\s+)?(?:sempre\s+)?aperto|\bsempre\s+aperto|present\w+\s+continuativamente"
    r"|(?:(?:fino|sino)\s+(?:a[dl]?\s*(?:l['’])?|alla\s+data\s+dell['’](?:avvenuto\s+)?)|\bad\s+|(?:fatto\s+)?salvo\s+"
    r"(?:l['’]\s*)?(?:chiusura\s+anticipata\s+per\s+(?:l['’]\s*)?|anticipat[oa]\s+|eventuale\s+)?)\s*"
    r"esaurimento\s+(?:anticipato\s+)?(?:delle\s+|dei\s+|della\s+)?"
    r"(?:risorse|fondi|dotazione|disponibilit\w+|stanziament\w+)|first[\s-]come,?\s+first[\s-]served"
    r"|until\s+(?:the\s+)?(?:funds|budget|resources)\s+(?:are|is|have\s+been)\s+exhausted",
    re.IGNORECASE,
)
_RANKED = re.compile(r"graduatori\w*|punteggi\w*|ordine\s+decrescente|scorrimento", re.IGNORECASE)


@lru_cache(maxsize=1)
def sentence_pipeline() -> Language:
    """A blank Italian spaCy pipeline with a rule-based sentencizer, built once per process on first use."""
    nlp = spacy.blank("it")
    nlp.add_pipe("sentencizer")
    return nlp


class _Sentences:
    """Sentence boundaries of one text, looked up by character offset."""

    def __init__(self, text: str, work: str, nlp: Language) -> None:
        self.text = text
        self.starts: list[int] = []
        self.ends: list[int] = []
        blocks = _blocks(work)
        for offset, doc in zip((b[0] for b in blocks), nlp.pipe(b[1] for b in blocks), strict=True):
            for sent in doc.sents:
                self.starts.append(offset + sent.start_char)
                self.ends.append(offset + sent.end_char)
        if not self.starts:
            self.starts, self.ends = [0], [len(text)]

    def bounds(self, pos: int) -> tuple[int, int]:
        i = max(0, bisect.bisect_right(self.starts, pos) - 1)
        return self.starts[i], max(self.ends[i], pos)

    def start_of(self, pos: int) -> int:
        return self.bounds(pos)[0]

    def evidence(self, start: int, end: int) -> Evidence:
        """The sentence around ``start:end``, narrowed to the surrounding lines when the sentence is a long
        run of PDF lines (tables and headings carry no full stop)."""
        s, e = self.bounds(start)
        e = max(e, end)
        if e - s > _EVIDENCE_CHARS:
            # The match's own line and the ones either side of it, inside the sentence.
            line_start = self.text.rfind("\n", s, start)
            s = max(s, self.text.rfind("\n", s, line_start) + 1 if line_start > s else s)
            line_end = self.text.find("\n", end, e)
            next_end = self.text.find("\n", line_end + 1, e) if line_end != -1 else -1
            e = next_end if next_end != -1 else (line_end if line_end != -1 else e)
            if e - s > _EVIDENCE_CHARS:
                s, e = max(s, start - _EVIDENCE_CHARS // 2), min(e, end + _EVIDENCE_CHARS // 2)
        while s < start and self.text[s].isspace():
            s += 1
        while e > end and self.text[e - 1].isspace():
            e -= 1
        return Evidence(self.text[s:e], s, e)


def _blocks(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    while start < len(text):
        end = (
            len(text)
            if len(text) - start <= _BLOCK_CHARS
            else text.rfind("\n", start, start + _BLOCK_CHARS) + 1
        )
        end = end if end > start else min(len(text), start + _BLOCK_CHARS)
        out.append((start, text[start:end]))
        start = end
    return out


def derive_status(opening: DateValue | None, deadline: DateValue | None, rolling: bool, today: date) -> CallStatus:
    """open, forthcoming, closed or unknown on ``today``. A rolling call is open once it has opened (the text
    cannot say when its money runs out); a call with neither a deadline nor a passed opening is unknown."""
    opens = date.fromisoformat(opening.value[:10]) if opening else None
    closes = date.fromisoformat(deadline.value[:10]) if deadline else None
    if opens is not None and today < opens:
        return CallStatus.FORTHCOMING
    if closes is not None:
        return CallStatus.CLOSED if today > closes else CallStatus.OPEN
    return CallStatus.OPEN if rolling and opens is not None else CallStatus.UNKNOWN


class CallMetadataExtractor:
    """Reads a call's metadata from its text. ``today`` fixes the day status is judged on (default: the
    day of each ``run``); ``gazetteer`` replaces the default ISTAT gazetteer (built on first use)."""

    def __init__(self, *, today: date | None = None, gazetteer: Gazetteer | None = None) -> None:
        if today is not None and not isinstance(today, date):
            raise ValueError(
                f"today must be a datetime.date, got {type(today).__name__}; pass date(2026, 5, 1)."
            )
        if gazetteer is not None and not isinstance(gazetteer, Gazetteer):
            raise ValueError(
                f"gazetteer must be an extractors.gazetteer.Gazetteer, got {type(gazetteer).__name__}; "
                "pass default_gazetteer() or leave it out."
            )
        self.today = today
        self._gazetteer = gazetteer

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gazetteer is None:
            self._gazetteer = default_gazetteer()
        return self._gazetteer

    def run(self, text: str, *, language: str = "it") -> CallMetadata:
        if not isinstance(text, str):
            raise ValueError(
                f"text must be a str, got {type(text).__name__}; pass the document's plain text."
            )
        if language not in ("it", "en"):
            raise ValueError(f"language {language!r} is not supported; pass 'it' or 'en'.")
        return _Run(text, language, sentence_pipeline(), self.gazetteer).metadata(self.today or date.today())


class _Run:
    """One extraction: the text, its sentences and its premises, shared by the field readers below."""

    def __init__(self, text: str, language: str, nlp: Language, gazetteer: Gazetteer) -> None:
        # Runs of glyph codes from broken PDF fonts ("(cid:374)(cid:286)...") say nothing and make every scan
        # crawl; blanking them keeps every offset where it was, so evidence is still cut from the original.
        self.text = _LONG_RUN.sub(lambda m: "\x00" * len(m.group(0)), text)
        self.language, self.gazetteer = language, gazetteer
        self.sents = _Sentences(text, self.text, nlp)
        verb = _DECREE_VERB.search(text)
        # A "DECRETA" past the first half closes an annex or a signature block, not the act's premises.
        self.preamble_end = verb.end() if verb and verb.start() < len(text) * _PREAMBLE_SHARE else 0
        self.repeated_lines = Counter(line.strip() for line in text.splitlines() if len(line.strip()) > 8)

    def in_preamble(self, pos: int) -> bool:
        return pos < self.preamble_end or call_cues.in_citation(self.text, pos)

    def ev(self, start: int, end: int) -> Evidence:
        return self.sents.evidence(start, end)

    def metadata(self, today: date) -> CallMetadata:
        non_call = call_cues.find_non_call(self.text)
        dates, opening, deadline = self.dates(today)
        rolling = self.rolling()
        amounts, picked = self.amounts()
        rate = amounts_it.pick_rate(amounts_it.find_rates(self.text, self.sents.start_of))
        issuer = call_parties.find_issuer(self.text, self.gazetteer)
        cups, cigs = call_cues.find_codes(self.text)
        return CallMetadata(
            is_funding_call=non_call is None,
            non_call_kind=non_call.value if non_call else None,
            non_call_evidence=self.ev(non_call.start, non_call.end) if non_call else None,
            opening=opening,
            deadline=deadline,
            rolling=rolling is not None,
            rolling_evidence=rolling,
            dates=dates,
            total_budget=picked["total_budget"],
            min_per_project=picked["min_per_project"],
            max_per_project=picked["max_per_project"],
            amounts=amounts,
            cofinancing_rate=rate.value if rate else None,
            cofinancing_evidence=self.ev(rate.start, rate.end) if rate else None,
            beneficiaries=self.beneficiaries(),
            support_forms=[
                SupportFormValue(SupportForm(s.value), self.ev(s.start, s.end))
                for s in call_support.find_support_forms(self.text, self.sents.bounds, self.in_preamble)
            ],
            firm_sizes=[
                FirmSizeValue(FirmSize(s.value), self.ev(s.start, s.end))
                for s in call_support.find_firm_sizes(self.text, self.sents.bounds, self.in_preamble)
            ],
            territory=self.territory(issuer),
            issuer=issuer.value if issuer else None,
            issuer_evidence=self.ev(issuer.start, issuer.end) if issuer else None,
            programmes=[
                Programme(s.value, self.ev(s.start, s.end))
                for s in call_cues.find_programmes(self.text, self.sents.bounds, self.in_preamble)
            ],
            cup_codes=[Code(s.value, self.ev(s.start, s.end)) for s in cups],
            cig_codes=[Code(s.value, self.ev(s.start, s.end)) for s in cigs],
            status=derive_status(opening, deadline, rolling is not None, today),
        )

    def dates(self, today: date) -> tuple[list[DateValue], DateValue | None, DateValue | None]:
        classified = [
            dates_it.ClassifiedDate(c.mention, "other", 0) if self._not_own_date(c.mention.start) else c
            for c in dates_it.classify_dates(self.text, dates_it.find_dates(self.text), self.sents.bounds)
        ]
        values = {id(c): self._date_value(c) for c in classified}
        window = dates_it.current_window(dates_it.windows(classified), today)
        opening, deadline = window or (dates_it.pick(classified, "opening"), dates_it.pick(classified, "deadline"))
        if opening and deadline and opening.mention.day > deadline.mention.day:
            opening = None  # an "opening" after the deadline is some later phase, not the call's opening
        return (
            list(values.values()),
            values[id(opening)] if opening else None,
            values[id(deadline)] if deadline else None,
        )

    def _not_own_date(self, pos: int) -> bool:
        """Premises cite other acts' dates; a line repeated on many pages is a header ("16/04/2026 - BUR")."""
        if self.in_preamble(pos):
            return True
        start, end = self.text.rfind("\n", 0, pos) + 1, self.text.find("\n", pos)
        return (
            self.repeated_lines.get(self.text[start : end if end != -1 else len(self.text)].strip(), 0) >= 3
        )

    def _date_value(self, item: dates_it.ClassifiedDate) -> DateValue:
        m = item.mention
        return DateValue(m.iso, DateKind(item.kind), self.ev(m.start, m.end))

    def rolling(self) -> Evidence | None:
        for match in _ROLLING.finditer(self.text):
            sent = self.sents.bounds(match.start())
            if not self.in_preamble(match.start()) and not _RANKED.search(self.text, *sent):
                return self.ev(match.start(), match.end())
        return None

    def amounts(self) -> tuple[list[Amount], dict[str, Amount | None]]:
        mentions = amounts_it.find_amounts(self.text, self.language)
        classified = amounts_it.classify_amounts(self.text, mentions, self.sents.start_of, self.in_preamble)
        values = {
            id(c): Amount(c.mention.value, AmountKind(c.kind), self.ev(c.mention.start, c.mention.end))
            for c in classified
        }
        picked: dict[str, Amount | None] = {}
        for kind in ("total_budget", "min_per_project", "max_per_project"):
            best = amounts_it.pick(classified, kind)
            picked[kind] = values[id(best)] if best else None
        return list(values.values()), picked

    def beneficiaries(self) -> list[Beneficiary]:
        spans = call_parties.find_beneficiaries(self.text, self.sents.bounds, self.in_preamble)
        return [Beneficiary(ActorType(s.value), re.sub(r"\s+", " ", s.detail), self.ev(s.start, s.end)) for s in spans]

    def territory(self, issuer: call_cues.Span | None) -> list[Place]:
        """The places the text names as the call's; when it names none, where its issuer stands for (a ministry:
        the whole country; "Regione X", "Camera di commercio di Y", FILSE: their place), quoting the issuer."""
        places = [
            Place(m.entry.name, PlaceLevel(m.entry.level), m.entry.istat_code, self.ev(m.start, m.end))
            for m in self.gazetteer.find_places(self.text)
            if not self.in_preamble(m.start)
        ]
        national = self.gazetteer.find_national(self.text)
        if national is not None:
            places.insert(0, Place(NATIONAL, PlaceLevel.NATIONAL, None, self.ev(national.start(), national.end())))
        european = self.gazetteer.find_european(self.text)
        if european is not None:
            places.append(Place(EUROPE, PlaceLevel.EU, None, self.ev(european.start(), european.end())))
        if places or issuer is None:
            return places
        scope = call_parties.issuer_scope(issuer, self.gazetteer)
        if scope is None:
            return []
        evidence = self.ev(issuer.start, issuer.end)
        if scope.entry is None:
            return [Place(NATIONAL if scope.level == PlaceLevel.NATIONAL else EUROPE, scope.level, None, evidence)]
        return [Place(scope.entry.name, scope.level, scope.entry.istat_code, evidence)]
