"""The lever an initiative pulls: funding, services, capacity building, infrastructure or research.

Two initiatives on the same mission and territory duplicate each other when they pull the same lever for the
same people; with different levers they complete each other (a call funding energy retrofits and a programme
training the installers). Funded projects carry the lever as a fact (the CUP's nature and type); texts are
read with cue words in Italian and English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from convergenze.core.vocabulary import DocType, Lever

_CUES: dict[Lever, re.Pattern[str]] = {
    lever: re.compile(pattern, re.IGNORECASE)
    for lever, pattern in {
        Lever.FUNDING: r"\bcontribut[oi]\b|\bfinanziament[oi]\b|fondo\s+perduto|\bvoucher\b|\bagevolazion[ei]\b|"
        r"\bincentiv[oi]\b|\bprestit[oi]\b|\bgaranzi[ae]\b|\bgrants?\b|\bloans?\b|\bfunding\b|\bsovvenzion",
        # "servizi digitali" are what a project builds, not a service it delivers: only service delivery counts.
        Lever.SERVICES: r"\bservizi\s+(?:sociali|socio|di\s+assistenza|alla\s+persona|educativi|per\s+l['’]infanzia|"
        r"di\s+cura|per\s+il\s+lavoro|di\s+prossimità|abitativi)|\bsportell[oi]\b|presa\s+in\s+carico|"
        r"\baccompagnamento\b|\bassistenza\s+(?:domiciliare|sociale|sanitaria)|\bcare\s+services\b|"
        r"\bsocial\s+services\b|\bcentr[oi]\s+(?:diurn|antiviolenza|per)",
        Lever.CAPACITY_BUILDING: r"\bformazione\b|\bcompetenze\b|capacity[\s-]building|\brafforzamento\b|"
        r"\btraining\b|\bskills\b|assistenza\s+tecnica|\bmentoring\b|\bcoaching\b|\bcorsi\b|\baggiornamento\s+"
        r"professionale|\bupskilling\b|\breskilling\b",
        Lever.INFRASTRUCTURE: r"\blavori\b|\bcostruzione\b|\briqualificazione\b|\bristrutturazione\b|"
        r"\binfrastruttur\w+|\bedific[io]\b|messa\s+in\s+sicurezza|\bworks\b|\bconstruction\b|\bretrofit|"
        r"\bimpiant[io]\b|efficientamento\s+energetico|\bmanutenzione\s+straordinaria",
        Lever.RESEARCH: r"\bricerca\b|sviluppo\s+sperimentale|innovazione\s+tecnologica|\bresearch\b|\bR&[SD]\b|"
        r"\bbrevett|\bprototip|\binnovation\s+action|\bTRL\b",
    }.items()
}

# The CUP's nature and type (Italia Domani's funded projects): the lever is a fact, not a guess.
_CUP_TYPES = (
    ("FORMAZIONE", Lever.CAPACITY_BUILDING),
    ("CORSI", Lever.CAPACITY_BUILDING),
    ("RICERCA", Lever.RESEARCH),
    ("STUDI E PROGETTAZIONI", Lever.RESEARCH),
)
_CUP_NATURES = (
    ("CONCESSIONE DI INCENTIVI", Lever.FUNDING),
    ("CONCESSIONE DI CONTRIBUTI", Lever.FUNDING),
    ("LAVORI PUBBLICI", Lever.INFRASTRUCTURE),
    ("ACQUISTO DI BENI", Lever.INFRASTRUCTURE),
    ("SERVIZI", Lever.SERVICES),
)


def levers_in_text(text: str, max_chars: int = 20_000) -> list[Lever]:
    """Levers a text talks about, most mentioned first (at most two: the rest is noise)."""
    counts = Counter({lever: len(rx.findall(text[:max_chars])) for lever, rx in _CUES.items()})
    found = [lever for lever, n in counts.most_common() if n > 0]
    if not found:
        return []
    top = counts[found[0]]
    return [lever for lever in found[:2] if counts[lever] * 3 >= top]


def document_levers(document_type: str, metadata: Mapping[str, Any], text: str) -> list[Lever]:
    """Levers of a stored document: a project's from its CUP, a call's is funding, a text's from its cues."""
    if document_type == DocType.PROJECT:
        # The CUP's lever, and the text's main one: a description of the same project names the latter.
        kind = str(metadata.get("cup_type") or "").upper()
        nature = str(metadata.get("cup_nature") or "").upper()
        official = next((lever for needle, lever in (*_CUP_TYPES, *_CUP_NATURES) if needle in kind + " " + nature),
                        None)
        spoken = levers_in_text(text)[:1]
        return list(dict.fromkeys([*([official] if official else []), *spoken]))
    if document_type == DocType.CALL:
        # A call hands out money (or services bought with it): funding, plus what the money is for.
        return [Lever.FUNDING, *[lever for lever in levers_in_text(text) if lever != Lever.FUNDING][:1]]
    return levers_in_text(text)
