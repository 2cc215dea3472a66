"""Italia Domani / PNRR open data: sub-measures, calls, funded projects and PNC programmes."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import pandas as pd

from convergenze.core.holdout import is_holdout
from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import CallStatus, DocType

from .base import Connector, ConnectorResult
from .fields import clean_cell, parse_amount, parse_date, status_from_dates

SOURCE_URL = "https://www.italiadomani.gov.it"
_CLOSED_STATES = ("aggiudicato", "chiuso", "gara deserta", "annullato")


def read_csv(path: Any) -> pd.DataFrame:
    # Italia Domani publishes ';'-separated UTF-8 with a BOM; everything is read as text and parsed per field.
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=True)


def _row(record: dict[Any, Any]) -> dict[str, str | None]:
    return {str(k).strip(): clean_cell(v) for k, v in record.items()}


def _pnrr_codes(row: dict[str, str | None], sub_key: str = "Codice Univoco Submisura") -> dict[str, Any]:
    return {
        "programme": ["PNRR"],
        "mission_code": row.get("Missione"),
        "mission": row.get("Descrizione Missione"),
        "component_code": row.get("Componente"),
        "component": row.get("Descrizione Componente"),
        "measure_code": row.get("Codice Univoco Misura"),
        "measure": row.get("Descrizione Misura"),
        "submeasure_code": row.get(sub_key),
        "submeasure": row.get("Descrizione Submisura") or row.get("Descrizione submisura"),
        "administration": row.get("Amministrazione Titolare"),
    }


class PnrrMeasuresConnector(Connector):
    """One document per PNRR sub-measure: its mission, component, measure, milestones, targets and calls,
    and examples of the projects it funded (the strongest evidence of what a measure pays for; projects
    that ``is_holdout`` selects are left out so that the relevance benchmark stays fair)."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        quadro = read_csv(self.files["quadro"])
        milestones = _group(read_csv(self.files["milestones"]), "Codice Univoco Submisura")
        calls = _group(read_csv(self.files["calls"]), "Codice Univoco Submisura")
        examples = self._project_examples()
        for index, record in enumerate(quadro.to_dict("records")):
            row = _row(record)
            code = row.get("Codice Univoco Submisura")
            if not code:
                result.skip(f"row {index + 2}", "malformed record: no 'Codice Univoco Submisura'")
                continue
            result.documents.append(
                self._document(code, row, milestones.get(code, []), calls.get(code, []), examples.get(code, []))
            )
        return result

    def _project_examples(self) -> dict[str, list[str]]:
        """Up to ``examples_per_measure`` distinct project descriptions per sub-measure, chosen by hash."""
        if "projects" not in self.files:
            return {}
        per_measure = int(self.spec.options.get("examples_per_measure", 40))
        columns = ["CUP", "Codice Univoco Submisura", "Titolo progetto", "Sintesi progetto"]
        frame = pd.read_parquet(self.files["projects"], columns=columns)
        candidates: dict[str, dict[str, str]] = defaultdict(dict)
        for cup, code, title, synthesis in frame.itertuples(index=False):
            cup, code = clean_cell(cup), clean_cell(code)
            if not cup or not code or is_holdout(cup):
                continue
            text = " - ".join(x for x in (clean_cell(title), clean_cell(synthesis)) if x)
            key = text.lower()
            if text and key not in candidates[code]:
                candidates[code][key] = hashlib.sha1(cup.encode()).hexdigest() + "\t" + text
        return {
            code: [v.split("\t", 1)[1] for v in sorted(texts.values())[:per_measure]]
            for code, texts in candidates.items()
        }

    def _document(
        self,
        code: str,
        row: dict[str, str | None],
        milestones: list[dict[str, str | None]],
        calls: list[dict[str, str | None]],
        examples: list[str],
    ) -> Document:
        meta = _pnrr_codes(row)
        meta.update(
            level=row.get("Tipo Livello"),
            investment_or_reform=row.get("Investimento o Riforma"),
            loan_or_grant=row.get("Prestito o Sovvenzione"),
            total_amount=parse_amount(row.get("Importo Totale")),
            cid=row.get("Codice CID"),
            mission_codes=[c for c in (row.get("Missione"), row.get("Componente")) if c],
        )
        title = f"{code} {row.get('Descrizione Submisura') or row.get('Descrizione Misura')}"
        kind = (row.get("Investimento o Riforma"), row.get("Prestito o Sovvenzione"))
        head = "\n".join(
            line
            for line in (
                f"Missione {row.get('Missione')}: {row.get('Descrizione Missione')}",
                f"Componente {row.get('Componente')}: {row.get('Descrizione Componente')}",
                f"Misura {row.get('ID Misura')}: {row.get('Descrizione Misura')}",
                f"Submisura {row.get('ID Submisura')}: {row.get('Descrizione Submisura')}",
                " - ".join(filter(None, kind)),
                f"Amministrazione titolare: {row.get('Amministrazione Titolare')}",
            )
            if line and "None" not in line
        )
        sections = [Section(text=head, heading="Misura")]
        met_lines = [
            " - ".join(
                x
                for x in (
                    m.get("Milestone-Target"),
                    m.get("Nome Milestone-Target"),
                    m.get("Descrizione specifica di ogni Milestone e Target"),
                )
                if x
            )
            for m in milestones
        ]
        if met_lines:
            sections.append(Section(text="\n".join(met_lines), heading="Milestone e target"))
        call_titles = [str(c["Titolo Bando o Avviso"]) for c in calls if c.get("Titolo Bando o Avviso")]
        if call_titles:
            sections.append(Section(text="\n".join(call_titles), heading="Bandi e avvisi"))
        if examples:
            sections.append(Section(text="\n".join(examples), heading="Progetti finanziati (esempi)"))
        return Document(
            id=f"pnrr-measure:{code}",
            source=self.name,
            type=DocType.MEASURE,
            title=title,
            sections=sections,
            url=SOURCE_URL,
            language="it",
            metadata=meta,
        )


class PnrrCallsConnector(Connector):
    """One document per PNRR call or notice (``PNRR_Bandi_e_Avvisi.csv``)."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        for index, record in enumerate(read_csv(self.files["calls"]).to_dict("records")):
            row = _row(record)
            serial, title = row.get("Numero seriale"), row.get("Titolo Bando o Avviso")
            if not serial or not title:
                result.skip(f"row {index + 2}", "malformed record: no serial number or no title")
                continue
            result.documents.append(self._document(serial, title, row))
        return result

    def _document(self, serial: str, title: str, row: dict[str, str | None]) -> Document:
        opening = parse_date(row.get("Data apertura bando"))
        deadline = parse_date(row.get("Data chiusura effettiva bando"))
        rolling = (row.get("Fino ad esaurimento risorse") or "").upper() == "SI"
        official_state = (row.get("Stato del Bando") or "").strip()
        status = status_from_dates(opening, deadline, self.today, rolling=rolling)
        if status in (CallStatus.OPEN, CallStatus.UNKNOWN) and official_state.lower().startswith(_CLOSED_STATES):
            status = CallStatus.CLOSED
        meta = _pnrr_codes(row)
        meta.update(
            mission_codes=_mission_codes(meta["submeasure_code"]),
            issuer=row.get("Soggetto emanante"),
            issuer_tax_code=row.get("Codice Fiscale"),
            cig=row.get("CIG"),
            budget_pnrr=parse_amount(row.get("Importo previsto PNRR")),
            budget_other=parse_amount(row.get("Importo previsto altri fondi")),
            budget_total=parse_amount(row.get("Importo complessivo gara")),
            opening=opening,
            deadline=deadline,
            rolling=rolling,
            official_status=official_state or None,
            status=status,
            recipients=row.get("Destinatari del Bando o dell’Avviso"),
            awarded_total=parse_amount(row.get("Importo Aggiudicato Totale")),
            observed=parse_date(row.get("Data aggiornamento-osservazione bandi")),
        )
        lines = [
            title,
            f"Misura PNRR {row.get('Codice Univoco Submisura')}: {row.get('Descrizione Submisura')}",
            f"Soggetto emanante: {row.get('Soggetto emanante')}",
            f"Destinatari: {row.get('Destinatari del Bando o dell’Avviso')}",
            f"Stato: {official_state}",
        ]
        text = "\n".join(line for line in lines if "None" not in line and not line.endswith(": "))
        return Document(
            id=f"pnrr-call:{serial}",
            source=self.name,
            type=DocType.CALL,
            title=title,
            sections=[Section(text=text)],
            url=row.get("Link al bando") or SOURCE_URL,
            language="it",
            metadata=meta,
        )


class PnrrProjectsConnector(Connector):
    """One document per funded project (CUP), with its locations and implementing body."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        places = _locations(pd.read_parquet(self.files["locations"]))
        by_cup: dict[str, list[dict[str, str | None]]] = defaultdict(list)
        for number, record in enumerate(pd.read_parquet(self.files["projects"]).to_dict("records")):
            row = _row(record)
            if not row.get("CUP"):
                result.skip(f"row {number + 1}", "malformed record: project without CUP")
            elif not row.get("Titolo progetto"):
                result.skip(str(row["CUP"]), "malformed record: project without title")
            else:
                by_cup[str(row["CUP"])].append(row)
        for cup in sorted(by_cup):
            rows = by_cup[cup]
            # A CUP listed more than once (several financing rows) is one project: amounts add up.
            amount = sum(parse_amount(r.get("Finanziamento PNRR")) or 0.0 for r in rows)
            result.documents.append(self._document(cup, rows[0], rows, amount, places.get(cup, [])))
        return result

    def _document(
        self,
        cup: str,
        row: dict[str, str | None],
        rows: list[dict[str, str | None]],
        amount: float,
        places: list[dict[str, Any]],
    ) -> Document:
        meta = _pnrr_codes(row)
        submeasures = sorted({str(r["Codice Univoco Submisura"]) for r in rows if r.get("Codice Univoco Submisura")})
        regions = sorted({p["region"] for p in places if p.get("region")})
        meta.update(
            cup=cup,
            submeasure_codes=submeasures,
            mission_codes=sorted({c for s in submeasures for c in _mission_codes(s)}),
            procedure_id=row.get("Codice identificativo Procedura di Attivazione"),
            procedure_title=row.get("Titolo procedura"),
            procedure_type=row.get("Tipologia procedura di attivazione"),
            cup_nature=row.get("CUP Descrizione Natura"),
            cup_type=row.get("CUP Descrizione Tipologia"),
            cup_sector=row.get("CUP Descrizione Settore"),
            cup_subsector=row.get("CUP Descrizione Sottosettore"),
            cup_category=row.get("CUP Descrizione Categoria"),
            implementing_body=row.get("Soggetto attuatore"),
            implementing_body_tax_code=row.get("Codice fiscale soggetto attuatore"),
            amount_pnrr=amount,
            amount_total=parse_amount(row.get("Finanziamento Totale")),
            region=regions,
            places=places,
        )
        where = "; ".join(
            ", ".join(x for x in (p.get("municipality"), p.get("province"), p.get("region")) if x) for p in places[:5]
        )
        lines = [
            row.get("Titolo progetto"),
            row.get("Sintesi progetto"),
            _labelled("Soggetto attuatore", row.get("Soggetto attuatore")),
            f"Procedura: {row.get('Titolo procedura')}" if row.get("Titolo procedura") else None,
            _labelled("Tipologia", row.get("CUP Descrizione Tipologia"), row.get("CUP Descrizione Categoria")),
            f"Misura PNRR {row.get('Codice Univoco Submisura')}: {row.get('Descrizione Submisura')}",
            f"Luogo: {where}" if where else None,
        ]
        text = "\n".join(line for line in lines if line)
        return Document(
            id=f"pnrr-project:{cup}",
            source=self.name,
            type=DocType.PROJECT,
            title=row.get("Titolo progetto") or cup,
            sections=[Section(text=text)],
            url=SOURCE_URL,
            language="it",
            metadata=meta,
        )


class PncProgrammesConnector(Connector):
    """The complementary national plan (PNC) programme descriptions."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        for index, record in enumerate(read_csv(self.files["programmes"]).to_dict("records")):
            row = _row(record)
            code, name = row.get("Codice univoco programma"), row.get("Programma")
            if not code or not name:
                result.skip(f"row {index + 2}", "malformed record: no programme code or name")
                continue
            text = "\n".join(x for x in (name, row.get("Descrizione programma")) if x)
            result.documents.append(
                Document(
                    id=f"pnc-programme:{code}",
                    source=self.name,
                    type=DocType.PROGRAMME,
                    title=name,
                    sections=[Section(text=text)],
                    url=SOURCE_URL,
                    language="it",
                    metadata={"programme": ["PNC"], "programme_code": code},
                )
            )
        return result


def _mission_codes(submeasure: str | None) -> list[str]:
    """'M1C1I1.02.00' -> ['M1', 'M1C1']: the PNRR mission and component are facts of the code."""
    if not submeasure or len(submeasure) < 4:
        return []
    return [submeasure[:2], submeasure[:4]]


def _group(frame: pd.DataFrame, key: str) -> dict[str, list[dict[str, str | None]]]:
    grouped: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for record in frame.to_dict("records"):
        row = _row(record)
        if row.get(key):
            grouped[str(row[key])].append(row)
    return grouped


def _locations(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    places: dict[str, list[dict[str, Any]]] = defaultdict(list)
    columns = [
        "CUP",
        "Descrizione Regione",
        "Descrizione Provincia",
        "Descrizione Comune",
        "COD_ISTAT_COMUNE",
    ]
    for cup, region, province, municipality, istat in frame[columns].itertuples(index=False):
        place = {
            "region": _title(region),
            "province": _title(province),
            "municipality": _title(municipality),
            "istat_code": clean_cell(istat),
        }
        if place not in places[cup]:
            places[cup].append(place)
    return places


def _labelled(label: str, *values: str | None) -> str | None:
    """``"Label: a - b"`` from the values present; None when none is (an empty field is not text to embed)."""
    present = [v for v in values if v]
    return f"{label}: {' - '.join(present)}" if present else None


def _title(value: Any) -> str | None:
    text = clean_cell(value)
    return text.title() if text else None
