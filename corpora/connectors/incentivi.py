"""The national catalogue of incentives (incentivi.gov.it, MIMIT): its open-data export and its public Solr index,
read as one source.

Both number an incentive by the portal's node id (the export's ``ID_Incentivo`` is the Solr index's ``zs_nid``), so
they name the same incentive ``incentivi:<id>`` and are merged here, the record updated last winning (the export
on a tie: it has more fields). One source, so the change detector's state and its "withdrawn" verdicts, and the
catalog's near-duplicate linker (which never links two documents of one source), see each incentive once.

The official fields are facts: kept under the metadata keys filters, eligibility and the web pages read, in the
portal's own wording beside their mapping onto the project's vocabularies, and named in ``official_fields`` so
that what the source said can be quoted as such. Multi-valued fields come as JSON lists inside strings: a
malformed one is skipped with its reason, the rest of the record is kept. Known errors of the published data
(placeholder amounts, the "all six forms" placeholder, INAIL ISI grants filed as venture capital) are kept out
of the facts and explained in ``data_notes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from convergenze.core.formatting import euro
from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import ActorType, DocType, FirmSize, SupportForm
from convergenze.extractors.call_support import forms_named
from convergenze.extractors.gazetteer import Gazetteer, default_gazetteer

from .base import Connector, ConnectorResult
from .fields import clean_cell, fix_text, html_to_text, status_from_dates

ROME = ZoneInfo("Europe/Rome")
PORTAL = "https://www.incentivi.gov.it"
VOCABULARY = "incentivi"  # the taxonomy's name for the portal's objectives (corpora/taxonomy/missions.yaml)

# Tipologia_Soggetto -> actor types; the portal's wording is kept in ``recipients``.
SUBJECT_TYPES: dict[str, tuple[ActorType, ...]] = {
    "Impresa": (ActorType.COMPANY,),
    "Impresa - SU/PMI innovativa": (ActorType.COMPANY,),
    "Impresa - prevalenza femminile": (ActorType.COMPANY,),
    "Impresa - prevalenza giovanile": (ActorType.COMPANY,),
    "Impresa da costituire - Altro": (ActorType.COMPANY,),
    "Impresa da costituire - Femminile": (ActorType.COMPANY,),
    "Impresa da costituire - Giovanile": (ActorType.COMPANY,),
    "Professionista": (ActorType.COMPANY,),
    "Rete d'impresa": (ActorType.COMPANY,),
    "Consorzio": (ActorType.COMPANY,),
    # One value of the portal for two types of the project.
    "Cooperative/Associazioni Non Profit": (ActorType.COOPERATIVE, ActorType.THIRD_SECTOR),
    # The portal does not tell administrations (Comuni, Regioni) from other public bodies (schools, ASL).
    "Ente Pubblico": (ActorType.PUBLIC_ADMINISTRATION, ActorType.PUBLIC_BODY),
    "Università/Ente di Ricerca": (ActorType.UNIVERSITY_RESEARCH,),
    "Cittadino": (ActorType.CITIZEN,),
    "Istituto finanziario": (ActorType.FINANCIAL_INSTITUTION,),
}
FIRM_SIZES: dict[str, FirmSize | None] = {
    "Microimpresa": FirmSize.MICRO,
    "Piccola Impresa": FirmSize.SMALL,
    "Media Impresa": FirmSize.MEDIUM,
    "Grande Impresa": FirmSize.LARGE,
    "Non classificabile/classificato": None,  # no size applies (public bodies, persons) or none was coded
}
SUPPORT_FORMS: dict[str, SupportForm] = {
    "Contributo/Fondo perduto": SupportForm.GRANT,
    "Prestito/Anticipo rimborsabile": SupportForm.LOAN,
    "Interventi a garanzia": SupportForm.GUARANTEE,
    "Capitale di rischio": SupportForm.EQUITY,
    "Agevolazione fiscale": SupportForm.TAX_RELIEF,
    "Riduzione dei contributi di previdenza sociale": SupportForm.SOCIAL_SECURITY_RELIEF,
}
ABROAD = "Estero"
NO_AREA = "Non applicabile"
ALL_MUNICIPALITIES = ("tutti", "tutti i comuni")
# The portal's labels of the facts quoted by eligibility and the pages ("Agevolazione concedibile max: € 200.000,00").
LABELS = {
    "opening": "Data apertura",
    "deadline": "Data chiusura",
    "budget_total": "Stanziamento",
    "cost_min": "Spesa ammessa min",
    "cost_max": "Spesa ammessa max",
    "grant_min": "Agevolazione concedibile min",
    "grant_max": "Agevolazione concedibile max",
    "region": "Regioni",
    "municipalities": "Comuni",
    "recipients": "Tipologia soggetto",
    "company_sizes": "Dimensioni",
    "instrument": "Forma agevolazione",
    "topics": "Obiettivo/Finalità",
    "issuer": "Soggetto concedente",
}
# Amounts published as stand-ins for "unknown" (11 digits of 9, one cent).
_PLACEHOLDER_AMOUNTS = (99_999_999_999.0, 0.01)
_HEADINGS = ("Cos'è", "A chi si rivolge", "Cosa prevede")
_HEADING_RX = re.compile(r"(Cos['’]è|A chi si rivolge|Cosa prevede)\s*")
_LIST_GLUE = re.compile(r"(?<=;)(?=[^\s\d])|(?<=:)(?=-)")  # "concorsuali;non rientrano", "pari al:- 2,75%"

# The Solr index's fields under the export's names: one record shape, one document builder.
SOLR_FIELDS = {
    "ID_Incentivo": "zs_nid",
    "Titolo": "zs_title",
    "Descrizione": "zs_body",
    "Obiettivo_Finalita": "zm_field_scopes_value",
    "Data_apertura": "zs_field_open_date",
    "Data_chiusura": "zs_field_close_date",
    "Dimensioni": "zm_field_dimensions_value",
    "Tipologia_Soggetto": "zm_field_subject_type_value",
    "Forma_agevolazione": "zm_field_support_form_value",
    "Costi_Ammessi": "zm_field_granted_costs_value",
    "Spesa_Ammessa_min": "zs_field_cost_min",
    "Spesa_Ammessa_max": "zs_field_cost_max",
    "Agevolazione_Concedibile_min": "zs_field_support_grant_type_min",
    "Agevolazione_Concedibile_max": "zs_field_support_grant_type_max",
    "Settore_Attivita": "zm_field_activity_sector_value",
    "Codici_ATECO": "zs_field_ateco",
    "Regioni": "zm_field_regions_value",
    "Soggetto_Concedente": "zs_field_subject_grant",
    "Base_normativa_primaria": "zs_field_primary_ruleset",
    "Provvedimento_attuativo": "zs_field_implementation_ruleset",
    "Stanziamento_incentivo": "zs_field_budget_allocation",
    "Link_istituzionale": "zs_field_link",
    "Data_ultimo_aggiornamento": "ds_last_update",
}


class FieldError(ValueError):
    """A field whose value cannot be read; the record is kept without it."""


def rome_day(value: Any) -> str | None:
    """The calendar day in Rome of a published timestamp. The export writes UTC without saying so
    ("2022-09-07T22:00:00" is 8 September in Rome); a bare date is taken as it is."""
    text = clean_cell(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise FieldError(f"not a date ({text!r})") from error
    if len(text) <= 10:
        return moment.date().isoformat()
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(ROME).date().isoformat()


def amount(value: Any) -> float | None:
    """Euro from the export's plain digits ("4000000", "14270351.57"); "0" and "" mean not set."""
    text = clean_cell(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError as error:
        raise FieldError(f"not an amount ({text!r})") from error
    return number if number > 0 else None


def values(value: Any) -> list[str]:
    """A multi-valued field (a JSON list inside a string, or a list as the Solr index has it), de-duplicated in
    order: the portal repeats values ("Trentino-Alto Adige/Südtirol" once per autonomous province)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise FieldError(f"not a JSON list ({error.msg} at {error.pos})") from error
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise FieldError(f"not a list of values ({str(value)[:60]!r})")
    cleaned = (clean_cell(v) for v in value)
    return list(dict.fromkeys(v for v in cleaned if v))


def solr_record(doc: dict[str, Any]) -> dict[str, Any]:
    """A Solr ``select`` doc in the export's shape; the portal page (``zs_url``) is kept beside it."""
    record = {name: doc.get(key) for name, key in SOLR_FIELDS.items()}
    path = clean_cell(doc.get("zs_url"))
    record["_page"] = f"{PORTAL}{path}" if path else None
    record["_provenance"] = "solr"
    return record


def _text(value: Any) -> str:
    raw = clean_cell(value) or ""
    return _LIST_GLUE.sub(" ", html_to_text(raw)) if raw else ""


def sections_of(title: str, description: str, notes: str) -> list[Section]:
    """The portal's inline headings ("Cos'è ... A chi si rivolge ... Cosa prevede ...") as sections, then the
    opening and closing notes; the title heads the first section."""
    parts: list[tuple[str | None, str]] = []
    cursor, heading = 0, None
    expected = list(_HEADINGS)
    for match in _HEADING_RX.finditer(description):
        name = match.group(1).replace("’", "'")
        if name not in expected:  # a heading's words inside the text, or a heading seen already
            continue
        expected = expected[expected.index(name) + 1 :]
        parts.append((heading, description[cursor : match.start()].strip()))
        cursor, heading = match.end(), name
    parts.append((heading, description[cursor:].strip()))
    # The heading stays the section's first line too: "A chi si rivolge" is what tells the extractor who applies.
    sections = [Section(text=f"{heading}\n{text}" if heading else text, heading=heading) for heading, text in parts
                if text]
    sections = [Section(text=f"{title}\n{sections[0].text}", heading=sections[0].heading), *sections[1:]] if sections \
        else [Section(text=title)]
    if notes:
        sections.append(Section(text=notes, heading="Note di apertura e chiusura"))
    return sections


class IncentiviConnector(Connector):
    """``export``: the open-data export (a JSON list of incentives); ``select``: a Solr ``select`` capture.
    Either file may be absent from the spec; both are merged per incentive when present."""

    def __init__(self, *args: Any, gazetteer: Gazetteer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gazetteer = gazetteer

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gazetteer is None:
            self._gazetteer = default_gazetteer()
        return self._gazetteer

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        latest: dict[str, dict[str, Any]] = {}
        for record in self._records(result):
            key = str(record["ID_Incentivo"]).strip()
            current = latest.get(key)
            if current is None or _updated(record) > _updated(current):
                latest[key] = record
        for record in latest.values():
            result.documents.append(self._document(record, result))
        return result

    def _records(self, result: ConnectorResult) -> Iterator[dict[str, Any]]:
        if "export" in self.files:
            yield from self._valid(_load(self.files["export"], None, result), "record", "export", result)
        if "select" in self.files:
            docs = _load(self.files["select"], "docs", result)
            records = (solr_record(d) if isinstance(d, dict) else d for d in docs)
            yield from self._valid(records, "doc", "solr", result)

    @staticmethod
    def _valid(records: Any, what: str, provenance: str, result: ConnectorResult) -> Iterator[dict[str, Any]]:
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                result.skip(f"{what} {index}", "malformed record: not an object")
                continue
            number = str(record.get("ID_Incentivo") or "").strip()
            if not number.isdigit() or not clean_cell(record.get("Titolo")):
                result.skip(f"{what} {index}", "malformed record: no ID_Incentivo or no Titolo")
                continue
            record.setdefault("_provenance", provenance)
            yield record

    def _document(self, record: dict[str, Any], result: ConnectorResult) -> Document:
        document_id = f"incentivi:{str(record['ID_Incentivo']).strip()}"
        notes: list[str] = []

        def field(name: str, read: Any) -> Any:
            try:
                return read(record.get(name))
            except FieldError as error:
                reason = f"malformed field {name}: {error}; the incentive is kept without it"
                result.skip(f"{document_id} {name}", reason)
                notes.append(reason)
                return [] if read is values else None

        title = _text(record["Titolo"]).replace("\n", " ")
        description, remarks = _text(record.get("Descrizione")), _text(record.get("Note_di_apertura_chiusura"))
        opening, deadline = field("Data_apertura", rome_day), field("Data_chiusura", rome_day)
        meta: dict[str, Any] = {
            "issuer": fix_text(clean_cell(record.get("Soggetto_Concedente")) or "") or None,
            "opening": opening,
            "deadline": deadline,
            "status": status_from_dates(opening, deadline, self.today),
            "notes": remarks or None,
            "updated": clean_cell(record.get("Data_ultimo_aggiornamento")),
            "provenance": record.get("_provenance"),
            "external_link": clean_cell(record.get("Link_istituzionale")),
            "topics": field("Obiettivo_Finalita", values),
            "topics_vocabulary": VOCABULARY,
            "eligible_costs": field("Costi_Ammessi", values),
            "sectors": field("Settore_Attivita", values),
            "legal_basis": list(dict.fromkeys(
                fix_text(text) for text in (clean_cell(record.get(k)) for k in (
                    "Base_normativa_primaria", "Base_normativa_secondaria", "Provvedimento_attuativo")) if text
            )),
            "gazette": clean_cell(record.get("Gazzetta_ufficiale")),
        }
        meta.update(self._amounts(field, notes))
        meta.update(self._territory(field("Regioni", values), clean_cell(record.get("Comuni")),
                                    field("Ambito_territoriale", values), notes))
        meta.update(self._parties(field("Tipologia_Soggetto", values), field("Dimensioni", values)))
        meta.update(self._forms(field("Forma_agevolazione", values), f"{title}\n{description}", notes))
        meta.update(_ateco(clean_cell(record.get("Codici_ATECO"))))
        meta["official_fields"] = {k: label for k, label in LABELS.items() if meta.get(k) not in (None, [], "")}
        if notes:
            meta["data_notes"] = notes
        return Document(
            id=document_id,
            source=self.name,
            type=DocType.CALL,
            title=title,
            sections=sections_of(title, description, remarks),
            url=record.get("_page") or meta["external_link"],
            language="it",
            metadata=meta,
        )

    @staticmethod
    def _amounts(field: Any, notes: list[str]) -> dict[str, Any]:
        out = {}
        for key, name in (("budget_total", "Stanziamento_incentivo"), ("cost_min", "Spesa_Ammessa_min"),
                          ("cost_max", "Spesa_Ammessa_max"), ("grant_min", "Agevolazione_Concedibile_min"),
                          ("grant_max", "Agevolazione_Concedibile_max")):
            value = field(name, amount)
            if value in _PLACEHOLDER_AMOUNTS:
                notes.append(f"{name} is {euro(value)}, a placeholder for an unknown amount: left out")
                value = None
            out[key] = value
        return out

    def _territory(self, regions: list[str], towns: str | None, areas: list[str], notes: list[str]) -> dict[str, Any]:
        names = []
        for name in regions:
            entry = self.gazetteer.lookup(name, "region")
            if entry is not None and entry.name not in names:
                names.append(entry.name)
            elif entry is None and name != ABROAD:
                notes.append(f"Regioni names {name!r}, not an Italian region: left out")
        everywhere = len(names) == len(self.gazetteer.entries("region"))
        municipalities: list[str] = []
        unknown: list[str] = []
        if towns and towns.lower().rstrip(".; ") not in ALL_MUNICIPALITIES:
            for name in filter(None, re.split(r"\s*;\s*|\s*,\s+", towns)):
                entry = self.gazetteer.lookup(name, "municipality")
                (municipalities if entry else unknown).append(entry.name if entry else name)
        if unknown:
            # Merged or renamed municipalities ("Abetone", "Alice Superiore") are no longer in ISTAT's list.
            notes.append(f"Comuni names {len(unknown)} places not in ISTAT's current list of municipalities "
                         f"(merged or renamed), e.g. {', '.join(unknown[:3])}: left out")
        return {
            "region": names,
            "national": everywhere,
            "abroad": ABROAD in regions,
            "municipalities": list(dict.fromkeys(municipalities)),
            "area_types": [a for a in areas if a != NO_AREA],
        }

    @staticmethod
    def _parties(subjects: list[str], sizes: list[str]) -> dict[str, Any]:
        types = {t for s in subjects for t in SUBJECT_TYPES.get(s, ())}
        found = {FIRM_SIZES[s] for s in sizes if FIRM_SIZES.get(s)}
        return {
            "recipients": subjects,
            "beneficiary_types": sorted(types),
            "company_sizes": sizes,
            "firm_sizes": [s.value for s in FirmSize if s in found],
        }

    @staticmethod
    def _forms(official: list[str], text: str, notes: list[str]) -> dict[str, Any]:
        forms: list[SupportForm] = [SUPPORT_FORMS[f] for f in official if f in SUPPORT_FORMS]
        if len(forms) == len(SupportForm):
            notes.append("Forma_agevolazione lists all six forms, a placeholder: no support form is taken from it")
            forms = []
        named = forms_named(text)
        if SupportForm.EQUITY in forms and SupportForm.EQUITY not in named and SupportForm.GRANT in named:
            # INAIL's ISI calls are filed as venture capital while their text grants "a fondo perduto".
            notes.append("Forma_agevolazione says 'Capitale di rischio' but the text describes a grant and no "
                         "equity: taken as a grant")
            forms = [*(f for f in forms if f is not SupportForm.EQUITY), SupportForm.GRANT]
        return {"instrument": official, "support_forms": [f.value for f in SupportForm if f in forms]}


def _updated(record: dict[str, Any]) -> tuple[str, bool]:
    """When a record was last changed (ISO UTC strings compare as time), the export first on a tie."""
    stamp = str(record.get("Data_ultimo_aggiornamento") or "").replace("Z", "")
    return stamp, record.get("_provenance") == "export"


def _ateco(value: str | None) -> dict[str, Any]:
    """"01.00; 01.10;" -> the codes; "Tutti i settori economici ammissibili..." -> every sector."""
    if value is None:
        return {}
    codes = re.findall(r"\b\d{2}(?:\.\d{1,2}){0,2}\b", value)
    return {"ateco": codes} if codes else {"ateco_all": True}


def _load(path: Path, key: str | None, result: ConnectorResult) -> list[Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        result.skip(path.name, f"malformed file: not valid JSON ({error})")
        return []
    items = payload.get(key) if key and isinstance(payload, dict) else payload
    if not isinstance(items, list):
        result.skip(path.name, f"malformed file: no list of incentives{f' under {key!r}' if key else ''}")
        return []
    return items
