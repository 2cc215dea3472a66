"""What the pages call the project's values (Italian msgids, translated where shown). Keys are the values of
``convergenze.core.vocabulary`` (``ActorType``, ``CallStatus``, ``SupportForm``...); a test checks that none is
missing."""

from __future__ import annotations

from .i18n import N_

DOC_TYPES = {
    "call": N_("Bando"),
    "measure": N_("Misura PNRR"),
    "project": N_("Progetto finanziato"),
    "programme": N_("Programma"),
    "policy": N_("Documento di indirizzo"),
}
STATUSES = {
    "open": N_("Aperto"),
    "forthcoming": N_("In arrivo"),
    "closed": N_("Chiuso"),
    "unknown": N_("Stato non indicato"),
    "withdrawn": N_("Ritirato"),
}
ACTOR_TYPES = {
    "public_body": N_("Enti pubblici"),
    "public_administration": N_("Pubbliche amministrazioni"),
    "cooperative": N_("Cooperative"),
    "foundation": N_("Fondazioni"),
    "third_sector": N_("Enti del terzo settore"),
    "company": N_("Imprese e PMI"),
    "financial_institution": N_("Istituti finanziari"),
    "university_research": N_("Università ed enti di ricerca"),
    "citizen": N_("Cittadini"),
}
SUPPORT_FORMS = {
    "grant": N_("Contributo a fondo perduto"),
    "loan": N_("Finanziamento agevolato"),
    "guarantee": N_("Garanzia"),
    "equity": N_("Partecipazione al capitale"),
    "tax_relief": N_("Agevolazione fiscale"),
    "social_security_relief": N_("Sgravio contributivo"),
}
FIRM_SIZES = {
    "micro": N_("Microimprese"),
    "small": N_("Piccole imprese"),
    "medium": N_("Medie imprese"),
    "large": N_("Grandi imprese"),
}
NOT_A_CALL = N_("Non è un bando di finanziamento")
NON_CALL_KINDS = {
    "recruitment": N_("concorso o selezione di personale"),
    "circular": N_("circolare"),
    "presentation": N_("presentazione o webinar"),
    "amendment": N_("modifica o proroga di un atto"),
    "ranking": N_("graduatoria"),
    "procurement": N_("gara d'appalto"),
    "other": N_("altro atto"),
}
CRITERIA = {
    "status": N_("Stato"),
    "territory": N_("Territorio"),
    "beneficiary": N_("Beneficiari"),
    "budget": N_("Importo"),
}
VERDICTS = {"ok": N_("sì"), "no": N_("no"), "unknown": N_("da verificare")}
ELIGIBLE = {"eligible": N_("Ammissibile"), "possible": N_("Da verificare"), "ineligible": N_("Non ammissibile")}
FRAMEWORKS = {
    "convergenze": N_("Missioni Convergenze"),
    "pnrr": N_("Missioni PNRR"),
    "sdg": N_("Obiettivi di sviluppo sostenibile (SDG)"),
    "cohesion": N_("Obiettivi di policy della coesione"),
    "horizon": N_("Cluster di Horizon Europe"),
}
LEVERS = {
    "funding": N_("finanziamento"),
    "services": N_("servizi"),
    "capacity_building": N_("formazione e capacità"),
    "infrastructure": N_("infrastrutture e opere"),
    "research": N_("ricerca e innovazione"),
}
OVERLAP_CRITERIA = {
    "mission": N_("Missione"),
    "territory": N_("Territorio"),
    "target": N_("Destinatari"),
    "lever": N_("Leva"),
}
OVERLAP_VALUES = {
    "same": N_("stesso"),
    "neighbour": N_("confinante"),
    "wider": N_("più ampio"),
    "other": N_("altro"),
    "different": N_("diverso"),
    "unknown": N_("non indicato"),
}
SOURCE_KINDS = {"text": N_("testo"), "pdf": "PDF", "docx": "DOCX", "txt": "TXT"}
INELIGIBLE = {
    "demote": N_("in fondo all'elenco"),
    "exclude": N_("esclusi"),
    "keep": N_("al loro posto"),
}
EVENTS = {
    "new": N_("Prima lettura"),
    "title": N_("Titolo cambiato"),
    "text": N_("Testo cambiato"),
    "opening": N_("Apertura cambiata"),
    "deadline": N_("Scadenza cambiata"),
    "budget": N_("Dotazione cambiata"),
    "status": N_("Stato cambiato"),
    "withdrawn": N_("Non più pubblicato dalla fonte"),
    "reappeared": N_("Di nuovo pubblicato"),
    "closed": N_("Chiuso: scadenza passata"),
}
