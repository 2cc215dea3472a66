"""``/analyse``: a call's text (typed, or a PDF/DOCX/TXT) -> what it says about itself, read by ``POST /v1/extract``'s
service and response builder and not stored: whether it is a funding call, language, status, dates, amounts, who
may apply, territory, support forms, firm sizes, issuer, programmes, missions and objectives. Every value opens to
the words it came from; a value the text does not give is said to be missing, not left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from convergenze.core.errors import ConvergenzeError
from convergenze.core.records import Amount, CallMetadata, Evidence
from convergenze.core.vocabulary import TextSource
from convergenze.services.responses import ExtractOut, extract_out
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from ...limits import rate_limited, run_model
from ...models import MAX_EXTRACT_CHARS, ExtractRequest
from .. import forms, labels, messages, views
from ..facets import LANGUAGE_NAMES
from ..i18n import N_, format_amount, format_date, format_deadline, format_opening, language
from ..templating import render, translate, web_of

router = APIRouter()
FIELDS = ("text", "today")
OTHER_DATES = 5  # the text's other dates shown, latest first, once each
NOT_FOUND = N_("Non trovato nel testo")


@dataclass(frozen=True, slots=True)
class Found:
    """A value as the page shows it, the call's words it came from, and a CSS class (a status, a framework)."""

    text: str
    quote: str | None = None
    note: str = ""
    css: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """One thing a funding officer looks for: what the text gives for it, else the sentence that says so."""

    label: str
    found: list[Found]
    missing: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    rows: list[Row] = field(default_factory=list)


@router.get("/analyse", response_class=HTMLResponse)
def analyse_form(request: Request) -> HTMLResponse:
    return _page(request, {name: request.query_params.get(name, "") for name in FIELDS})


@router.post("/analyse", response_class=HTMLResponse)
async def analyse_page(request: Request, services: ServicesDep) -> HTMLResponse:
    posted = await forms.read_form(request, FIELDS, services.settings.api.max_upload_bytes)
    fields = posted.fields
    if posted.error:
        return _page(request, fields, translate(request, posted.error), 400)
    if posted.upload and fields["text"]:
        return _page(request, fields, translate(request, messages.TEXT_AND_FILE), 400)
    text = posted.upload.text[:MAX_EXTRACT_CHARS] if posted.upload else fields["text"]
    if not text.strip():
        return _page(request, fields, translate(request, messages.CALL_EMPTY), 400)
    try:
        body = ExtractRequest.model_validate({"text": text, "today": fields["today"] or None})
        rate_limited("extract")(request, web_of(request).session.caller(request))
        extraction = await run_model(request, services.extraction.run, body.text, body.today)
    except (ValidationError, HTTPException, ConvergenzeError) as error:
        return _page(request, fields, *forms.failure(request, error))
    result = extract_out(extraction, posted.upload.kind if posted.upload else TextSource.TEXT)
    return _page(request, fields, result=result, sections=sections_of(result, request, services,
                                                                     body.today or date.today()))


def _page(request: Request, fields: dict[str, str], error: str | None = None, status_code: int = 200,
          result: ExtractOut | None = None, sections: list[Section] | None = None) -> HTMLResponse:
    return render(request, "analyse.html", {
        "fields": fields,
        "error": error,
        "result": result,
        "sections": sections or [],
        "not_a_call": translate(request, non_call_kind(result)) if result and not result.is_funding_call else None,
        "max_chars": MAX_EXTRACT_CHARS,
    }, status_code=status_code)


def sections_of(result: ExtractOut, request: Request, services: Services, day: date) -> list[Section]:
    """The extraction as the page's sections, every label and value in the request's language."""
    lang = language(request)

    def _(message: str, **values: str) -> str:
        return translate(request, message, **values)

    def row(label: str, found: list[Found], missing: str = NOT_FOUND) -> Row:
        return Row(_(label), found, _(missing))

    call = result.extracted
    kind = Found(_(N_("Bando di finanziamento"))) if call.is_funding_call else Found(
        _(N_("Non è un bando di finanziamento")), quote(call.non_call_evidence), _(non_call_kind(result)))
    status = Found(_(labels.STATUSES[call.status]), None, _(N_("al giorno %(day)s"), day=format_date(day, lang)),
                   f"badge status-{call.status}")
    opening = [Found(format_opening(call.opening.value, lang), quote(call.opening.evidence))] if call.opening else []
    deadline = [Found(format_deadline(call.deadline.value, lang), quote(call.deadline.evidence))] if call.deadline \
        else []
    if call.rolling:
        deadline.append(Found(_(N_("a sportello, fino a esaurimento delle risorse")), quote(call.rolling_evidence)))
    missions = views.missions_of({"missions": [m.model_dump() for m in result.missions]}, services.taxonomy, lang,
                                 tuple(services.taxonomy.frameworks))
    return [
        Section("summary", _(N_("Il bando in breve")), [
            row(N_("Tipo di atto"), [kind]),
            row(N_("Lingua"), [Found(_(LANGUAGE_NAMES.get(result.language, result.language)))]
                if result.language else [], N_("Lingua non riconosciuta")),
            row(N_("Stato"), [status]),
            row(N_("Ente"), [Found(call.issuer, quote(call.issuer_evidence))] if call.issuer else []),
            row(N_("Programmi e fondi"), [Found(p.code, quote(p.evidence)) for p in call.programmes]),
            row(N_("Codici CUP e CIG"), [Found(c.value, quote(c.evidence), "CUP") for c in call.cup_codes]
                + [Found(c.value, quote(c.evidence), "CIG") for c in call.cig_codes]),
        ]),
        Section("dates", _(N_("Date")), [
            row(N_("Apertura"), opening),
            row(N_("Scadenza"), deadline),
            row(N_("Altre date"), _other_dates(call, lang), N_("Nessun'altra data")),
        ]),
        Section("money", _(N_("Risorse")), [
            row(N_("Dotazione complessiva"), _amount(call.total_budget, lang)),
            row(N_("Minimo per progetto"), _amount(call.min_per_project, lang)),
            row(N_("Massimo per progetto"), _amount(call.max_per_project, lang)),
            row(N_("Cofinanziamento"), [] if call.cofinancing_rate is None else [
                Found(f"{round(call.cofinancing_rate * 100)} %", quote(call.cofinancing_evidence))]),
            row(N_("Forme di sostegno"), [Found(_(labels.SUPPORT_FORMS[s.form]), quote(s.evidence))
                                          for s in call.support_forms]),
        ]),
        Section("who", _(N_("Chi può partecipare")), [
            row(N_("Beneficiari"), [Found(b.wording, quote(b.evidence), _(labels.ACTOR_TYPES[b.actor_type]))
                                    for b in call.beneficiaries]),
            row(N_("Dimensioni d'impresa"), [Found(_(labels.FIRM_SIZES[s.size]), quote(s.evidence))
                                             for s in call.firm_sizes]),
            row(N_("Territorio"), [Found(p.name, quote(p.evidence), _(labels.PLACE_LEVELS[p.level]))
                                   for p in call.territory]),
        ]),
        Section("missions", _(N_("Missioni")), [
            row(label, [Found(m.label if m.framework == "convergenze" else f"{m.code} · {m.label}",
                              m.evidence[0] if m.evidence else None, css=f"chip mission-{m.framework}")
                        for m in missions if m.framework == framework], N_("Nessuna missione riconosciuta"))
            for framework, label in labels.FRAMEWORKS.items()
        ]),
        Section("objectives", _(N_("Obiettivi")), [
            row(N_("Obiettivi dichiarati"), [Found(o.text) for o in result.objectives],
                N_("Nessun obiettivo dichiarato riconosciuto nel testo.")),
        ]),
    ]


def non_call_kind(result: ExtractOut) -> str:
    """What the text is instead of a funding call (a msgid)."""
    return labels.NON_CALL_KINDS.get(result.extracted.non_call_kind or "", labels.NON_CALL_KINDS["other"])


def quote(evidence: Evidence | None) -> str | None:
    return " ".join(evidence.text.split()) if evidence and evidence.text.strip() else None


def _other_dates(call: CallMetadata, lang: str) -> list[Found]:
    """The text's dates besides its opening and deadline, latest first, each once."""
    named = {d.value for d in (call.opening, call.deadline) if d}
    others = {d.value: d for d in call.dates if d.value not in named}
    return [Found(format_date(value, lang), quote(d.evidence))
            for value, d in sorted(others.items(), reverse=True)[:OTHER_DATES]]


def _amount(amount: Amount | None, lang: str) -> list[Found]:
    return [Found(format_amount(amount.value, lang), quote(amount.evidence))] if amount else []
