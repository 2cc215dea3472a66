"""How a call supports its beneficiaries and which firm sizes it admits, from the call's own wording.

``find_support_forms`` maps phrasings such as "contributo a fondo perduto", "finanziamento agevolato a tasso
zero", "rilascio di garanzie", "credito d'imposta" onto the support forms; ``find_firm_sizes`` maps "micro,
piccole e medie imprese", "PMI", "grandi imprese" onto the EU firm sizes. Each value carries the passage that
says it; a form only mentioned as something else (a guarantee asked for an advance, the GBER's "regime di
esenzione", a cumulation clause naming another aid) is not the call's. Nothing is inferred from what a text
leaves unsaid: "imprese" without a size gives no size.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from convergenze.core.vocabulary import FirmSize, SupportForm

from .call_cues import Span, word_regex

# The phrasings of each form, counted on the 200 incentives of the incentivi.gov.it export (benchmarks/).
_FORM_PATTERNS: tuple[tuple[SupportForm, str], ...] = (
    (
        SupportForm.SOCIAL_SECURITY_RELIEF,
        r"(?:esoner[oi]|sgrav[io]|riduzion[ei])\s+(?:dal\s+versamento\s+dei\s+|dei\s+)?contribut(?:i|ivo|ivi)"
        r"(?:\s+previdenziali)?|decontribuzione|social\s+security\s+(?:relief|contributions?\s+relief)",
    ),
    (
        SupportForm.TAX_RELIEF,
        r"credit[oi]\s+d['’]\s*imposta|credit[oi]\s+di\s+imposta|tax\s+credits?|agevolazion[ei]\s+fiscal[ei]"
        r"|esenzion[ei]\s+(?:dal\s+pagamento|dall['’]\s*(?:IRAP|imposta|IMU)|IRAP|dal\s+bollo|del\s+bollo|dalla\s+tassa)"
        r"|(?:detrazion[ei]|deduzion[ei])\s+(?:fiscal[ei]|dal\s+reddito|IRPEF|d['’]\s*imposta)"
        r"|riduzion[ei]\s+(?:dell['’]\s*)?(?:IRAP|IRES|aliquota)|super[\s-]?ammortamento|iper[\s-]?ammortamento",
    ),
    (
        SupportForm.EQUITY,
        r"capitale\s+di\s+rischio|(?:quasi[\s-])?equity|venture\s+capital"
        r"|partecipazion[ei]\s+(?:di\s+minoranza\s*,?\s*)?(?:temporane[ae]\s+)?(?:al|nel)\s+capitale"
        r"|(?:sottoscrizione|aumento)\s+di\s+capitale",
    ),
    (
        SupportForm.GUARANTEE,
        r"fondo\s+(?:centrale\s+)?(?:di\s+|rischi\s+(?:per\s+(?:il\s+)?rilascio\s+(?:di\s+)?)?)?garanzi[ae]"
        r"|(?:concessione|rilascio|prestazione)\s+(?:di\s+)?(?:una\s+)?garanzi[ae](?!\s+(?:a|per)\s+(?:favore\s+)?"
        r"(?:dell['’]|degli|dei|della|delle)?\s*anticip)"
        r"|garanzi[ae]\s+(?:pubblic[ah]e?|dirett[ae]|gratuit[ae]|sussidiari[ae]|a\s+prima\s+richiesta)"
        r"|controgaranzi[ae]|cogaranzi[ae]|garantire\s+(?:i\s+)?(?:prestiti|finanziamenti)|guarantees?",
    ),
    (
        SupportForm.LOAN,
        r"finanziament[oi]\s+(?:agevolat[oi]|a\s+tasso\s+(?:zero|agevolato|ridotto)|(?:a\s+)?medio[\s-]lungo\s+termine"
        r"|partecipativ[oi]|rimborsabil[ei])|prestit[oi]\s+(?:agevolat[oi]|partecipativ[oi]|d['’]\s*onore"
        r"|a\s+tasso|rimborsabil[ei])|mutu[oi]\s+(?:agevolat[oi]|a\s+tasso)|tasso\s+(?:zero|agevolato)"
        r"|anticip(?:o|azione|azioni|i)\s+rimborsabil[ei]|fondo\s+rotativo|(?:soft\s+)?loans?",
    ),
    (
        SupportForm.GRANT,
        r"(?:contribut[oi]|sovvenzion[ei]|finanziament[oi]|aiut[oi])\s+a\s+fondo\s+perduto|fondo\s+perduto"
        r"|contribut[oi]\s+in\s+(?:conto|c/)\s*(?:capitale|impianti|interessi|esercizio)|conto\s+interessi"
        r"|abbattimento\s+(?:del\s+tasso|degli\s+interessi|del\s+costo)|voucher|sovvenzion[ei]"
        r"|contribut[oi](?!\s+(?:previdenziali|contributiv|INPS|INAIL|di\s+bollo|unificat|associativ))"
        r"|(?:lump[\s-]sum\s+)?grants?|non[\s-]repayable",
    ),
)
# One scan for every form (a named group each, in the order above: where two could start at the same word, the
# earlier one wins, so "finanziamento a fondo perduto" is a grant and not a loan).
_FORMS = word_regex("|".join(f"(?P<{form.name}>{pattern})" for form, pattern in _FORM_PATTERNS))
# Mentions that are not the call's own aid: conditions, costs, the GBER, cumulation with other aid.
_NOT_OWN = re.compile(
    r"cumul\w*|\bnon\s+(?:è|sono)\s+(?:previst|concess|ammess)\w*|\bad\s+eccezione\b|\besclus[oaie]\b"
    r"|equivalente\s+sovvenzione", re.IGNORECASE
)

_ALL_SIZES = (FirmSize.MICRO, FirmSize.SMALL, FirmSize.MEDIUM, FirmSize.LARGE)
_SME = (FirmSize.MICRO, FirmSize.SMALL, FirmSize.MEDIUM)
_ADJECTIVES = {"micro": FirmSize.MICRO, "piccol": FirmSize.SMALL, "medi": FirmSize.MEDIUM, "grand": FirmSize.LARGE}
_ADJECTIVE = r"(?:micro|piccol[ea]|medi[ea]|grand[ie])"
# "micro, piccole e medie imprese", "Micro o Piccole o Medie imprese", "piccole e micro imprese", "micro,
# piccole, medie e grandi imprese", "imprese di piccola e media dimensione", "microimprese": every size the list
# names (LISTED); the other phrasings each stand for fixed sizes. One scan, a named group per phrasing.
_SIZE_PATTERNS: tuple[tuple[str, tuple[FirmSize, ...], str], ...] = (
    ("LISTED", (), rf"{_ADJECTIVE}(?:\s*(?:,|\be\b|\bed\b|\bo\b|/)\s*{_ADJECTIVE})*\s*[-\s]?\s*impres[ae]"
                   r"|impres[ae]\s+di\s+(?:piccol[ea]|medi[ea]|grand[ie])(?:\s+(?:e|o)\s+(?:piccol[ea]|medi[ea]|grand[ie]))?"
                   r"\s+dimension[ei]"),
    ("SME", _SME, r"micro,\s+small\s+and\s+medium(?:[\s-]sized)?\s+enterprises|small\s+and\s+medium[\s-]sized"
                  r"\s+enterprises|SMEs?|(?-i:M?PMI|P\.M\.I\.)"),
    ("ANY", _ALL_SIZES, r"impres[ae]\s+di\s+(?:qualsiasi|ogni|qualunque)\s+dimensione"
                        r"|indipendentemente\s+dalla\s+(?:loro\s+)?dimensione|di\s+tutte\s+le\s+dimensioni"),
    ("MICRO", (FirmSize.MICRO,), r"micro[\s-]enterprises?"),
    ("SMALL", (FirmSize.SMALL,), r"small\s+enterprises?"),
    ("MEDIUM", (FirmSize.MEDIUM,), r"medium[\s-]sized\s+enterprises?"),
    ("LARGE", (FirmSize.LARGE,), r"large\s+enterprises?|mid[\s-]?caps?"),
)
_SIZES = word_regex("|".join(f"(?P<{name}>{pattern})" for name, _, pattern in _SIZE_PATTERNS))
_SIZES_OF = {name: sizes for name, sizes, _ in _SIZE_PATTERNS}


def _listed(phrase: str) -> tuple[FirmSize, ...]:
    lowered = phrase.lower()
    return tuple(size for stem, size in _ADJECTIVES.items() if re.search(rf"\b{stem}", lowered))


# "non PMI", "ad eccezione delle grandi imprese", "non sono ammesse le microimprese": ruled out, not in; read in
# the clause before the phrase (from the last comma, colon or semicolon).
_SIZE_NEGATED = re.compile(
    r"\bnon\b|\besclus[eia]\b|\beccezione\b|\btranne\b|\bexcept\b|\bother\s+than\b|\bexcluded\b", re.IGNORECASE
)
_CLAUSE_START = re.compile(r"[,;:.()]")


def find_support_forms(
    text: str, sentence_of: Callable[[int], tuple[int, int]], in_preamble: Callable[[int], bool]
) -> list[Span]:
    """One span per support form, at its first mention that states the call's own aid."""
    found: dict[SupportForm, Span] = {}
    for match in _FORMS.finditer(text):
        form = SupportForm[match.lastgroup or ""]
        if form in found:
            continue
        start, end = sentence_of(match.start())
        if in_preamble(match.start()) or _NOT_OWN.search(text, start, end):
            continue
        found[form] = Span(form, match.start(), match.end(), detail=match.group(0))
    return sorted(found.values(), key=lambda s: s.start)


def forms_named(text: str) -> set[SupportForm]:
    """The support forms a text names at all, without judging whose they are (checks on official fields)."""
    return {SupportForm[m.lastgroup or ""] for m in _FORMS.finditer(text)}


def find_firm_sizes(
    text: str, sentence_of: Callable[[int], tuple[int, int]], in_preamble: Callable[[int], bool]
) -> list[Span]:
    """One span per firm size, at the first phrase that admits it."""
    found: dict[FirmSize, Span] = {}
    for match in _SIZES.finditer(text):
        clause = _clause_start(text, match.start(), sentence_of)
        if in_preamble(match.start()) or _SIZE_NEGATED.search(text, clause, match.start()):
            continue
        sizes = _SIZES_OF[match.lastgroup or ""] or _listed(match.group(0))
        for size in sizes:
            found.setdefault(size, Span(size, match.start(), match.end(), detail=match.group(0)))
    return sorted(found.values(), key=lambda s: (s.start, _ALL_SIZES.index(FirmSize(s.value))))


def _clause_start(text: str, pos: int, sentence_of: Callable[[int], tuple[int, int]]) -> int:
    sentence = sentence_of(pos)[0]
    marks = [m.end() for m in _CLAUSE_START.finditer(text, max(sentence, pos - 200), pos)]
    return marks[-1] if marks else max(sentence, pos - 200)
