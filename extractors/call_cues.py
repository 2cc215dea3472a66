"""Cues shared by the call readers, and the finders for what a call names rather than counts: which programme
pays for it, its CUP/CIG codes, and whether it is a call at all.

Finders return ``Span(value, start, end)`` over the text they were given; ``call_metadata`` turns spans into
evidence. Decree premises ("VISTO il regolamento ... FESR ...") cite other acts, so callers pass
``in_preamble`` to keep them from counting as the call's own facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from convergenze.core.vocabulary import NonCallKind


@dataclass(frozen=True, slots=True)
class Span:
    value: str
    start: int
    end: int
    detail: str = ""


def nearest_cue(cues: dict[str, re.Pattern[str]], window: str) -> tuple[str, int] | None:
    """The kind of the cue that ends closest to the end of ``window`` and its distance from there."""
    best: tuple[str, int] | None = None
    for kind, pattern in cues.items():
        ends = [m.end() for m in pattern.finditer(window)]
        if ends and (best is None or len(window) - ends[-1] < best[1]):
            best = (kind, len(window) - ends[-1])
    return best


def word_regex(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w])(?:{pattern})(?![\w])", flags)


def any_word(words: tuple[str, ...], lowered: str) -> bool:
    """A substring test in C before a regex that would walk every character (most texts name few bodies)."""
    return any(w in lowered for w in words)


_CITATION_START = re.compile(
    r"\s*(?:VIST[OAI]|CONSIDERAT[OAI]|RITENUT[OA]|RILEVAT[OA]|TENUTO\s+CONTO|PRESO\s+ATTO|VALUTAT[OA]|ATTES[OA]"
    r"|RICHIAMAT[OAI]|DATO\s+ATTO|VISTE)",
    re.IGNORECASE,
)


def in_citation(text: str, pos: int) -> bool:
    """Whether ``pos`` is inside a premise clause ("VISTO il decreto ...;") of a decree."""
    start = pos
    for _ in range(15):  # a clause runs over a handful of lines
        line_start = text.rfind("\n", 0, max(0, start - 1)) + 1 if start > 0 else 0
        if _CITATION_START.match(text, line_start):
            return True
        before = text[max(0, line_start - 3) : line_start].rstrip()
        if line_start == 0 or before.endswith((";", ".", ":")):
            return False
        start = line_start
    return False


# --- programmes, codes, non-call documents --------------------------------------------------------

_PROGRAMMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (c, word_regex(p, 0))
    for c, p in (
        (
            "PNRR",
            r"PNRR|(?i:Piano\s+Nazionale\s+(?:di\s+)?Ripresa\s+e\s+Resilienza)|(?i:Next\s*Generation\s*EU)|NGEU"
            r"|(?i:Recovery\s+and\s+Resilience\s+Facility)",
        ),
        ("PNC", r"PNC|(?i:Piano\s+nazionale\s+(?:per\s+gli\s+)?investimenti\s+complementari)"),
        (
            "FESR",
            r"FESR|ERDF|(?i:Fondo\s+europeo\s+(?:di|per\s+lo)\s+sviluppo\s+regionale)|(?i:European\s+Regional"
            r"\s+Development\s+Fund)|PN\s+RIC|(?i:Programma\s+Nazionale\s+[\"“]?Ricerca,\s+Innovazione\s+e\s+Competitività)",
        ),
        (
            "FSE+",
            r"FSE\s*\+|FSE\s+Plus|ESF\s*\+|(?i:Fondo\s+sociale\s+europeo\s+(?:Plus|\+))|(?i:European\s+Social\s+Fund"
            r"\s+Plus)",
        ),
        ("FSE", r"FSE(?!\s*\+|\s+Plus)|ESF(?!\s*\+)|(?i:Fondo\s+sociale\s+europeo)(?!\s+(?:Plus|\+))"),
        (
            "FEASR",
            r"FEASR|EAFRD|PSR|(?i:Fondo\s+europeo\s+agricolo\s+per\s+lo\s+sviluppo\s+rurale)"
            r"|(?i:Complemento\s+(?:regionale\s+)?(?:per\s+lo\s+)?sviluppo\s+rurale)",
        ),
        ("FEAMPA", r"FEAMPA?|EMFAF|EMFF|(?i:Fondo\s+europeo\s+per\s+gli\s+affari\s+marittimi)"),
        # Bare "FSC" is also a forestry certificate: only with a cycle, in brackets or as "risorse FSC".
        (
            "FSC",
            r"FSC\s+20\d\d|(?<=\()FSC(?=\))|(?<=risorse\s)FSC|(?<=a\svalere\ssul\s)FSC"
            r"|(?i:Fondo\s+(?:per\s+lo\s+)?sviluppo\s+e\s+(?:la\s+)?coesione)",
        ),
        ("POC", r"POC|(?i:Programma\s+operativo\s+complementare)"),
        ("JTF", r"JTF|(?i:Just\s+Transition\s+Fund)|(?i:Fondo\s+per\s+una\s+transizione\s+giusta)"),
        ("Cohesion Fund", r"(?i:Fondo\s+di\s+coesione)|(?i:Cohesion\s+Fund)"),
        ("Horizon Europe", r"(?i:Horizon\s+Europe)|HORIZON-[A-Z]+|(?i:Orizzonte\s+Europa)|ERC-20\d\d"),
        ("LIFE", r"LIFE-20\d\d|(?i:program(?:me|ma))\s+LIFE|LIFE\s+(?i:program(?:me|ma))"),
        ("Interreg", r"(?i:Interreg)"),
        ("Erasmus+", r"(?i:Erasmus)\s*\+|(?i:Erasmus\s+Plus)|ERASMUS-[A-Z]+"),
        ("CERV", r"CERV|(?i:Citizens,?\s+Equality,?\s+Rights\s+and\s+Values)"),
        ("Digital Europe", r"(?i:Digital\s+Europe)|(?i:Europa\s+digitale)|DIGITAL-20\d\d"),
        ("Creative Europe", r"(?i:Creative\s+Europe)|(?i:Europa\s+creativa)|CREA-[A-Z]+"),
        ("CEF", r"(?i:Connecting\s+Europe\s+Facility)|CEF"),
        ("EDF", r"(?i:European\s+Defence\s+Fund)|EDF-20\d\d"),
        ("Euratom", r"(?<!UE,\s)(?<!EU,\s)(?<!CE,\s)(?<!EC,\s)(?i:Euratom)"),
        ("EU4Health", r"EU4Health|EU4H"),
        ("Single Market Programme", r"(?i:Single\s+Market\s+Programme)|SMP-[A-Z]+"),
        ("RFCS", r"RFCS|(?i:Research\s+Fund\s+for\s+Coal\s+and\s+Steel)"),
        ("AMIF", r"AMIF|FAMI|(?i:Asylum,?\s+Migration\s+and\s+Integration\s+Fund)"),
    )
)
# Lower-case words one of which every spelling of a programme contains: a cheap test before its regex.
_PROGRAMME_WORDS: dict[str, tuple[str, ...]] = {
    "PNRR": ("pnrr", "ripresa", "generation", "ngeu", "recovery"),
    "PNC": ("pnc", "complementari"),
    "FESR": ("fesr", "erdf", "regional", "ric"),
    "FSE+": ("fse", "esf", "social"),
    "FSE": ("fse", "esf", "social"),
    "FEASR": ("feasr", "eafrd", "psr", "rurale"),
    "FEAMPA": ("feamp", "emfaf", "emff", "marittimi"),
    "FSC": ("fsc", "coesione"),
    "POC": ("poc", "complementare"),
    "JTF": ("jtf", "transition", "transizione"),
    "Cohesion Fund": ("coesione", "cohesion"),
    "Horizon Europe": ("horizon", "orizzonte", "erc-"),
    "LIFE": ("life",),
    "Interreg": ("interreg",),
    "Erasmus+": ("erasmus",),
    "CERV": ("cerv", "citizens"),
    "Digital Europe": ("digital",),
    "Creative Europe": ("creativ", "crea-"),
    "CEF": ("connecting", "cef"),
    "EDF": ("defence", "edf-"),
    "Euratom": ("euratom",),
    "EU4Health": ("eu4h",),
    "Single Market Programme": ("single", "smp-"),
    "RFCS": ("rfcs", "coal"),
    "AMIF": ("amif", "fami", "asylum"),
}
# A sentence naming three or more funds is a regulation's scope; "cumulabile con il PNRR" is not a source.
_ENUMERATION_MIN = 3
_LOCAL_CHARS = 800
_NOT_SOURCE = re.compile(r"cumul\w*|esclus\w*|\bexcluded\b|non\s+sosteng\w+|non\s+finanzi\w+", re.IGNORECASE)
# A fund named in a regulation's title ("regolamento (UE) n. 508/2014 ... relativo al Fondo europeo per gli
# affari marittimi") is cited, not used.
_REGULATION_TITLE = re.compile(
    r"(?:regolament\w*|regulation)\s*\((?:UE|CE|EU|EC)(?:,\s*Euratom)?\)\s*(?:n\.\s*)?\d{2,4}/\d{2,4}[^.;]{0,200}$",
    re.IGNORECASE,
)


def find_programmes(
    text: str, sentence_of: Callable[[int], tuple[int, int]], in_preamble: Callable[[int], bool]
) -> list[Span]:
    """One span per programme code, at its first mention that states the call's own funding."""
    lowered = text.lower()
    mentions = sorted(
        (
            Span(code, m.start(), m.end())
            for code, rx in _PROGRAMMES
            if any_word(_PROGRAMME_WORDS[code], lowered)
            for m in rx.finditer(text)
        ),
        key=lambda s: s.start,
    )
    by_sentence: dict[tuple[int, int], set[str]] = {}
    for span in mentions:
        by_sentence.setdefault(sentence_of(span.start), set()).add(span.value)
    body: dict[str, Span] = {}
    premises: dict[str, Span] = {}
    for span in mentions:
        sentence = sentence_of(span.start)
        short = sentence[1] - sentence[0] <= _LOCAL_CHARS
        local = sentence if short else (max(sentence[0], span.start - 250), min(sentence[1], span.end + 100))
        if len(by_sentence[sentence]) >= _ENUMERATION_MIN or _NOT_SOURCE.search(text, *local):
            continue
        if _REGULATION_TITLE.search(text, max(0, span.start - 230), span.start):
            continue
        (premises if in_preamble(span.start) else body).setdefault(span.value, span)
    return list((body or premises).values())


_CUP = re.compile(r"(?<![A-Z0-9])[A-Z]\d{2}[A-Z]\d{11}(?![0-9])")
_CIG = re.compile(r"\bCIG\b\s*(?:n\.?\s*|n°\s*|:\s*|=\s*)?(?P<code>(?=[0-9A-Z]*\d)[0-9A-Z]{10})(?![0-9A-Za-z])")


def find_codes(text: str) -> tuple[list[Span], list[Span]]:
    """CUP codes (a letter, two digits, a letter, eleven digits); CIG codes (ten characters after 'CIG')."""
    cups: dict[str, Span] = {}
    for m in _CUP.finditer(text):
        cups.setdefault(m.group(0), Span(m.group(0), m.start(), m.end()))
    cigs: dict[str, Span] = {}
    for m in _CIG.finditer(text):
        cigs.setdefault(m.group("code"), Span(m.group("code"), m.start(), m.end()))
    return list(cups.values()), list(cigs.values())


_NON_CALL: tuple[tuple[NonCallKind, re.Pattern[str]], ...] = tuple(
    (k, re.compile(p, re.IGNORECASE | re.MULTILINE))
    for k, p in (
        (
            NonCallKind.RECRUITMENT,
            r"concorso\s+pubblico|per\s+titoli\s+(?:ed|e)\s+esami|\bper\s+esami\b|posti\s+a\s+concorso"
            r"|assunzion[ei]\s+a\s+tempo\s+(?:in)?determinato|selezione\s+pubblica\s+per\s+(?:il\s+)?reclutamento",
        ),
        (NonCallKind.CIRCULAR, r"^\W*circolare\b|\bcircolare\s+(?:n\.?|n°)\s*\d"),
        (NonCallKind.PRESENTATION, r"\bwebinar\b|\bslides?\b"),
        (
            NonCallKind.AMENDMENT,
            r"\b(?:modifiche|modifica|rettifica|proroga|differimento|integrazioni?)\s+(?:e\s+integrazion[ei]\s+)?"
            r"(?:al|del|dello|della|dell['’]|ai|all['’]|alla|dei|degli)\s+(?:decreto|avviso|bando|d\.\s?[dm]\.|termin[ei]"
            r"|scadenz\w+|determin\w+)",
        ),
        (
            NonCallKind.RANKING,
            r"\bgraduatori[ae]\s+(?:definitiv\w+|provvisori\w+|final\w+)|approvazione\s+(?:della\s+)?graduatori"
            r"|elenco\s+(?:delle\s+domande|dei\s+progetti|dei\s+beneficiari)\s+ammess",
        ),
        (
            NonCallKind.PROCUREMENT,
            r"\bprocedura\s+aperta\b|\bgara\s+(?:europea|d['’]appalto|telematica)\b"
            r"|\bappalto\s+(?:di|per)\s+(?:servizi|lavori|forniture)\b",
        ),
    )
)
_TITLE_CHARS = 500


def find_non_call(text: str) -> Span | None:
    """The kind of a document that is not a funding call, judged from its title area (its first lines)."""
    head_end = min(len(text), _TITLE_CHARS)
    for kind, pattern in _NON_CALL:
        match = pattern.search(text, 0, head_end)
        if match:
            return Span(kind, match.start(), match.end())
    return None
