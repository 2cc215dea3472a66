"""Who a call is for and who issues it.

``find_beneficiaries`` maps the actors named near a beneficiary cue ("Possono presentare domanda le PMI
...") onto the Convergenze actor types, keeping the call's own wording; ``find_issuer`` reads the issuing
body from an explicit cue ("Soggetto emanante:", "A cura di"), else from the act's heading outside its
premises.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from convergenze.core.vocabulary import ActorType, PlaceLevel

from .call_cues import Span, any_word, in_citation, word_regex
from .gazetteer import Gazetteer, GazetteerEntry, normalize

# --- beneficiaries -------------------------------------------------------------------------------

# Order matters: an earlier type claims its words first ("imprese sociali" is third sector, not company).
_ACTORS: tuple[tuple[ActorType, re.Pattern[str]], ...] = tuple(
    (t, word_regex(p))
    for t, p in (
        (
            ActorType.THIRD_SECTOR,
            r"impres[ae]\s+social[ei]|enti\s+del\s+terzo\s+settore|terzo\s+settore|ETS|APS|ODV|OdV"
            r"|organizzazion[ei]\s+di\s+volontariato|associazion[ei](?:\s+di\s+promozione\s+sociale)?|onlus"
            r"|organism[io]\s+(?:privat[io]\s+)?(?:non|senza)\s+(?:a\s+)?scopo\s+di\s+lucro"
            r"|ent[ei]\s+(?:privat[io]\s+)?(?:non|senza)\s+(?:a\s+)?(?:scopo|fin[ei])\s+di\s+lucro|no[\s-]?profit|non[\s-]profit"
            r"|soggetti\s+di\s+natura\s+associativa|NGOs?|non-governmental\s+organi[sz]ations?"
            r"|civil\s+society\s+organi[sz]ations?|social\s+enterprises?",
        ),
        (ActorType.COOPERATIVE, r"(?:società\s+)?cooperativ[ae]|cooperatives?"),
        (ActorType.FOUNDATION, r"fondazion[ei]|foundations?"),
        (
            ActorType.FINANCIAL_INSTITUTION,
            r"banche|istituti\s+di\s+credito|intermediari\s+finanziari|confidi|soggetti\s+finanziatori"
            r"|financial\s+intermediar(?:y|ies)|banks",
        ),
        (
            ActorType.UNIVERSITY_RESEARCH,
            r"universit(?:à|a['’]|ies|y)|atene[oi]|ent[ei]\s+(?:pubblic[io]\s+)?di\s+ricerca"
            r"|organism[io]\s+di\s+ricerca|centr[io]\s+di\s+ricerca|istitut[io]\s+(?:universitari|di\s+ricerca)|IRCCS|AFAM"
            r"|research\s+organi[sz]ations?|research\s+(?:institutions?|centres?|centers?)"
            r"|higher\s+education\s+institutions?",
        ),
        (
            ActorType.PUBLIC_BODY,
            r"ent[ei]\s+pubblic[io]|organism[io]\s+pubblic[io]"
            r"|società\s+a\s+(?:prevalente\s+)?(?:capitale|partecipazione)\s+pubblic[ao]|aziende\s+sanitarie"
            r"|aziende\s+ospedalier[ae]|ASL|autorità\s+di\s+sistema\s+portuale|camer[ae]\s+di\s+commercio"
            r"|public\s+(?:bodies|body|entities|entity)",
        ),
        (
            ActorType.PUBLIC_ADMINISTRATION,
            r"pubblich[ae]\s+amministrazion[ei]"
            r"|amministrazion[ei]\s+(?:pubblich[ae]|centrali|locali|comunali|regionali|statali)|PA|P\.A\."
            r"|unioni\s+di\s+comuni|(?-i:Comuni)|(?<=\bi\s)comuni|(?<=\bai\s)comuni|(?<=\bdei\s)comuni"
            r"|(?-i:Regioni)(?!\s+(?:meno|più|in\b|del|della|dell['’]|di\b|:|\())|province\s+autonome"
            r"|città\s+metropolitane|ministeri|enti\s+locali|enti\s+territoriali|comunità\s+montane|scuole"
            r"|istituzioni\s+scolastiche|istituti\s+scolastici|ambiti\s+territoriali(?:\s+sociali)?"
            r"|public\s+authorit(?:y|ies)|local\s+authorit(?:y|ies)|public\s+administrations?|municipalities",
        ),
        (
            ActorType.COMPANY,
            r"micro,?\s+piccole\s+e\s+medie\s+imprese|(?:micro|piccol[ae]|medi[ae]|grand[ie])\s+imprese"
            r"|microimpres[ae]|M?PMI|MGI|(?<!Registro delle )(?<!registro delle )impres[ae]"
            r"(?:\s+(?:individuali|femminili"
            r"|giovanili|artigian[ae]|agricol[ae]|commercial[ei]))?|start[\s-]?up|società\s+di\s+(?:capitali|persone)"
            r"|liber[aeio]\s+professionist[aei]|professionist[aei]|lavorat(?:ori|rici)\s+autonom[ei]|operatori\s+economici"
            r"|reti\s+d['’]\s*impres[ae]|consorzi|aziende|SMEs?|enterprises|companies|businesses|start-ups",
        ),
        (
            ActorType.CITIZEN,
            r"persone\s+fisiche|cittadin[ei]|giovani|donne|student[ei]|famiglie|individui|disoccupat[ei]"
            r"|ricercator[ei]|dottorand[ei]|natural\s+persons|individuals|citizens|young\s+people|students|researchers|women",
        ),
    )
)
_CITIZEN_IN_COMPANY = re.compile(
    r"impres\w*|soci[ea]\b|societ\w*|imprendit\w*|titolar\w*|compagin\w*|lavoratrici\s+autonom\w*", re.IGNORECASE
)
# Actor words that name something else than who applies, read in the words just before them (same clause): the
# chamber an applicant is registered with, the bank or Confidi the aid passes through, the persons an employer
# hires, the association a professional belongs to, the towns where the applicant must be, an exclusion.
_NOT_APPLICANT: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(words, re.IGNORECASE), re.compile(before, re.IGNORECASE))
    for words, before in (
        (r"camer[ae]\s+di\s+commercio", r"(?:\biscritt\w*|\bregistr\w*|\bcircoscrizion\w*|\bpromoss\w*|\bdalla\b"
                                         r"|\bcompetenza\b|\bsede\b)[^.;:\n]{0,40}$"),
        (r"banche|istituti\s+di\s+credito|intermediari|confidi|soggetti\s+finanziatori",
         r"(?:\btramite\b|\bpresso\b|\battraverso\b|\bda\s+parte\b|\b(?:dai|dal|dalle|dagli)\b|\bconvenzionat\w*)"
         r"[^.;:\n]{0,40}$"),
        (r"giovani|donne|disoccupat[ei]|persone|cittadin[ei]|student[ei]",
         r"(?:\bassunzion\w*|\bassumer\w*|\binseriment\w*|\boccupazione\s+d\w*|\bstabilizzazion\w*)[^.;:\n]{0,40}$"),
        (r"associazion[ei]|cooperativ[ae]",
         r"(?:\baderent\w*|\biscritt\w*|\binserit\w*|\bsoci[ea]?\s+d\w*)[^.;:\n]{0,40}$"),
        (r"comuni|regioni", r"(?:\bnei|\bUnione\s+d\w+|\bFondo)\s*$|(?:\bsede\b|\bubicat\w*|\blocalizzat\w*"
                            r"|\binsediar\w*|\bterritori\w*)[^.;:\n]{0,40}$"),
        (r".+", r"(?:\besclusion\w*|\bescluse?\b|\besclusi\b|\bad\s+eccezione\b|\btranne\b)[^.;:\n]{0,40}$"),
    )
)
_BENEFICIARY_CUE = re.compile(
    r"\bbeneficiari\b|\bdestinatari\b|soggetti\s+(?:ammissibili|ammessi|richiedenti|proponenti|legittimati)"
    r"|(?:possono|potranno)\s+(?:presentare|beneficiare|partecipare|accedere|candidarsi|richiedere|fare\s+domanda)"
    r"|legittimat[ei]\s+a\s+(?:richiedere|presentare)|\brivolt[oaie]\s+(?:a|alle|ai|agli)\b|si\s+rivolge"
    r"|chi\s+può|who\s+can\s+apply|eligible\s+(?:applicants|participants|entities|beneficiaries|organi[sz]ations)"
    r"|\bopen\s+to\b|\bapplicants\s+(?:must|should)\b|\bbeneficiaries\b"
    r"|ammess[ei]\s+(?:alle\s+agevolazioni|a\s+presentare|a\s+partecipare)|sono\s+concess[ei]\s+(?:alle|ai|agli|a)\b"
    r"|[ia]\s+favore\s+d(?:i|ei|elle|egli)\b|destinat[aoi]\s+(?:alle|ai|agli|a)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\bnon\s+(?:possono|sono|è|può|potranno|ammess)|\besclus[aie]\b|\bad\s+eccezione\b|\bcannot\b|\bnot\s+eligible\b",
    re.IGNORECASE,
)
_MAX_WINDOWS = 3
_SHORT_TEXT = 600


def find_beneficiaries(
    text: str, sentence_of: Callable[[int], tuple[int, int]], in_preamble: Callable[[int], bool]
) -> list[Span]:
    """Actor types named near a beneficiary cue ("Possono presentare domanda le PMI ..."), one per wording."""
    found: dict[tuple[str, str], Span] = {}
    windows = 0
    for cue in _BENEFICIARY_CUE.finditer(text):
        sent_start, sent_end = sentence_of(cue.start())
        if in_preamble(cue.start()) or _NEGATED.search(text, max(sent_start, cue.start() - 40), cue.end()):
            continue
        spans = actors_in(text, max(sent_start, cue.start() - 250), min(sent_end, cue.end() + 450))
        for span in spans:
            found.setdefault((span.value, normalize(span.detail)), span)
        windows += bool(spans)  # a table of contents line names the cue but no actor
        if windows == _MAX_WINDOWS:
            break
    if not found and len(text) <= _SHORT_TEXT:
        # A title or a summary: whatever actor it names is the target.
        for span in actors_in(text, 0, len(text)):
            found.setdefault((span.value, normalize(span.detail)), span)
    return list(found.values())


def actors_in(text: str, start: int, end: int) -> list[Span]:
    taken: list[tuple[int, int]] = []
    out = []
    for actor_type, pattern in _ACTORS:
        for match in pattern.finditer(text, start, end):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            near = text[max(0, match.start() - 40) : match.end() + 40]
            if actor_type == ActorType.CITIZEN and _CITIZEN_IN_COMPANY.search(near):
                continue  # "donne socie", "giovani imprenditori" describe companies
            if _not_applicant(text, match):
                continue
            taken.append((match.start(), match.end()))
            out.append(Span(actor_type, match.start(), match.end(), detail=match.group(0)))
    return sorted(out, key=lambda s: s.start)


def _not_applicant(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 60) : match.start()]
    return any(words.fullmatch(match.group(0)) and rx.search(before) for words, rx in _NOT_APPLICANT)


# --- issuer -------------------------------------------------------------------------------------

_MINISTRIES = (
    "Ministero delle Imprese e del Made in Italy",
    "Ministero dello Sviluppo Economico",
    "Ministero dell'Economia e delle Finanze",
    "Ministero dell'Università e della Ricerca",
    "Ministero dell'Istruzione e del Merito",
    "Ministero dell'Istruzione",
    "Ministero della Cultura",
    "Ministero del Turismo",
    "Ministero dell'Ambiente e della Sicurezza Energetica",
    "Ministero della Transizione Ecologica",
    "Ministero delle Infrastrutture e dei Trasporti",
    "Ministero del Lavoro e delle Politiche Sociali",
    "Ministero della Salute",
    "Ministero dell'Interno",
    "Ministero della Giustizia",
    "Ministero dell'Agricoltura, della Sovranità Alimentare e delle Foreste",
    "Ministero delle Politiche Agricole Alimentari e Forestali",
    "Ministero degli Affari Esteri e della Cooperazione Internazionale",
    "Ministero della Difesa",
    "Presidenza del Consiglio dei Ministri",
    "Dipartimento per la Trasformazione Digitale",
    "Dipartimento della Funzione Pubblica",
    "Agenzia per la Coesione Territoriale",
)
_NAMED_BODIES = {
    "MIMIT": _MINISTRIES[0],
    "MISE": _MINISTRIES[1],
    "MEF": _MINISTRIES[2],
    "MUR": _MINISTRIES[3],
    "MASE": _MINISTRIES[8],
    "INPS": "INPS",
    "INAIL": "INAIL",
    "Inail": "INAIL",
    "Invitalia": "Invitalia",
    "FI.L.S.E.": "FI.L.S.E.",
    "FILSE": "FI.L.S.E.",
    "Lazio Innova": "Lazio Innova",
    "Finlombarda": "Finlombarda",
    "Finpiemonte": "Finpiemonte",
    "Sviluppo Campania": "Sviluppo Campania",
    "Puglia Sviluppo": "Puglia Sviluppo",
    "Friulia": "Friulia",
    "Veneto Sviluppo": "Veneto Sviluppo",
    "Veneto Innovazione": "Veneto Innovazione",
    "Gepafin": "Gepafin",
    "Sviluppumbria": "Sviluppumbria",
    "Fincalabra": "Fincalabra",
    "Finaosta": "Finaosta",
    "Unioncamere": "Unioncamere",
    "SIMEST": "SIMEST",
    "Cassa Depositi e Prestiti": "Cassa Depositi e Prestiti",
    "Mediocredito Centrale": "Mediocredito Centrale",
    "Agenzia delle Entrate": "Agenzia delle Entrate",
    "ICE": "ICE",
    "GSE": "GSE",
    "ENEA": "ENEA",
    "Roma Capitale": "Roma Capitale",
    "European Commission": "European Commission",
    "Commissione europea": "European Commission",
    "European Research Council Executive Agency": "ERCEA",
    "ERCEA": "ERCEA",
    "EISMEA": "EISMEA",
    "CINEA": "CINEA",
    "HaDEA": "HaDEA",
    "EACEA": "EACEA",
}
_MINISTRY_RX = re.compile(
    "|".join(
        re.escape(n).replace("Ministero", "Minist(?:ero|ro)").replace("'", r"['’]\s*").replace(r"\ ", r"\s+")
        for n in sorted(_MINISTRIES, key=len, reverse=True)
    ),
    re.IGNORECASE,
)
_BODY_RX = re.compile(
    "|".join(
        r"(?<![\w.])" + re.escape(k).replace(r"\ ", r"\s+") + r"(?![\w])"
        for k in sorted(_NAMED_BODIES, key=len, reverse=True)
    )
)
# Where a body's calls apply, for a text that names no territory of its own: a national body's calls are national,
# a regional finance company's are its region's.
_NATIONAL_BODIES = frozenset({
    *_MINISTRIES, "INPS", "INAIL", "Invitalia", "Unioncamere", "SIMEST", "Cassa Depositi e Prestiti",
    "Mediocredito Centrale", "Agenzia delle Entrate", "ICE", "GSE", "ENEA",
})
_EU_BODIES = frozenset({"European Commission", "ERCEA", "EISMEA", "CINEA", "HaDEA", "EACEA"})
_BODY_REGIONS = {
    "FI.L.S.E.": "Liguria", "Lazio Innova": "Lazio", "Finlombarda": "Lombardia", "Finpiemonte": "Piemonte",
    "Sviluppo Campania": "Campania", "Puglia Sviluppo": "Puglia", "Friulia": "Friuli-Venezia Giulia",
    "Veneto Sviluppo": "Veneto", "Veneto Innovazione": "Veneto", "Gepafin": "Umbria", "Sviluppumbria": "Umbria",
    "Fincalabra": "Calabria", "Finaosta": "Valle d'Aosta", "Roma Capitale": "Lazio",
}
_MINISTRY_WORDS = ("minist", "presidenza", "dipartimento", "agenzia")
_BODY_WORDS = tuple({k.lower().split()[0] for k in _NAMED_BODIES})
_GENERIC_WORDS = ("regione", "camera", "cciaa", "comune", "città", "provincia", "universit", "politecnico")
_CAP = r"[A-ZÀ-Ý][\w'’]+"
_GENERIC_RX = re.compile(
    rf"(?P<region>(?i:Regione)\s+(?:Autonoma\s+)?{_CAP}(?:[ \t\-]+(?:{_CAP}|d['’]\s*{_CAP}))*)"
    rf"|(?P<chamber>Camera\s+di\s+[Cc]ommercio(?:,?\s+[Ii]ndustria,?\s+[Aa]rtigianato\s+e\s+[Aa]gricoltura)?"
    rf"(?:\s+[Mm]etropolitana)?\s+(?:di|della|del|dell['’])\s*{_CAP}(?:[ \t\-]+{_CAP}|[ \t]+e[ \t]+del[ \t]+{_CAP})*"
    rf"|CCIAA[ \t]+(?:di[ \t]+)?{_CAP}(?:[ \t\-]+(?![IVX]+\b){_CAP})*)"
    rf"|(?P<town>Comune\s+di\s+{_CAP}(?:\s+(?:{_CAP}|d[ie]l?l?[aeio]?|al|sul|in))*)"
    rf"|(?P<metro>Città\s+[Mm]etropolitana\s+di\s+{_CAP})|(?P<prov>Provincia\s+[Aa]utonoma\s+di\s+{_CAP})"
    rf"|(?P<uni>(?:Sapienza\s+)?Università\s+(?:degli\s+[Ss]tudi\s+)?(?:di|della|del|dell['’])\s*{_CAP}"
    rf"(?:[ \t]+{_CAP})*"
    rf"|Politecnico\s+di\s+{_CAP})",
)
_ISSUER_CUE = re.compile(
    r"(?:soggetto\s+emanante|amministrazione\s+(?:aggiudicatrice|procedente|concedente)|ente\s+(?:erogatore|emanante"
    r"|gestore|finanziatore)|stazione\s+appaltante|a\s+cura\s+d(?:i|el|ella|ell['’])|issued\s+by|granting\s+authority)"
    r"\s*[:\-–]?\s*",
    re.IGNORECASE,
)
_HEADER_CHARS = 3000
# A body named as the author of an act the call cites, not as the call's issuer: "istituito con decreto del Ministro
# dello sviluppo economico", "come definite dalla raccomandazione della Commissione europea".
_CITED = re.compile(
    r"(?:decret\w*|raccomandazion\w*|regolament\w*|decision\w*|comunicazion\w*|notific\w*|circolar\w*|delibera\w*"
    r"|ordinanz\w*|autorizzazion\w*|approvat\w*|definit\w*|considerat\w*|istituit\w*|adottat\w*|emanat\w*"
    r"|(?:elenco|albo|registro)\s+tenut\w*)[^.;:\n]{0,60}?\b(?:del|della|dello|dell['’]|dal|dalla|dallo|dall['’]|alla|al)"
    r"\s*$",
    re.IGNORECASE,
)
_RECTOR = re.compile(r"\bdecreto\s+rettorale\b|\bil\s+rettore\b|\bla\s+rettrice\b", re.IGNORECASE)
_FREQUENCY_CHARS = 30_000


def institutions(text: str, start: int, end: int, gazetteer: Gazetteer) -> list[Span]:
    lowered = text[start:end].lower()
    out: list[Span] = []
    if any_word(_MINISTRY_WORDS, lowered):
        out += [
            Span(_canonical_ministry(m.group(0)), m.start(), m.end())
            for m in _MINISTRY_RX.finditer(text, start, end)
        ]
    if any_word(_BODY_WORDS, lowered):
        out += [
            Span(_NAMED_BODIES[re.sub(r"\s+", " ", m.group(0))], m.start(), m.end())
            for m in _BODY_RX.finditer(text, start, end)
        ]
    if not any_word(_GENERIC_WORDS, lowered):
        return sorted(out, key=lambda s: s.start)
    for match in _GENERIC_RX.finditer(text, start, end):
        name = _generic_name(match, gazetteer)
        if name:
            out.append(Span(name, match.start(), match.end(), detail=match.lastgroup or ""))
    return sorted(out, key=lambda s: s.start)


def _canonical_ministry(found: str) -> str:
    key = normalize(found.replace("Ministro", "Ministero").replace("ministro", "ministero"))
    for name in _MINISTRIES:
        if normalize(name) == re.sub(r"'\s*", "'", key):
            return name
    return re.sub(r"\s+", " ", found)


def _generic_name(match: re.Match[str], gazetteer: Gazetteer) -> str | None:
    found = re.sub(r"\s+", " ", match.group(0)).strip()
    if match.group("region"):
        words = found.split(" ", 1)[1].removeprefix("Autonoma ")
        for n in range(len(words.split()), 0, -1):
            entry = gazetteer.lookup(" ".join(words.split()[:n]), "region")
            if entry:
                return f"Regione {entry.name}"
        return None
    if match.group("town"):
        name = found.removeprefix("Comune di ")
        for n in range(len(name.split()), 0, -1):
            entry = gazetteer.lookup(" ".join(name.split()[:n]), "municipality")
            if entry:
                return f"Comune di {entry.name}"
        return None
    if match.group("chamber") and found.startswith("CCIAA"):
        return "Camera di Commercio di " + re.sub(r"^CCIAA\s+(?:di\s+)?", "", found)
    return found


def find_issuer(text: str, gazetteer: Gazetteer) -> Span | None:
    """Who issues the call: an explicit cue, else the first institution of the heading outside premises."""
    for cue in _ISSUER_CUE.finditer(text, 0, min(len(text), 20_000)):
        named = institutions(text, cue.end(), min(len(text), cue.end() + 150), gazetteer)
        if named and named[0].start == cue.end():
            return named[0]
    if _RECTOR.search(text, 0, min(len(text), 1500)):
        universities = [s for s in institutions(text, 0, _FREQUENCY_CHARS, gazetteer) if s.detail == "uni"]
        if universities:
            counts = Counter(s.value for s in universities)
            return max(universities, key=lambda s: counts[s.value])
    header_end = min(len(text), _HEADER_CHARS)
    for span in institutions(text, 0, header_end, gazetteer):
        if not in_citation(text, span.start) and not _CITED.search(text, max(0, span.start - 100), span.start):
            return span
    # Acts whose heading is all premises ("LA RETTRICE / VISTO ...") name their issuer in every page footer.
    named = institutions(text, 0, min(len(text), _FREQUENCY_CHARS), gazetteer)
    if not named:
        return None
    counts = Counter(s.value for s in named)
    top = max(counts.values())
    return next(s for s in named if counts[s.value] == top) if top >= 2 else None


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an issuer's calls apply: a region, a province or a town of the gazetteer, or the whole country or
    the EU (``entry`` None)."""

    level: PlaceLevel
    entry: GazetteerEntry | None = None


def issuer_scope(issuer: Span, gazetteer: Gazetteer) -> Scope | None:
    """The territory an issuer stands for: a ministry or a national agency the country, "Regione X" and a
    regional finance company (FILSE, Finlombarda, ...) their region, "Provincia autonoma di Y" its province, a
    chamber of commerce its province, "Comune di Z" its town; None for bodies that say nothing of a place."""
    name = issuer.value
    if name in _NATIONAL_BODIES:
        return Scope(PlaceLevel.NATIONAL)
    if name in _EU_BODIES:
        return Scope(PlaceLevel.EU)
    if name in _BODY_REGIONS:
        return _scope(gazetteer.lookup(_BODY_REGIONS[name], "region"))
    words = _BODY_KIND.sub("", name)
    levels = {"region": ("region",), "town": ("municipality",), "metro": ("province",), "prov": ("province",),
              "chamber": ("province", "municipality")}.get(issuer.detail, ())
    for level in levels:
        # The longest run of words that names a place: "Maremma e del Tirreno" is none, "Cuneo" is one.
        parts = words.replace("-", " ").split()
        for size in range(len(parts), 0, -1):
            for first in range(len(parts) - size + 1):
                entry = gazetteer.lookup(" ".join(parts[first : first + size]), level)
                if entry is not None:
                    return _scope(entry)
    return None


_BODY_KIND = re.compile(
    r"^(?:Regione|Comune\s+di|Citt\S\s+[Mm]etropolitana\s+di|Provincia\s+[Aa]utonoma\s+di"
    r"|Camera\s+di\s+[Cc]ommercio.*?\s(?:dell['’]|della\s|dello\s|del\s|di\s)|CCIAA(?:\s+di)?)\s*"
)


def _scope(entry: GazetteerEntry | None) -> Scope | None:
    return Scope(PlaceLevel(entry.level), entry) if entry is not None else None
