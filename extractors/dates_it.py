"""Dates in Italian (and English) funding calls: find them, attach a time of day, tell deadline from opening.

``find_dates`` returns every date expression with its offsets; ``classify_dates`` labels each one from the cue
words just before it ("entro", "scadenza", "a partire dalle", "Deadline", ...); ``pick`` chooses the call's
own deadline or opening among the labelled ones, preferring dates about submitting applications.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from .call_cues import nearest_cue

MONTHS_IT = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)
MONTHS_EN = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_NUMBER = (
    {name: i + 1 for i, name in enumerate(MONTHS_IT)}
    | {name: i + 1 for i, name in enumerate(MONTHS_EN)}
    | {name[:3]: i + 1 for i, name in enumerate(MONTHS_EN)}
    | {"sept": 9}
)

_IT = "|".join(MONTHS_IT)
# Longest names first: the regex alternation takes the first branch that fits.
_EN = "|".join(sorted({*MONTHS_EN, *(m[:3] for m in MONTHS_EN), "sept"}, key=len, reverse=True))
_YEAR = r"(?:19|20)\d{2}"
_ORDINAL = r"\s*(?:°|º)?"

_DATE = re.compile(
    rf"(?<![\w.,/])(?P<d1>\d{{1,2}}){_ORDINAL}\s+(?P<m1>{_IT})\b(?:\s*,?\s*(?P<y1>{_YEAR})(?!\d))?"
    rf"|(?<![\w.,/])(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_EN})\b\.?,?\s+(?P<y2>{_YEAR})(?!\d)"
    rf"|\b(?P<m3>{_EN})\b\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>{_YEAR})(?!\d)"
    rf"|(?<![\w.,/\-])(?P<d4>\d{{1,2}})(?P<s4>[/.\-])(?P<m4>\d{{1,2}})(?P=s4)(?P<y4>{_YEAR}|\d{{2}})(?!\d)(?![.,/\-]\d)"
    rf"|(?<![\w.,/\-])(?P<y5>{_YEAR})-(?P<m5>\d{{2}})-(?P<d5>\d{{2}})"
    rf"(?:[T ](?P<h5>\d{{2}}):(?P<n5>\d{{2}}))?(?!\d)",
    re.IGNORECASE,
)
# "dal 15 al 30 settembre 2026": the first day borrows month and year from the second date.
_RANGE_DAY = re.compile(rf"\b(?:dal|dall['’])\s*(?P<d>\d{{1,2}}){_ORDINAL}\s+(?:al|all['’])\s*(?=\d)", re.IGNORECASE)
_TIME_BEFORE = re.compile(
    r"(?:\bore|\bh\.?)\s*(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?::\d{2})?\s*(?:del(?:l['’])?|di|,)?\s*(?:giorno\s+)?$",
    re.IGNORECASE,
)
_TIME_AFTER = re.compile(
    r"\s*(?:[,–\-(]\s*)?(?:(?:alle\s+)?ore\s+|h\.?\s*)(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?::\d{2})?(?![\d])(?![.,]\d)"
    r"|\s*(?:[,–\-(]\s*)?(?:alle\s+)?(?P<h2>\d{1,2}):(?P<m2>\d{2})(?::\d{2})?(?!\d)",
    re.IGNORECASE,
)
_YEAR_CARRY_GAP = re.compile(
    r"\s*(?:al|all['’]|alle|fino\s+al(?:l['’]|le)?|e\s+(?:il|l['’])|[-–—]|to|until|and)\s*", re.I
)

_CUES: dict[str, re.Pattern[str]] = {
    "deadline": re.compile(
        r"scadenz\w*|\bentro\b(?:\s+e\s+non\s+oltre)?|\bnon\s+oltre\b|\btermine\b|\btermini\b|chiusur\w*"
        r"|\b(?:fino|sino)\s+(?:a|al|all['’]|alle|alla)\b|(?<![a-z])deadline\b|closing\s+date|\buntil\b|\bclos(?:e|es|ing)\b"
        r"|\bultimo\s+giorno\b|\bby\b",
        re.IGNORECASE,
    ),
    "opening": re.compile(
        r"\bapertur\w*|\baperto\b|\bapert[ae]\b|a\s+partire\s+da\w*|a\s+decorrere\s+da\w*|\bdal\b|\bdall['’]|\bdalle\b"
        r"|\bdalla\b|(?<![a-z])opening\b|\bopens?\b|\bfrom\b|\bstarting\b|\bavvio\b|\bdisponibile\b|\bè\s+possibile\b",
        re.IGNORECASE,
    ),
    "other": re.compile(
        r"\bdecret\w*|\bd\.\s*(?:m|l|lgs|p\.\s*r|d|g\.\s*r|p\.\s*c\.\s*m)\b\.?|\bdpcm\b|\bdm\b|\bdd\b|\blegge\b|\bl\.|\bn\.\s*\d+"
        r"|delibera\w*|determin\w*|regolament\w*|circolar\w*|\bprot\b|pubblicat\w*|gazzetta|registrat\w*"
        r"|approvat\w*|convertit\w*|emanat\w*|sottoscritt\w*|stipulat\w*|costituit\w*|\bnat[oaie]\b"
        r"|(?<![a-z])publication\b|\bpublished\b|\badopted\b|\bregulation\b|\bdirective\b|\bdecision\b|\bnota\b"
        r"|\bsuccessivament\w*|\bantecedent\w*|\bprecedent\w*|\bin\s+data\b|\bdecorrenza\b|\bvigore\b"
        r"|raccomandazion\w*|direttiv\w*|colpit\w*|alluvion\w*|sism\w*|calamit\w*",
        re.IGNORECASE,
    ),
}
# Phrases that open the submission period although they end in a deadline word: "apertura dei termini",
# "il termine iniziale per la presentazione".
_OPENING_PHRASE = re.compile(
    r"(?:apertura\s+dei\s+termini|termine\s+iniziale|(?:data|termine)\s+di\s+apertura)[^.;]{0,130}$", re.IGNORECASE
)
# Dates that belong to something else than the call's window: a regulation's or an aid scheme's validity
# ("Regolamento (UE) n. 651/2014 valido fino al 31/12/2026"), a date by which something will be published
# ("saranno pubblicate ... entro il 26 febbraio 2025").
_NOT_THE_CALLS = re.compile(
    r"(?:\bregolament\w*|\bregime\b|\bvalid[oaie]\b|\bvalidità\b|\b(?:saranno|verranno|sarà|verrà)\s+(?:resi?\s+not\w*"
    r"|pubblicat\w*|comunicat\w*)|\bverificat[oaie]si\b)[^.;]{0,120}$",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[,;:]\s")
_CUE_REACH = 60
# Cues that name the call's own dates whatever else the sentence says ("Scadenza: 15/03/2026").
_STRONG_CUE = re.compile(
    r"scadenz\w*|deadline|closing\s+date|termine\s+(?:ultimo|finale|perentorio)|apertur\w*|opening",
    re.IGNORECASE,
)
# Submission-related words mark the call's own dates; project-execution words mark other deadlines.
_APPLICATION = re.compile(
    r"domand\w*|candidatur\w*|istanz\w*|propost\w*|richiest\w*|partecipazion\w*|presentazion\w*|present\w+|invi\w+"
    r"|trasmess\w*|pervenir\w*|sportello|formulario|applications?|submission|submit\w*|proposals?|\bcall\b",
    re.IGNORECASE,
)
_SUBMISSION = re.compile(
    r"\binvi\w+|\bpresenta\w*|protocollazion\w*|submission|submit\w*|\bapplications?\b", re.IGNORECASE
)
_EXECUTION = re.compile(
    r"realizza\w*|conclu\w*|ultima\w*|rendicont\w*|erogazion\w*|spese|sostenut\w*|avviat\w*|validità|pagament\w*"
    r"|liquidazion\w*|ammortament\w*|collaud\w*|durata|graduatori\w*|esit\w*|valutazion\w*|evaluation"
    r"|grant agreement",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date expression in a text; ``start``/``end`` include an attached time of day ("ore 12:00 del")."""

    day: date
    time_of_day: time | None
    start: int
    end: int

    @property
    def iso(self) -> str:
        if self.time_of_day is None:
            return self.day.isoformat()
        return f"{self.day.isoformat()}T{self.time_of_day.strftime('%H:%M')}"


@dataclass(frozen=True, slots=True)
class ClassifiedDate:
    mention: DateMention
    kind: str
    score: int


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 31/02 and friends are not dates
        return None


def _make_time(hour: str | None, minute: str | None) -> time | None:
    if hour is None:
        return None
    h, m = int(hour), int(minute or 0)
    return time(h, m) if h < 24 and m < 60 else None


def _year(raw: str) -> int:
    return int(raw) if len(raw) == 4 else 2000 + int(raw)


def _parts(match: re.Match[str]) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a match of ``_DATE``."""
    g = match.groupdict()
    if g["d1"]:
        return (int(g["y1"]) if g["y1"] else None), _MONTH_NUMBER[g["m1"].lower()], int(g["d1"])
    if g["d2"]:
        return int(g["y2"]), _MONTH_NUMBER[g["m2"].lower()], int(g["d2"])
    if g["d3"]:
        return int(g["y3"]), _MONTH_NUMBER[g["m3"].lower()], int(g["d3"])
    if g["d4"]:
        return _year(g["y4"]), int(g["m4"]), int(g["d4"])
    return int(g["y5"]), int(g["m5"]), int(g["d5"])


def _attach_time(text: str, start: int, end: int, iso_time: time | None) -> tuple[time | None, int, int]:
    if iso_time is not None:
        return iso_time, start, end
    before = _TIME_BEFORE.search(text, max(0, start - 40), start)
    if before and before.end() == start:
        found = _make_time(before.group("h"), before.group("m"))
        if found is not None:
            return found, before.start(), end
    after = _TIME_AFTER.match(text, end, min(len(text), end + 30))
    if after:
        found = _make_time(after.group("h") or after.group("h2"), after.group("m") or after.group("m2"))
        if found is not None:
            return found, start, after.end()
    return None, start, end


def find_dates(text: str) -> list[DateMention]:
    """Every valid date in ``text``, in order. Impossible dates (31/02) and day-month without a year that no
    following date supplies ("dal 1° giugno al 30 settembre 2026" carries 2026 back) are left out."""
    raw = [(m, _parts(m)) for m in _DATE.finditer(text)]
    found: list[DateMention] = []
    pending: list[tuple[re.Match[str], int, int]] = []  # day-month waiting for a year
    for match, parts in raw:
        if parts is None:
            continue
        year, month, day = parts
        if year is None:
            pending.append((match, month, day))
            continue
        for p_match, p_month, p_day in pending:
            if _YEAR_CARRY_GAP.fullmatch(text, p_match.end(), match.start()):
                _append(found, text, p_match.start(), p_match.end(), _make_date(year, p_month, p_day), None)
        pending.clear()
        iso_time = _make_time(match.group("h5"), match.group("n5")) if match.group("y5") else None
        _append(found, text, match.start(), match.end(), _make_date(year, month, day), iso_time)
    found.extend(_range_starts(text, found))
    return sorted(found, key=lambda m: m.start)


def _append(out: list[DateMention], text: str, start: int, end: int, day: date | None, iso_time: time | None) -> None:
    if day is None:
        return
    tod, start, end = _attach_time(text, start, end, iso_time)
    out.append(DateMention(day, tod, start, end))


def _range_starts(text: str, found: list[DateMention]) -> list[DateMention]:
    by_start = {m.start: m for m in found}
    starts = []
    for match in _RANGE_DAY.finditer(text):
        end_date = by_start.get(match.end())
        if end_date is None:
            continue
        day = _make_date(end_date.day.year, end_date.day.month, int(match.group("d")))
        if day is not None and day <= end_date.day:
            starts.append(DateMention(day, None, match.start("d"), match.end("d")))
    return starts


def parse_date(text: str) -> date:
    """The single date that ``text`` is ("15 marzo 2026", "15/03/2026", "2026-03-15", "17 March 2026")."""
    found = find_dates(text)
    if len(found) != 1 or text[: found[0].start].strip() or text[found[0].end :].strip():
        raise ValueError(f"{text!r} is not exactly one valid date; pass e.g. '15 marzo 2026' or '15/03/2026'.")
    return found[0].day


def classify_dates(
    text: str, mentions: list[DateMention], sentence_of: Callable[[int], tuple[int, int]]
) -> list[ClassifiedDate]:
    """Label each mention opening, deadline or other from the nearest cue before it in its sentence."""
    out: list[ClassifiedDate] = []
    prev_end = 0
    for i, mention in enumerate(mentions):
        sent, sent_end = sentence_of(mention.start)
        window = text[max(sent, prev_end, mention.start - 100) : mention.start]
        cue = nearest_cue(_CUES, window)
        kind = cue[0] if cue and cue[1] <= _CUE_REACH else "other"
        if _OPENING_PHRASE.search(text, max(sent, prev_end, mention.start - 160), mention.start):
            kind = "opening"
        if i and out[-1].kind == "opening" and _YEAR_CARRY_GAP.fullmatch(window) and mention.day >= mentions[i - 1].day:
            kind = "deadline"  # the end of a "dal ... al ..." range
        if kind != "other" and _NOT_THE_CALLS.search(text, max(sent, mention.start - 150), mention.start):
            kind = "other"
        # The sentence before often says what is due ("La domanda è inviata ... a decorrere dal giorno ...").
        lead = text[max(0, sent - 150) : sent]
        strong = bool(_STRONG_CUE.search(window[-_CUE_REACH:]))
        sentence = text[sent : max(sent_end, mention.end)]
        clause = _clause(text, sent, max(sent_end, mention.end), mention)
        out.append(ClassifiedDate(mention, kind, _score(kind, lead, sentence, clause, mention, strong)))
        prev_end = mention.end
    return out


def _clause(text: str, start: int, end: int, mention: DateMention) -> str:
    """The part of the sentence between the punctuation marks around the date (a window's two dates and the
    words between them stay together)."""
    before = [m.end() for m in _CLAUSE_END.finditer(text, start, mention.start)]
    after = _CLAUSE_END.search(text, mention.end, end)
    return text[before[-1] if before else start : after.start() if after else end]


def _score(kind: str, lead: str, sentence: str, clause: str, mention: DateMention, strong: bool) -> int:
    """Submission words in the sentence (or the one before) count for a date; project-execution words only in
    the date's own clause count against it ("per i costi sostenuti ..., da presentarsi a partire dal ...")."""
    if kind == "other":
        return 0
    score = 1 + (2 if _APPLICATION.search(sentence) or _APPLICATION.search(lead) else 0) + strong
    score += (1 if _SUBMISSION.search(sentence) else 0) + (1 if mention.time_of_day else 0)
    return score - (3 if _EXECUTION.search(clause) else 0)


def windows(classified: list[ClassifiedDate]) -> list[tuple[ClassifiedDate, ClassifiedDate]]:
    """Submission windows written as ranges ("dal 10/09/2025 al 31/10/2025"), in order: an opening followed at
    once by a deadline, both about applying."""
    return [
        (first, second)
        for first, second in zip(classified, classified[1:], strict=False)
        if first.kind == "opening" and second.kind == "deadline" and first.score >= 2 and second.score >= 2
    ]


def current_window(
    found: list[tuple[ClassifiedDate, ClassifiedDate]], today: date
) -> tuple[ClassifiedDate, ClassifiedDate] | None:
    """Of several windows (one per "sportello"), the one open on ``today`` or the next to open; the last one
    once all have closed. None for fewer than two windows."""
    if len(found) < 2:
        return None
    coming = [w for w in found if w[1].mention.day >= today]
    return min(coming, key=lambda w: w[1].mention.day) if coming else max(found, key=lambda w: w[1].mention.day)


def pick(classified: list[ClassifiedDate], kind: str) -> ClassifiedDate | None:
    """The best-scoring date of ``kind`` (first on ties); dates that only concern running the project lose."""
    best: ClassifiedDate | None = None
    for item in classified:
        if item.kind == kind and item.score >= 2 and (best is None or item.score > best.score):
            best = item
    return best
