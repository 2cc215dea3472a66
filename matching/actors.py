"""Actors: the bodies that issue calls and implement funded projects, normalized and typed.

The same body is written many ways across sources ("COMUNE DI BARI", "Comune di Bari"; "Alfa S.R.L.",
"ALFA SRL"; "Soc. Coop. Sociale Beta a r.l."). An actor's key is its tax code when a source gives one (the
surest identity), else its normalized name; a name seen once with a tax code lends that code to its
code-less mentions. Types are the Convergenze actor types that calls' beneficiaries are mapped onto.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from convergenze.core.vocabulary import ActorType

# Legal-form variants, most specific first: each is rewritten to one canonical token before comparing names.
_LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    (r"societa\s+cooperativa\s+sociale|soc\s*coop\s*soc(?:iale)?|coop(?:erativa)?\s+soc(?:iale)?", "coopsociale"),
    (r"societa\s+cooperativa|soc\s*coop|cooperativa|coop", "coop"),
    (r"societa\s+consortile\s+a\s+responsabilita\s+limitata|s\s*c\s*a\s*r\s*l|s\s*c\s*r\s*l", "scarl"),
    (r"societa\s+a\s+responsabilita\s+limitata(?:\s+semplificata)?|s\s*r\s*l(?:\s*s)?", "srl"),
    (r"societa\s+per\s+azioni|s\s*p\s*a", "spa"),
    (r"societa\s+in\s+accomandita\s+semplice|s\s*a\s*s", "sas"),
    (r"societa\s+in\s+nome\s+collettivo|s\s*n\s*c", "snc"),
    (r"a\s+r\s*l", "arl"),
    (r"o\s*n\s*l\s*u\s*s", "onlus"),
    (r"a\s*p\s*s", "aps"),
    (r"o\s*d\s*v", "odv"),
    (r"e\s*t\s*s", "ets"),
)
_LEGAL_RX = [(re.compile(rf"(?<![a-z0-9])(?:{p})(?![a-z0-9])"), token) for p, token in _LEGAL_FORMS]
_TAX_CODE = re.compile(r"^(?:\d{11}|[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z])$")

# Ordered: the first type whose pattern matches the normalized name wins ("fondazione universita" is a
# foundation; "consorzio universitario" a research body; "banca di credito cooperativo" a bank).
_TYPE_PATTERNS: tuple[tuple[ActorType, str], ...] = (
    (ActorType.FINANCIAL_INSTITUTION, r"\bbanca\b|\bbcc\b|credito cooperativo|cassa di risparmio|cassa depositi|"
     r"\bconfidi\b|\bfinanziaria\b|\bfinlombarda\b|\bfriulia\b|\bgepafin\b|\bsimest\b|\bmediocredito\b"),
    (ActorType.FOUNDATION, r"\bfondazione\b|\bfoundation\b"),
    (ActorType.COOPERATIVE, r"\bcoopsociale\b|\bcoop\b|\bscarl\b"),
    (ActorType.THIRD_SECTOR, r"\bassociazione\b|\bonlus\b|\baps\b|\bodv\b|\bets\b|impresa sociale|\bparrocchia\b|"
     r"\bcaritas\b|\bpro loco\b|\bcroce rossa\b|\bmisericordia\b|\bdiocesi\b"),
    (ActorType.UNIVERSITY_RESEARCH, r"\buniversita\b|\bpolitecnico\b|\buniversity\b|\bateneo\b|consiglio nazionale "
     r"delle ricerche|\bcnr\b|\binfn\b|\benea\b|\birccs\b|istituto nazionale di|scuola superiore|"
     r"\bconservatorio\b|accademia di belle arti|centro di ricerca|research"),
    (ActorType.PUBLIC_ADMINISTRATION, r"^comune\b|\bcomune di\b|^regione\b|^provincia\b|citta metropolitana|"
     r"^ministero\b|presidenza del consiglio|^dipartimento\b|unione dei comuni|unione comuni|"
     r"comunita montana|roma capitale|^prefettura\b|^agenzia\b|commissario straordinario|^municipio\b|"
     r"^min\b|^mit\b|^mimit\b|^mase\b|^mur\b|^mef\b|commissione europea|european commission|executive agency|"
     r"\bercea\b|\beismea\b|\bcinea\b|\bhadea\b|\beacea\b"),
    (ActorType.PUBLIC_BODY, r"^i ?c\b|^ii ?ss?\b|^i ?i ?s\b|^isis\b|^itis?\b|^itc\b|^ipsia?\b|^ipss|^cd\b|^d ?d\b|"
     r"\bi ?c\b|\bi ?i ?s\b|istituto superiore|istituto omnicomprensivo|\bordine\b|\bcollegio\b|"
     r"azienda sanitaria|azienda ospedaliera|\basl\b|\basp\b|\bats\b|\bausl\b|\basst\b|"
     r"istituto comprensivo|istituto di istruzione|istituto tecnico|istituto professionale|\bliceo\b|"
     r"circolo didattico|\bcpia\b|scuola|\bente\b|autorita di sistema|consorzio di bonifica|camera di commercio|"
     r"\binps\b|\binail\b|\binvitalia\b|ente parco|parco nazionale|\bazienda\b.*\bpubblic|\bater\b|\bacer\b|"
     r"\baler\b|edilizia residenziale pubblica|\bipab\b|azienda pubblica|\basp\b|consorzio"),
    (ActorType.COMPANY, r"\bsrl\b|\bspa\b|\bsas\b|\bsnc\b|\bs r l\b|\bimpresa\b|\bditta\b|\bgroup\b|\bsocieta\b|"
     r"\bholding\b|\bgmbh\b|\bltd\b"),
)
_TYPE_RX = [(t, re.compile(p)) for t, p in _TYPE_PATTERNS]


def _fold(text: str) -> str:
    """Lower case, accents off, punctuation to spaces: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"[’'`´\"“”«»]", " ", plain)
    plain = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", plain)  # "s.r.l." -> "srl" before dots become spaces
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


def normalize_name(name: str) -> str:
    """A comparison key for a body's name: case, accents, punctuation and legal-form variants folded.

    >>> normalize_name("ALFA S.R.L.") == normalize_name("Alfa srl") == normalize_name("Alfa Società a "
    ...     "responsabilità limitata")
    True
    """
    folded = _fold(name)
    for pattern, token in _LEGAL_RX:
        folded = pattern.sub(token, folded)
    return re.sub(r"\s+", " ", folded).strip()


def clean_tax_code(value: object) -> str | None:
    """An Italian tax code (11 digits for bodies and companies, 16 characters for people) or None."""
    if not isinstance(value, str | int):
        return None
    code = re.sub(r"\s+", "", str(value)).upper()
    if code.isdigit() and len(code) < 11:
        code = code.zfill(11)  # spreadsheets drop the leading zeros of numeric codes
    return code if _TAX_CODE.match(code) and code != "0" * 11 else None


def actor_type(name: str) -> ActorType | None:
    """The Convergenze actor type a body's name says it is, or None when the name does not tell."""
    folded = normalize_name(name)
    for kind, pattern in _TYPE_RX:
        if pattern.search(folded):
            return kind
    return None


def actor_type_from_tax_code(tax_code: str | None) -> ActorType | None:
    """A fallback when the name does not tell: 11-digit codes starting with 8 or 9 are codici fiscali of
    non-commercial bodies (schools, public bodies, most associations), others are companies' VAT numbers."""
    if not tax_code or not tax_code.isdigit():
        return None
    return ActorType.PUBLIC_BODY if tax_code[0] in "89" else ActorType.COMPANY


def actor_id(name: str, tax_code: str | None) -> str:
    """A stable id: from the tax code when known, else from the normalized name."""
    if tax_code:
        return f"actor:cf-{tax_code}"
    digest = hashlib.sha256(normalize_name(name).encode("utf-8")).hexdigest()[:16]
    return f"actor:name-{digest}"


def display_name(names: list[str]) -> str:
    """The most readable of a body's spellings: the most frequent, mixed case preferred over SHOUTING."""
    if not names:
        raise ValueError("display_name needs at least one spelling of the name.")
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda n: (not n.isupper(), counts[n], -len(n), n))
