"""Messages a person can act on, in the page's language: the API's fixed errors (api/errors.py) as the pages
say them, and the page's own. Shown on the page with the form kept as typed."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from convergenze.core.errors import ConvergenzeError

from .. import errors
from .i18n import N_

QUERY_EMPTY = N_("La ricerca è vuota: scrivi qualche parola, per esempio «efficienza energetica scuole».")
TEXT_EMPTY = N_("Descrivi il progetto in qualche riga, oppure carica un file PDF, DOCX o TXT.")
PROGRAMME_EMPTY = N_("Descrivi il programma in qualche riga, oppure carica un file PDF, DOCX o TXT.")
TEXT_AND_FILE = N_("Hai scritto un testo e caricato un file: usa solo uno dei due.")
CSRF_FAILED = N_("Il modulo è scaduto o non viene da questa pagina: ricarica la pagina e riprova.")
NOT_FOUND = N_("Pagina non trovata: controlla l'indirizzo o torna alla ricerca.")
DOCUMENT_NOT_FOUND = N_("Questo documento non è nell'indice: forse è stato rimosso, o l'indirizzo è incompleto.")
ACTOR_NOT_FOUND = N_("Questo soggetto non è nell'elenco: forse l'indice è stato ricostruito.")
ALERT_NOT_FOUND = N_("Questo avviso non esiste più.")
INDEX_EMPTY = N_("L'indice è vuoto: esegui «convergenze ingest» per caricare i documenti.")
CATALOG_MISSING = N_("Il catalogo non è ancora pronto: esegui «convergenze ingest».")
ALERT_NAME_EMPTY = N_("Dai un nome all'avviso.")
BAD_FIELDS = N_("Un valore non è valido (%(fields)s): correggilo o toglilo.")
KEY_REFUSED = N_("Questa chiave non è valida o è stata revocata: controllala o chiedine una nuova "
                 "all'amministratore.")
SIGN_IN_TO_READ = N_("Questo servizio è riservato: accedi con la tua chiave dalla pagina «Avvisi».")
KEY_NEEDED_FOR_ALERTS = N_("Gli avvisi sono personali: accedi con una chiave di tipo «editor» per salvarne uno.")

_API = {
    errors.QUERY_EMPTY: QUERY_EMPTY,
    errors.TEXT_EMPTY: TEXT_EMPTY,
    errors.TEXT_AND_FILE: TEXT_AND_FILE,
    errors.BAD_DEADLINE_RANGE: N_("La data «dal» viene dopo la data «al»: scambiale o correggine una."),
    errors.BAD_BUDGET_RANGE: N_("L'importo minimo supera quello massimo: correggine uno."),
    errors.UNKNOWN_REGION: N_("Regione sconosciuta: scegli una regione italiana dall'elenco, per esempio Lazio."),
    errors.UNKNOWN_MUNICIPALITY: N_("Comune sconosciuto: scrivi il nome come lo scrive l'ISTAT e scegli dai "
                                    "suggerimenti, per esempio «Reggio nell'Emilia»."),
    errors.MUNICIPALITY_NOT_IN_REGION: N_("Il comune non è nella regione indicata: correggi uno dei due o "
                                          "lascia vuota la regione."),
    errors.NEEDED_BY_IN_PAST: N_("La data entro cui servono i fondi è già passata."),
    errors.UNKNOWN_MISSION: N_("Missione sconosciuta: sceglila dall'elenco."),
    errors.UPLOAD_TOO_LARGE: N_("Il file è troppo grande: carica un file più piccolo o incolla il testo."),
    errors.UPLOAD_UNSUPPORTED: N_("Questo tipo di file non è accettato: carica un PDF, un DOCX o un TXT."),
    errors.UPLOAD_UNREADABLE: N_("Il file non si può leggere: è danneggiato o non è del tipo che il nome "
                                 "indica. Prova a salvarlo di nuovo come PDF, oppure incolla il testo."),
    errors.UPLOAD_EMPTY: N_("Dal file non si ricava testo (forse è una scansione): incolla il testo del progetto."),
    errors.INDEX_EMPTY: INDEX_EMPTY,
    errors.CATALOG_MISSING: CATALOG_MISSING,
    errors.ALERT_NEEDS_ONE_TEXT: N_("Un avviso segue una ricerca oppure un progetto, non entrambi."),
    errors.ALERT_LIMIT: N_("Hai già il numero massimo di avvisi: eliminane uno prima di crearne un altro."),
    errors.RATE_LIMITED: N_("Troppe richieste in poco tempo: attendi un momento e riprova."),
    errors.BUSY: N_("Il servizio è occupato con altre richieste: riprova tra qualche istante."),
    errors.BODY_TOO_LARGE: N_("I dati inviati superano il limite: accorcia il testo."),
}
# Field names as the forms label them, for a validation error.
_FIELDS = {
    "q": N_("testo"),
    "text": N_("testo"),
    "type": N_("tipo"),
    "status": N_("stato"),
    "language": N_("lingua"),
    "region": N_("regione"),
    "municipality": N_("comune"),
    "deadline_from": N_("scadenza dal"),
    "deadline_to": N_("scadenza al"),
    "budget_min": N_("importo minimo"),
    "budget_max": N_("importo massimo"),
    "budget_needed": N_("importo necessario"),
    "needed_by": N_("fondi entro"),
    "beneficiary_type": N_("beneficiari"),
    "support_form": N_("forma di sostegno"),
    "firm_size": N_("dimensione d'impresa"),
    "actor_type": N_("tipo di soggetto"),
    "page": N_("pagina"),
    "sort": N_("ordine"),
    "mode": N_("modalità"),
    "name": N_("nome"),
    "email": N_("e-mail"),
}


def from_error(error: StarletteHTTPException | ConvergenzeError) -> str:
    """The page's message for what the API would answer with a fixed message: an HTTPException from the
    parsing the API and the pages share, or one of the project's named errors (a bad upload, an unknown
    region or municipality, a catalog not built yet)."""
    detail = str(error.detail) if isinstance(error, StarletteHTTPException) else errors.http_answer(error)[1]
    return _API.get(detail, detail)


def invalid_fields(error: ValidationError) -> list[str]:
    """The form labels (msgids) of the fields a validation error is about, in order, once each."""
    fields = [str(e["loc"][-1] if e["loc"] and isinstance(e["loc"][-1], str) else e["loc"][0])
              for e in error.errors() if e["loc"]]
    return [_FIELDS.get(f, f) for f in dict.fromkeys(fields)]
