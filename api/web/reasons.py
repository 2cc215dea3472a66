"""Italian wording of the reasons the matching layer writes in English (eligibility verdicts, partners).

The API keeps the English; the pages in Italian show these. Each pattern is one sentence the matching layer
writes; a reason no pattern knows is shown as written (tests/test_web_units.py runs the eligibility checker
over many profiles and fails when a reason has no Italian wording, so a new sentence cannot slip by).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from convergenze.core.vocabulary import ActorType

from .labels import ACTOR_TYPES

_ENGLISH_ACTORS = {actor.label: ACTOR_TYPES[actor] for actor in ActorType}


def _actors(listed: str) -> str:
    """'cooperatives, foundations' -> 'cooperative, fondazioni' (lower case, as inside a sentence); other
    words (region names) stay as they are."""
    return ", ".join(_ENGLISH_ACTORS[part].lower() if part in _ENGLISH_ACTORS else part
                     for part in listed.split(", "))


def _where(text: str) -> str:
    return "non indicato" if text == "not stated" else text


Fix = dict[str, Callable[[str], str]]
_WORDINGS: list[tuple[str, str, Fix]] = [
    # status
    (r"A PNRR measure is not a call: it is implemented through its calls, which have their own dates\.",
     "Una misura PNRR non è un bando: si attua con i suoi bandi, che hanno date proprie.", {}),
    (r"A funded project is a precedent, not a call\.", "Un progetto finanziato è un precedente, non un bando.", {}),
    (r"A programme is not a call: its calls have their own dates\.",
     "Un programma non è un bando: i suoi bandi hanno date proprie.", {}),
    (r"A policy document is not a call\.", "Un documento di indirizzo non è un bando.", {}),
    (r"Closed: the deadline was (?P<d>.+)\.", "Chiuso: la scadenza era il {d}.", {}),
    (r"The call is closed\.", "Il bando è chiuso.", {}),
    (r"The notice is no longer listed by its source \(withdrawn\)\.",
     "L'avviso non è più pubblicato dalla fonte (ritirato).", {}),
    (r"It opens on (?P<a>.+), after the date you need the funds \((?P<b>.+)\)\.",
     "Apre il {a}, dopo la data entro cui servono i fondi ({b}).", {}),
    (r"Open until resources run out\.", "Aperto fino a esaurimento delle risorse.", {}),
    (r"Open until (?P<d>.+)\.", "Aperto fino al {d}.", {}),
    (r"Open\.", "Aperto.", {}),
    (r"Not open yet: it opens on (?P<d>.+)\.", "Non ancora aperto: apre il {d}.", {}),
    (r"Not open yet: it opens\.", "Non ancora aperto.", {}),
    (r"The call gives no dates that tell whether it is open\.",
     "Il bando non indica date da cui capire se è aperto.", {}),
    # territory
    (r"An EU call: open to applicants from every Member State\.",
     "Bando europeo: aperto a candidati di tutti gli Stati membri.", {}),
    (r"Open to the whole national territory\.", "Aperto a tutto il territorio nazionale.", {}),
    (r"Your profile gives no region \(the call's territory: (?P<w>.+)\)\.",
     "Il profilo non indica una regione (territorio del bando: {w}).", {"w": _where}),
    (r"(?P<p>.+) is in the call's territory \((?P<r>.+)\)\.", "{p} rientra nel territorio del bando ({r}).", {}),
    # the territory's and the beneficiaries' sentence are worded alike: regions stay, actor types change
    (r"The call is for (?P<r>.+), not (?P<p>[^,]+)\.", "Il bando è per {r}, non per {p}.",
     {"r": _actors, "p": _actors}),
    (r"The call does not say where it applies\.", "Il bando non dice dove si applica.", {}),
    # beneficiary
    (r"The call does not say who may apply\.", "Il bando non dice chi può partecipare.", {}),
    (r"Your profile gives no actor type \(the call is for: (?P<l>.+)\)\.",
     "Il profilo non indica il tipo di soggetto (il bando è per: {l}).", {"l": _actors}),
    (r"Open to (?P<l>.+)\.", "Aperto a: {l}.", {"l": _actors}),
    # budget
    (r"Your profile gives no budget\.", "Il profilo non indica un importo.", {}),
    (r"It funds at most (?P<a>.+) per project; you need (?P<b>.+)\.",
     "Finanzia al massimo {a} per progetto; ne servono {b}.", {}),
    (r"Projects must be at least (?P<a>.+); you need (?P<b>.+)\.",
     "I progetti devono valere almeno {a}; ne servono {b}.", {}),
    (r"(?P<a>.+) is within the per-project range \((?P<b>.+)\)\.",
     "{a} rientra nei limiti per progetto ({b}).", {}),
    (r"The whole call has (?P<a>.+); you need (?P<b>.+)\.", "L'intero bando dispone di {a}; ne servono {b}.", {}),
    (r"The call has (?P<a>.+) in all but no per-project limit\.",
     "Il bando dispone di {a} in tutto, senza un limite per progetto.", {}),
    (r"The call states no amounts\.", "Il bando non indica importi.", {}),
    # partners
    (r"Implemented a funded project like yours in (?P<w>.+?): \"(?P<t>.+)\"\.",
     "Ha realizzato un progetto finanziato simile a questo a {w}: «{t}».", {}),
    (r"Implemented a funded project like yours: \"(?P<t>.+)\"\.",
     "Ha realizzato un progetto finanziato simile a questo: «{t}».", {}),
    (r"(?P<n>\d+) funded projects on (?P<m>.+?) in (?P<w>[^(]+?)(?: \((?P<a>.+)\))?\.",
     "{n} progetti finanziati su «{m}» in {w}{a}.", {"a": lambda a: f" ({a})" if a else ""}),
    (r"(?P<n>\d+) funded projects on (?P<m>.+?)(?: \((?P<a>.+)\))?\.",
     "{n} progetti finanziati su «{m}»{a}.", {"a": lambda a: f" ({a})" if a else ""}),
    (r"Implements a complementary initiative: \"(?P<t>.+)\"",
     "Realizza un'iniziativa complementare: «{t}»", {}),
    (r"Issued a complementary initiative: \"(?P<t>.+)\"", "Ha emesso un'iniziativa complementare: «{t}»", {}),
]
_PATTERNS = [(re.compile(pattern), wording, fix) for pattern, wording, fix in _WORDINGS]


def italian(reason: str) -> str | None:
    """The Italian wording of a reason, or None when no pattern knows it."""
    for pattern, template, fixes in _PATTERNS:
        found = pattern.fullmatch(reason)
        if found:
            values = {k: fixes[k](v or "") if k in fixes else (v or "") for k, v in found.groupdict().items()}
            return template.format(**values)
    return None


def in_language(reason: str, lang: str) -> str:
    """``reason`` as the page's language shows it (English is the original)."""
    return reason if lang == "en" else italian(reason) or reason
