"""PDF text for indexing, read with pdfplumber: reading order, no running headers, tables kept as rows.

One ``Section`` per page (heading ``"page N"``): a page is what a reader can check a passage against, and
heading detection guesses wrong on decrees whose "Art. N" lines look like any other line. ``PdfText.text`` is
the sections joined by blank lines, as ``Document.text`` joins them. pdfminer parses pages in pure Python
(a few pages a second); ``pdf_to_text_pypdfium2`` is the fast, layout-blind baseline of the benchmark.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Container
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
from pdfminer.cmapdb import CMap, IdentityCMap, IdentityCMapByte
from pdfminer.pdfdocument import PDFEncryptionError
from pdfminer.pdffont import PDFCIDFont, PDFFont
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdftypes import PDFStream, resolve1
from pdfminer.psexceptions import PSException
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from convergenze.core.records import Section

log = logging.getLogger(__name__)
Word = dict[str, Any]  # a pdfplumber word: text, x0, x1, top, bottom

_CID = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for a glyph whose font has no Unicode mapping
_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
# Word's Symbol/Wingdings bullets and arrows sit in the private use area; zero-width characters go.
_TRANSLATE = str.maketrans(_LIGATURES) | str.maketrans(
    "\u2010\u2011\uf0b7\uf0a7\uf0a8\uf06c\uf076\uf0d8\uf0fc\uf0e0\uf0e8\uf0de",
    "--••••••✓→→⇒",
    "\u200b\u200c\u200d\ufeff",
)
_PAGE_NUMBER = re.compile(r"^(?:pag(?:ina|\.)?|page)?\s*[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:di|of|/)\s*\d{1,4})?$", re.I)
_BULLET = re.compile(r"^[•▪◦●■□✓→⇒*]")
_ENUMERATION = re.compile(r"^(?:[-–—]\s|\(?[a-z]\)\s|\(?[ivx]{1,4}\)\s|\d{1,2}[.)]\s)")
_TOC_ENTRY = re.compile(r"(?:\.{4,}|…{2,}) ?\d+$")  # dot leaders and a page number
_HYPHEN_END = re.compile(r"[^\W\d_]-$")
_WORD = re.compile(r"[^\W\d_]+")
_CIDRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\d+)")
_FILE_LIKE = re.compile(r"\.(pdf|docx?|odt|rtf)\b|^microsoft\b|^untitled|^senza titolo|_", re.I)


class PdfExtractionError(ValueError):
    """A file that cannot be read as text; the message says why in plain words."""

    def __init__(self, reason: str, path: Path | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


@dataclass(frozen=True, slots=True)
class PdfText:
    pages: int  # pages read (at most ``max_pages``)
    text: str
    sections: list[Section]
    title: str | None


@dataclass(slots=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0
    first_word_width: float = 0.0
    table: bool = False
    flow: int = 0  # lines of one column run share a flow; a new flow always starts a new paragraph


@dataclass(slots=True)
class _Page:
    number: int
    width: float
    height: float
    words: list[Word]
    tables: list[_Line]
    unmapped: int = 0  # glyphs left out because their font has no Unicode mapping
    lines: list[_Line] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfTextExtractor:
    """Haystack-style component: configured once (the fields below), then ``run(path)`` per file."""

    max_pages: int | None = None
    max_bytes: int = 100 * 2**20
    x_tolerance: float = 3.0  # points between the letters of one word (pdfplumber's default)
    y_tolerance: float = 3.0
    margin_band: float = 0.2  # share of the page height searched for headers, footers and page numbers
    running_min_share: float = 0.4  # share of the pages a line must repeat on to count as a header
    min_gutter: float = 12.0  # points of blank space between two columns
    tables: bool = True

    def __post_init__(self) -> None:
        if (self.max_pages is not None and self.max_pages < 1) or self.max_bytes < 1:
            raise ValueError(f"max_pages and max_bytes must be positive: {self.max_pages}, {self.max_bytes}")
        if not 0 < self.margin_band < 0.5 or not 0 < self.running_min_share <= 1:
            raise ValueError("margin_band must be in (0, 0.5) and running_min_share in (0, 1]")

    def run(self, path: Path) -> PdfText:
        path = Path(path)
        _check_file(path, self.max_bytes)
        try:
            with pdfplumber.open(path) as pdf:
                pdf.rsrcmgr = _ResourceManager()
                pages = [self._read_page(page) for page in pdf.pages[: self.max_pages]]
                raw_title = pdf.metadata.get("Title")
        except (PdfminerException, MalformedPDFException, PSException) as exc:
            raise _classify(exc, path) from exc
        if unmapped := sum(1 for p in pages if p.unmapped):
            log.warning("%s: glyphs with no Unicode map left out on %d of %d pages", path.name, unmapped, len(pages))
        needed = max(2, math.ceil(self.running_min_share * len(pages)))  # pages a header must be on
        _drop_margin_numbers(pages, self.margin_band, needed)
        for page in pages:
            page.lines = _reading_order(_group_rows(page.words), page.tables, page.width, self.min_gutter)
        _drop_running_lines(pages, self.margin_band, needed)
        # Words the document itself writes whole tell a split word from a compound at a line-end hyphen.
        vocabulary = {w for page in pages for line in page.lines for w in _WORD.findall(line.text.casefold())}
        sections = [
            Section(text=text, heading=f"page {page.number}")
            for page in pages
            if (text := "\n\n".join(_paragraphs(page.lines, vocabulary)))
        ]
        if not sections:
            raise PdfExtractionError("no extractable text (scanned image?)", path)
        text = "\n\n".join(s.text for s in sections)
        return PdfText(pages=len(pages), text=text, sections=sections, title=_title(raw_title, pages, text))

    def _read_page(self, page: Page) -> _Page:
        tables = _tables(page, self.x_tolerance) if self.tables else []
        boxes = [(t.x0, t.top, t.x1, t.bottom) for t in tables]
        unmapped = sum(1 for c in page.chars if _CID.fullmatch(c["text"]))

        def keep(obj: dict[str, Any]) -> bool:
            if obj.get("object_type") != "char":
                return True
            # Rotated text is a margin stamp (protocol number, signature), not body text.
            upright = bool(obj.get("upright", True))
            return upright and not _CID.fullmatch(obj["text"]) and not _inside(obj, boxes)

        words = page.filter(keep).extract_words(x_tolerance=self.x_tolerance, y_tolerance=self.y_tolerance)
        result = _Page(page.page_number, float(page.width), float(page.height), words, tables, unmapped)
        page.close()  # frees the parsed layout: long calls would otherwise keep every page in memory
        return result


class _ResourceManager(PDFResourceManager):
    """Reads the one-byte identity CMaps that PDFTron embeds as a Type0 font's /Encoding stream.

    pdfminer knows CMaps only by their predefined names, so such a font decodes to nothing and whole
    paragraphs vanish (pdfminer.six#1072). Only identity maps are read: for them pdfminer's use of ToUnicode
    on CIDs is right, since CIDs equal the codes.
    """

    def get_font(self, objid: object, spec: Any) -> PDFFont:
        font = super().get_font(objid, spec)
        if isinstance(font, PDFCIDFont) and type(font.cmap) is CMap and not font.cmap.code2cid:
            encoding = resolve1(spec.get("Encoding"))
            if isinstance(encoding, PDFStream):
                font.cmap = _identity_cmap(encoding.get_data()) or font.cmap
        return font


def _identity_cmap(data: bytes) -> IdentityCMap | None:
    ranges = _CIDRANGE.findall(data)
    widths = {len(code) // 2 for lo, hi, _ in ranges for code in (lo, hi)}
    if not ranges or len(widths) != 1 or any(int(lo, 16) != int(cid) for lo, _, cid in ranges):
        return None
    return {1: IdentityCMapByte, 2: IdentityCMap}.get(widths.pop(), lambda: None)()


def _check_file(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise PdfExtractionError(f"cannot read file: {exc.strerror or exc}", path) from exc
    if size == 0:
        raise PdfExtractionError("empty file", path)
    if size > max_bytes:
        raise PdfExtractionError(f"file too large ({size} bytes, limit {max_bytes})", path)
    if b"%PDF-" not in head:  # readers accept the header anywhere in the first 1024 bytes
        raise PdfExtractionError(f"not a PDF (starts with {head[:16]!r})", path)


def _classify(exc: Exception, path: Path) -> PdfExtractionError:
    # pdfplumber wraps pdfminer's error as the first argument of its own exception.
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
    if isinstance(cause, PDFEncryptionError):
        return PdfExtractionError("encrypted PDF (it needs a password)", path)
    return PdfExtractionError(f"truncated or corrupt PDF: {str(cause) or type(cause).__name__}", path)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", _CID.sub("", text).translate(_TRANSLATE))
    text = re.sub(r"[\ue000-\uf8ff]+", "•", text)  # other symbol-font glyphs: bullets in practice
    text = re.sub(r"\s+", " ", text).strip()  # \s covers no-break and thin spaces too
    text = re.sub(r" ([.,;:])(?= |$)", r"\1", text)  # a full stop in another font is a word of its own
    return re.sub("\u00ad(?!$)", "", text)  # a soft hyphen matters only at a line end


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _in_band(top: float, bottom: float, height: float, band: float) -> bool:
    return bottom <= band * height or top >= (1 - band) * height


def _tables(page: Page, x_tolerance: float) -> list[_Line]:
    found = []
    for table in page.find_tables():
        rows = []
        for row in table.extract(x_tolerance=x_tolerance):
            cells = [_join_lines([_clean(part) for part in cell.split("\n")]) for cell in row if cell]
            if any(cells):
                rows.append(" | ".join(filter(None, cells)))
        # A ruled box around one paragraph is not a table: its text stays in the flow.
        if len(rows) >= 2 and any(" | " in row for row in rows):
            x0, top, x1, bottom = map(float, table.bbox)
            found.append(_Line("\n".join(rows), x0, x1, top, bottom, table=True))
    return found


def _group_rows(words: list[Word]) -> list[list[Word]]:
    rows: list[list[Word]] = []
    top = bottom = 0.0
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        overlap = min(bottom, word["bottom"]) - max(top, word["top"])
        if rows and overlap >= 0.5 * (word["bottom"] - word["top"]):
            rows[-1].append(word)
            top, bottom = min(top, word["top"]), max(bottom, word["bottom"])
        else:
            rows.append([word])
            top, bottom = word["top"], word["bottom"]
    return [sorted(row, key=lambda w: w["x0"]) for row in rows]


def _line(words: list[Word]) -> _Line | None:
    if not (text := _clean(" ".join(w["text"] for w in words))):
        return None
    x0, x1 = min(w["x0"] for w in words), max(w["x1"] for w in words)
    top, bottom = min(w["top"] for w in words), max(w["bottom"] for w in words)
    size = statistics.median(w["bottom"] - w["top"] for w in words)  # a glyph box is as tall as the font size
    return _Line(text, x0, x1, top, bottom, size, first_word_width=words[0]["x1"] - words[0]["x0"])


def _find_gutter(rows: list[list[Word]], width: float, min_gutter: float) -> float | None:
    """The x of a blank vertical band that splits the page into two columns of running text, if any."""
    if len(rows) < 6:
        return None
    cover = Counter(x for row in rows for x in {x for w in row for x in range(int(w["x0"]), int(w["x1"]) + 1)})
    tolerated = len(rows) // 10  # a full-width title may cross the gutter
    best, start = (0, 0), None
    for x in range(int(0.2 * width), int(0.8 * width) + 1):
        start = (x if start is None else start) if cover[x] <= tolerated else None
        best = max(best, (x - start + 1, start)) if start is not None else best
    if best[0] < min_gutter:
        return None
    gutter = best[1] + best[0] / 2
    for keep in (lambda w: w["x1"] < gutter, lambda w: w["x0"] > gutter):
        parts = [part for row in rows if (part := [w for w in row if keep(w)])]
        xs = [x for part in parts for w in part for x in (w["x0"], w["x1"])]
        # Label columns ("VISTO", "CONSIDERATO") and number columns are not running text.
        if len(parts) < 3 or sum(map(len, parts)) < 2 * len(parts) or max(xs) - min(xs) < 0.2 * width:
            return None
    return gutter


def _halves(row: list[Word], gutter: float | None) -> list[list[Word]]:
    if gutter is None:
        return [row]
    halves = [[w for w in row if w["x1"] < gutter], [w for w in row if w["x0"] > gutter]]
    return [row] if sum(map(len, halves)) < len(row) else halves  # a row across the gutter stays whole


def _reading_order(rows: list[list[Word]], tables: list[_Line], width: float, min_gutter: float) -> list[_Line]:
    """Lines top to bottom; on two-column stretches the left column first, then the right one."""
    gutter = _find_gutter(rows, width, min_gutter)
    heights = [max(w["bottom"] for w in row) - min(w["top"] for w in row) for row in rows]
    band_gap = 1.2 * statistics.median(heights) if heights else 0.0
    items = [(t.top, t) for t in tables] + [(min(w["top"] for w in row), row) for row in rows]
    blocks: list[list[_Line]] = []  # one per flow: a table, a full-width run, or one column of a stretch
    mode, last_bottom = "", math.inf
    for top, item in sorted(items, key=lambda pair: pair[0]):
        if isinstance(item, _Line):
            blocks.append([item])
            mode = "table"
            continue
        halves = _halves(item, gutter)
        kind = "full" if len(halves) == 1 else "columns"
        if kind != mode or (kind == "columns" and top - last_bottom > band_gap):
            blocks += [[] for _ in halves]  # a blank band across the page also starts a new stretch
            mode = kind
        last_bottom = max(w["bottom"] for w in item)
        for half, block in zip(halves, blocks[-len(halves) :], strict=True):
            if half and (line := _line(half)):
                block.append(line)
    for flow, block in enumerate(b for b in blocks if b):
        for line in block:
            line.flow = flow
    return [line for block in blocks for line in block]


def _drop_margin_numbers(pages: list[_Page], band: float, needed: int) -> None:
    """Removes a lone number printed at the same spot on many pages: a page number, even beside the text."""

    def lone_number(w: Word, page: _Page) -> bool:
        if not (w["text"].isascii() and w["text"].isdigit() and len(w["text"]) <= 4):
            return False
        aside = w["x0"] > 0.85 * page.width or w["x1"] < 0.15 * page.width
        placed = aside or _in_band(w["top"], w["bottom"], page.height, band)
        return placed and not any(_near(w, other) for other in page.words if other is not w)

    spots = [
        (p.number, id(w), (round(w["x0"] / 8), round(w["top"] / 8)))
        for p in pages
        for w in p.words
        if lone_number(w, p)
    ]
    pages_at = Counter(spot for spot, _ in {(spot, number) for number, _, spot in spots})
    drop = {word for _, word, spot in spots if pages_at[spot] >= needed}
    for page in pages:
        page.words = [w for w in page.words if id(w) not in drop]


def _near(word: Word, other: Word) -> bool:
    """Same row and closer than two font sizes: "Articolo 1" is a heading, a lone "1" a page number."""
    same_row = min(word["bottom"], other["bottom"]) > max(word["top"], other["top"])
    gap = max(other["x0"] - word["x1"], word["x0"] - other["x1"])
    return same_row and gap < 2 * (word["bottom"] - word["top"])


def _drop_running_lines(pages: list[_Page], band: float, needed: int) -> None:
    """Removes headers and footers (the same line at the same height on many pages) and page numbers."""
    places: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for page in pages:
        for line in page.lines:
            if not line.table and _in_band(line.top, line.bottom, page.height, band):
                places[_running_key(line.text)].append((page.number, line.top))
    running = {}
    for key, seen in places.items():
        top = statistics.median(t for _, t in seen)
        if len({number for number, t in seen if abs(t - top) <= 3}) >= needed:
            running[key] = top
    for page in pages:
        page.lines = [line for line in page.lines if not _is_running(line, page.height, band, running)]


def _is_running(line: _Line, height: float, band: float, running: dict[str, float]) -> bool:
    if line.table or not _in_band(line.top, line.bottom, height, band):
        return False
    top = running.get(_running_key(line.text))
    return bool(_PAGE_NUMBER.match(line.text)) or (top is not None and abs(line.top - top) <= 3)


def _running_key(text: str) -> str:
    # "Pagina 3 di 12" and "Pagina 4 di 12" are one footer, and so are "2 A cura di X" and "A cura di X".
    return " ".join(re.sub(r"\d+", " ", text.casefold()).split())


def _paragraphs(lines: list[_Line], vocabulary: Container[str]) -> list[str]:
    gaps = [b.top - a.bottom for a, b in pairwise(lines) if a.flow == b.flow and b.top >= a.bottom - 1]
    base_gap = statistics.median(gaps) if gaps else 0.0
    ends: dict[int, list[float]] = defaultdict(list)
    for line in lines:
        ends[line.flow].append(line.x1)
    # The column's right edge: a high percentile, not the maximum, so one overlong URL does not move it.
    right = {flow: sorted(x1s)[int(0.9 * (len(x1s) - 1))] for flow, x1s in ends.items()}
    paragraphs: list[list[_Line]] = []
    for line in lines:
        if paragraphs and _continues(paragraphs[-1][-1], line, base_gap, right[line.flow]):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return [p[0].text if p[0].table else _join_lines([line.text for line in p], vocabulary) for p in paragraphs]


def _continues(prev: _Line, line: _Line, base_gap: float, flow_right: float) -> bool:
    if prev.table or line.table or prev.flow != line.flow or abs(prev.size - line.size) > 1.0:
        return False
    if (_HYPHEN_END.search(prev.text) or prev.text.endswith("\u00ad")) and line.text[:1].islower():
        return True
    if line.top - prev.bottom > base_gap + 0.5 * line.size or _BULLET.match(line.text):
        return False
    if _ENUMERATION.match(line.text) and prev.text[-1] in ".;:!?" or _TOC_ENTRY.search(prev.text):
        return False
    # A line that ends while the next line's first word would have fitted was ended on purpose.
    return flow_right - prev.x1 < line.first_word_width + 0.3 * line.size


def _join_lines(texts: list[str], vocabulary: Container[str] = frozenset()) -> str:
    out = ""
    for text in filter(None, texts):
        if out.endswith("\u00ad"):
            out = out[:-1] + text
        elif _HYPHEN_END.search(out):
            keep = not text[0].islower() or _keeps_hyphen(out[:-1], text, vocabulary)
            out = (out if keep else out[:-1]) + text
        else:
            out = f"{out} {text}" if out else text
    return out.replace("\u00ad", "")


def _keeps_hyphen(left: str, right: str, vocabulary: Container[str]) -> bool:
    """Whether "left-" + line break + "right" is a compound ("decreto-legge") rather than a split word."""
    head, tail = left.rsplit(" ", 1)[-1], right.split(" ", 1)[0]
    if "/" in head + tail or "@" in head + tail or "www." in head:
        return True  # URLs and paths break at their own hyphens
    joined = ((_WORD.findall(head) or [""])[-1] + (_WORD.findall(tail) or [""])[0]).casefold()
    italian = _italian_words()
    if joined in italian or joined in vocabulary:
        return False
    # Italian offices write in Word, which does not hyphenate: an unknown word is a compound ("full-time").
    # Without a dictionary there is no telling, and a split word is the typeset-text default.
    return bool(italian)


@cache
def _italian_words() -> frozenset[str]:
    """Italian word forms from spaCy's lookup tables (a project dependency); empty when not installed."""
    try:
        blob = resources.files("spacy_lookups_data").joinpath("data/it_lemma_lookup.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        log.info("spacy-lookups-data not installed: a hyphen at a line end is taken for a word split")
        return frozenset()
    table: dict[str, str] = json.loads(gzip.decompress(blob))
    return frozenset(w.casefold() for pair in table.items() for w in pair)


def _title(raw: object, pages: list[_Page], text: str) -> str | None:
    """The metadata title if the text bears it out, else the first page's largest line, else a short opening
    paragraph (or a cover table's first cell)."""
    if isinstance(raw, str) and (title := _clean(raw)) and not _FILE_LIKE.search(title):
        words = re.findall(r"[^\W\d_]{3,}", title.casefold())
        if words and sum(w in text[:5000].casefold() for w in words) >= 0.6 * len(words):
            return title
    first = next((page.lines for page in pages if page.lines), [])
    lines = [line for line in first if not line.table and re.search(r"[^\W\d_]{2}", line.text)]
    sizes = [line.size for page in pages for line in page.lines if not line.table]
    if lines and (biggest := max(lines, key=lambda line: line.size)).size >= 1.15 * statistics.median(sizes):
        return biggest.text[:200]
    opening = text.split("\n\n", 1)[0].split("\n", 1)[0].split(" | ", 1)[0]
    return opening if len(opening) <= 150 else None


def pdf_to_text_pypdfium2(path: Path | str) -> str:
    """Baseline for the benchmark: pdfium's plain text with no layout work, pages separated by form feeds."""
    try:
        document = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise PdfExtractionError(f"unreadable PDF (pdfium): {exc}", Path(path)) from exc
    try:
        # pdfium reports a hyphen it takes for hyphenation as U+FFFE and joins the two lines: the hyphen the
        # page shows is put back, the one-line fix any pypdfium2 user makes.
        texts = (document[i].get_textpage().get_text_range() for i in range(len(document)))
        return "\f".join(t.replace("\r\n", "\n").replace("\ufffe", "-").replace("\f", "\n") for t in texts)
    finally:
        document.close()
