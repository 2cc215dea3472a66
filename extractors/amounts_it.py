"""Money amounts and co-financing rates in Italian (and English) funding calls.

``find_amounts`` reads "€ 1.500.000,00", "euro 5.000.000", "5 milioni di euro", "€ 2,5 mln", "EUR 150 000",
"1.5 million"; ``classify_amounts`` tells the call's total budget from per-project ceilings and floors by the
cue words just before each amount; ``find_rates`` reads the share of costs the call pays ("nella misura del
50%").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .call_cues import nearest_cue

# Grouped figures take two decimals at most: "EUR 60 000 000.6" is 60 million and a footnote mark.
_NUM = r"\d{1,3}(?:[.\u00a0\u202f ,'’]\d{3})+(?:[.,]\d{2}(?!\d))?|\d+(?:[.,]\d+)?"
_CUR = r"(?:€|\beuro\b|\beur\b)"
_MULT = r"(?:miliard[oi]|mld|mrd|milion[ei]|mln|mio|millions?|billions?|bn|mila|thousand)\b\.?"
_BIG_MULT = r"(?:miliard[oi]|milion[ei]|mln|millions?|billions?)\b\.?"
_AMOUNT = re.compile(
    rf"{_CUR}\s*(?P<n1>{_NUM})(?:\s*(?P<x1>{_MULT}))?(?:\s*(?:di\s+)?(?:euro|eur)\b)?"
    rf"|(?<![\d.,])(?P<n2>{_NUM})\s*(?:(?P<x2>{_MULT})\s*)?(?:di\s+|of\s+)?{_CUR}"
    rf"|(?<![\d.,])(?P<n3>{_NUM})\s*(?P<x3>{_BIG_MULT})(?!\s+(?:di|of|de)\s+(?!euro|eur))",
    re.IGNORECASE,
)
# "EUR 2 and 3 million": the first figure takes the multiplier written only after the second.
_SHARED_MULT = re.compile(rf"\s*(?:and|e|to|a|-|–)\s*(?:{_CUR}\s*)?(?:{_NUM})\s*(?P<x>{_MULT})", re.IGNORECASE)
_AND_A_HALF = re.compile(r"\s+e\s+mezzo\b", re.IGNORECASE)
_FACTORS = (
    (re.compile(r"miliard|mld|mrd|billion|bn", re.I), 1e9),
    (re.compile(r"milion|mln|mio|million", re.I), 1e6),
    (re.compile(r"mila|thousand", re.I), 1e3),
)

_CUES: dict[str, re.Pattern[str]] = {
    "total_budget": re.compile(
        r"dotazion\w*|stanziament\w*|\bstanzia\w*|risorse(?:\s+\w+){0,3}?\s+(?:pari|ammont\w*|complessiv\w*|disponibil\w*)"
        r"|\bammont\w*(?:\s+complessiv\w*)?|complessivamente|plafond|\bbudget\b|importo\s+complessivo|rifinanziat\w*",
        re.IGNORECASE,
    ),
    "max_per_project": re.compile(
        r"massim\w*|\bmax\b\.?|super\w*|\bfino\s+a(?:d|l)?\b|\bnel\s+limite\b|\bup\s+to\b|\bmaximum\b|\bcapped\b"
        r"|\bceiling\b|\btetto\b|\bnon\s+oltre\b|lump\s+sum|\bEU\s+contribution\b|contribution\s+of\s+(?:around|about)",
        re.IGNORECASE,
    ),
    "min_per_project": re.compile(
        r"minim\w*|inferior\w*|\balmeno\b|\bat\s+least\b|\bcompres[oa]\s+tra\b|\btra\b|\bbetween\b|\branging\s+from\b",
        re.IGNORECASE,
    ),
    "other": re.compile(
        r"\bdi\s+cui\b|riserv\w*|\bquanto\s+a\b|a\s+valere|\bbollo\b|\bimposta\b|\bsotto\s+soglia\b", re.I
    ),
}
_CUE_REACH = 80
_RANGE_GAP = re.compile(r"\s*(?:e|and|to|a|-|–)\s*(?:(?:euro|eur)\s*|€\s*)?", re.IGNORECASE)
_OWN_CALL = re.compile(
    r"(?:presente|dell['’]|del|questo|codesto|dello)\s*(?:avviso|bando|misura|intervento|decreto|sportello|fondo)"
    r"|\bcall\b|\btopic\b|complessiv\w*|\btotal\b|\boverall\b",
    re.IGNORECASE,
)
# What the applicant pays (a lot's estimated value, a fee) is not what the call gives.
_PRICE = re.compile(r"valore\s+di\s+stima|corrispettiv\w*|base\s+d['’]asta|\bcanon\w*|\bprezz\w*", re.IGNORECASE)
_PER_PROJECT = re.compile(
    r"progett\w*|contribut\w*|agevolazion\w*|finanziament\w*|prestit\w*|domand\w*|spes[ae]|investiment\w*|voucher"
    r"|piano|per\s+(?:impresa|beneficiario|soggetto|domanda|progetto|istanza)|project|grant|contribution",
    re.IGNORECASE,
)
# (An amount "al netto di IVA" is still the call's: VAT words are not a veto.)
_NOT_PER_PROJECT = re.compile(
    r"de\s*minimis|impresa\s+unica|nell['’]arco\s+di\s+tre|third\s+part\w*|terz[ei]\s+part\w*|fideiuss\w*|\bbollo\b"
    r"|\bimposta\b|titol[io]\s+di\s+spesa",
    re.IGNORECASE,
)
# "per ogni singola impresa", "al medesimo beneficiario": what one applicant may get, whatever the verb
# ("ammonta", "complessivo") would otherwise make of it.
_PER_APPLICANT = re.compile(
    r"\bper\s+(?:ogni|ciascun[oa]?)\s+(?:singol[oa]\s+)?(?:impres[ae]|beneficiari[oa]|soggett[oi]|operazion[ei]"
    r"|progett[oi]|domand[ae]|richiedent[ei]|intervent[oi])|\bper\s+singol[oa]\s+(?:impresa|operazione|progetto|domanda"
    r"|beneficiario|intervento)|\b(?:al|a\s+ciascun|allo\s+stesso|al\s+medesimo)\s+beneficiari[oa]",
    re.IGNORECASE,
)
# The aid itself as the subject ("il contributo a fondo perduto ammonta ad euro 2.000,00"), not the call's money.
_AID_SUBJECT = re.compile(r"\b(?:contribut\w*|agevolazion\w*|voucher|premi[oi]|aiut[oi])\b", re.IGNORECASE)
_CALL_MONEY = re.compile(
    r"dotazion\w*|stanziament\w*|risorse|complessiv\w*|\bfondo\b(?!\s+perduto)|budget|plafond", re.IGNORECASE
)
# Thresholds on the applicant (the SME definition, turnover, staff), not amounts the call gives.
_APPLICANT_SIZE = re.compile(
    r"fatturat\w*|totale\s+(?:di|del)\s+bilancio|bilancio\s+annuo|\bricavi\b|\boccupat[io]\b|dipendenti|persone\s+occupate"
    r"|\bULA\b|volume\s+d['’]\s*affari",
    re.IGNORECASE,
)
# "spesa minima ammessa superiore a 100.000 euro": a floor, though "superiore" is a ceiling's word.
_FLOOR = re.compile(r"minim\w*[^.;]{0,60}(?:superior\w*|oltre)\s*(?:a[dl]?|agli?|alle?)?\s*$", re.IGNORECASE)

_RATE = re.compile(r"(?<![\d.,])(?P<n>\d{1,3}(?:[.,]\d+)?)\s*(?:%|per\s*cento\b|percento\b)", re.IGNORECASE)
_RATE_STRONG = re.compile(
    r"nella\s+misura|intensit\w*|percentuale\s+(?:di\s+)?contribut\w*|cofinanziament\w*|co-?financ\w*|funding\s+rate|reimbursement\s+rate|\baliquota\b",
    re.IGNORECASE,
)
_RATE_CUE = re.compile(
    r"contribut\w*|agevolazion\w*|copertura|\bcopr\w*|finanzia\w*|fondo\s+perduto|\bpari\s+al(?:l['’])?"
    r"|\bfino\s+al(?:l['’])?|sovvenzion\w*|\baiut\w*|\bsuperiore\s+al(?:l['’])?|\bcovers?\b|\bup\s+to\b",
    re.IGNORECASE,
)
_CUMULATION = re.compile(r"cumul\w*", re.IGNORECASE)
_RATE_OBJECT = re.compile(
    r"\s*(?:delle|dei|della|del|dell['’]|sulle|sui|of\s+(?:the\s+)?|of\s+)\s*(?:spes[ae]|cost[io]|programm\w*|progett\w*"
    r"|investiment\w*|eligible|importo|piano|total)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AmountMention:
    value: float
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ClassifiedAmount:
    mention: AmountMention
    kind: str
    score: int


@dataclass(frozen=True, slots=True)
class RateMention:
    value: float
    start: int
    end: int
    score: int


def _check_language(language: str) -> None:
    if language not in ("it", "en"):
        raise ValueError(f"language {language!r} is not supported; pass 'it' or 'en'.")


def parse_number(raw: str, language: str = "it", *, scaled: bool = False) -> float:
    """A figure written the Italian or the English way; ``scaled`` says a multiplier ("milioni") follows."""
    _check_language(language)
    s = re.sub(r"[\s\u00a0\u202f'’]", "", raw)
    if not re.fullmatch(r"\d[\d.,]*", s):
        raise ValueError(f"{raw!r} is not a number; pass digits with '.', ',' or spaces as separators.")
    if "." in s and "," in s:
        decimal = "." if s.rfind(".") > s.rfind(",") else ","
        return float(s.replace("," if decimal == "." else ".", "").replace(decimal, "."))
    sep = "," if "," in s else "." if "." in s else ""
    if not sep:
        return float(s)
    head, *groups = s.split(sep)
    thousands = len(groups) > 1 or len(groups[0]) == 3
    # A lone three-digit group is thousands ("20.000 euro", "EUR 15,000"), except in "1.500 million" (English)
    # and "2,500 milioni" (Italian), where a multiplier follows.
    if len(groups) == 1 and len(groups[0]) == 3 and scaled and sep == "." and language == "en":
        thousands = False
    if len(groups) == 1 and len(groups[0]) == 3 and scaled and sep == "," and language == "it":
        thousands = False
    if thousands:
        if any(len(g) != 3 for g in groups):
            raise ValueError(f"{raw!r} mixes digit groups; pass groups of three digits after each separator.")
        return float(head + "".join(groups))
    return float(f"{head}.{groups[0]}")


def _factor(multiplier: str | None) -> float:
    if not multiplier:
        return 1.0
    for pattern, factor in _FACTORS:
        if pattern.match(multiplier):
            return factor
    return 1.0


def find_amounts(text: str, language: str = "it") -> list[AmountMention]:
    """Every amount of money in ``text`` (in euro), in order."""
    _check_language(language)
    out: list[AmountMention] = []
    for match in _AMOUNT.finditer(text):
        key = "1" if match.group("n1") else "2" if match.group("n2") else "3"
        raw, multiplier = match.group("n" + key), match.group("x" + key)
        if multiplier is None and key == "1" and match.end() == match.end("n1"):
            shared = _SHARED_MULT.match(text, match.end(), min(len(text), match.end() + 40))
            multiplier = shared.group("x") if shared else None
        try:
            value = parse_number(raw, language, scaled=multiplier is not None) * _factor(multiplier)
        except ValueError:  # a malformed figure in the source ("1.50.000") is not an amount
            continue
        end = match.end()
        half = _AND_A_HALF.match(text, end) if multiplier else None
        if half:  # "13 milioni e mezzo"
            value, end = value + _factor(multiplier) / 2, half.end()
        if value > 0:
            out.append(AmountMention(value, match.start(), end))
    return out


def parse_amount(text: str, language: str = "it") -> float:
    """The single amount that ``text`` is ("€ 1.500.000,00", "5 milioni di euro", "EUR 150 000")."""
    found = find_amounts(text, language)
    if len(found) != 1 or text[: found[0].start].strip() or text[found[0].end :].strip():
        raise ValueError(f"{text!r} is not exactly one amount; pass e.g. '€ 1.500.000,00' or '5 milioni di euro'.")
    return found[0].value


def classify_amounts(
    text: str,
    mentions: list[AmountMention],
    sentence_start: Callable[[int], int],
    in_preamble: Callable[[int], bool],
) -> list[ClassifiedAmount]:
    """Label each amount total_budget, max_per_project, min_per_project or other, scored for ``pick``."""
    out: list[ClassifiedAmount] = []
    prev_end = 0
    for mention in mentions:
        sent = sentence_start(mention.start)
        window = text[max(sent, prev_end, mention.start - 150) : mention.start]
        cue = nearest_cue(_CUES, window)
        kind = cue[0] if cue and cue[1] <= _CUE_REACH else "other"
        if out and out[-1].kind == "min_per_project" and _RANGE_GAP.fullmatch(window):
            kind = "max_per_project"  # the upper end of "tra 20.000 euro e 4 milioni di euro"
        context = text[sent : min(len(text), mention.end + 60)]
        kind = _reread(kind, window, context)
        out.append(ClassifiedAmount(mention, kind, _score(kind, context, in_preamble(mention.start))))
        prev_end = mention.end
    return out


def _reread(kind: str, window: str, context: str) -> str:
    """The cue's kind, corrected by what the sentence says of the amount."""
    if kind in ("max_per_project", "min_per_project") and _APPLICANT_SIZE.search(window):
        return "other"
    if kind == "max_per_project" and _FLOOR.search(window):
        return "min_per_project"
    if kind == "total_budget" and (
        _PER_APPLICANT.search(context) or (_AID_SUBJECT.search(window) and not _CALL_MONEY.search(window))
    ):
        return "max_per_project"
    return kind


def _score(kind: str, context: str, preamble: bool) -> int:
    if kind == "other":
        return 0
    score = 1 - (3 if preamble else 0)
    if kind == "total_budget":
        return score + (2 if _OWN_CALL.search(context) else 0) - (3 if _PRICE.search(context) else 0)
    return score + (2 if _PER_PROJECT.search(context) else 0) - (3 if _NOT_PER_PROJECT.search(context) else 0)


def pick(classified: list[ClassifiedAmount], kind: str) -> ClassifiedAmount | None:
    """The best-scoring amount of ``kind``, the first one on ties; amounts from a decree's premises lose."""
    best: ClassifiedAmount | None = None
    for item in classified:
        if item.kind == kind and item.score >= 1 and (best is None or item.score > best.score):
            best = item
    return best


def find_rates(text: str, sentence_start: Callable[[int], int]) -> list[RateMention]:
    """Percentages that state the share of costs the call pays, scored by how clearly they say so."""
    out: list[RateMention] = []
    for match in _RATE.finditer(text):
        value = float(match.group("n").replace(",", "."))
        if not 0 < value <= 100:
            continue
        sent = sentence_start(match.start())
        window = text[max(sent, match.start() - 80) : match.start()]
        after = text[match.end() : match.end() + 60]
        if _CUMULATION.search(text, max(sent, match.start() - 400), match.end() + 60):
            continue  # "cumulabili ... non superi il 100% della spesa" caps aid, it is not the call's rate
        strong, cue, obj = (
            bool(_RATE_STRONG.search(window)),
            bool(_RATE_CUE.search(window)),
            bool(_RATE_OBJECT.match(after)),
        )
        if not (strong or (cue and obj)):
            continue
        score = (3 if strong else 0) + (1 if obj else 0) + (1 if "ammissibil" in after.lower() else 0)
        out.append(RateMention(value / 100, match.start(), match.end(), score))
    return out


def pick_rate(rates: list[RateMention]) -> RateMention | None:
    best: RateMention | None = None
    for rate in rates:
        if best is None or rate.score > best.score:
            best = rate
    return best
