"""The extractor against hand labels of the twelve real PDFs (tests/fixtures/pdf_labels.json).

One test per document and field. Known misses are marked ``xfail(strict=True)`` with the reason, so a fix
shows up as an unexpected pass and the mark has to go. PDF text comes from pdfplumber (page texts joined with
newlines) and is kept in pytest's cache between runs: extracting all twelve files takes about a minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.core.records import CallMetadata
from convergenze.extractors.call_metadata import CallMetadataExtractor
from convergenze.extractors.gazetteer import normalize

LABELS: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "pdf_labels.json").read_text(encoding="utf-8")
)["documents"]
FIELDS = (
    "is_funding_call",
    "non_call_kind",
    "deadline",
    "opening",
    "rolling",
    "total_budget",
    "issuer",
    "beneficiary_types",
    "programmes",
)
_PDFPLUMBER_LOSS = "pdfplumber recovers only fragments of this PDF's text; the value is in the lost part"
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("cciaa_avviso_contributi_terzi", "deadline"): _PDFPLUMBER_LOSS,
    ("cciaa_avviso_contributi_terzi", "opening"): _PDFPLUMBER_LOSS,
    ("cciaa_avviso_contributi_terzi", "issuer"): _PDFPLUMBER_LOSS,
    ("cciaa_avviso_contributi_terzi", "beneficiary_types"): _PDFPLUMBER_LOSS,
    ("circolare_nuova_sabatini_2025", "issuer"): "the author (an accountants' firm) signs at the end; the "
    "ministry cited in the references wins",
    ("inps_concorso_pubblico", "beneficiary_types"): "a competition names its candidates by requirements "
    "('coloro che sono in possesso dei requisiti'), not by an actor word",
    (
        "invitalia_webinar_impresa_femminile",
        "opening",
    ): "slides write 'Invio della domanda -> 7 giugno 2022', an "
    "arrow is no opening cue; the form-filling date is taken instead",
}


def _pdf_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


@pytest.fixture(scope="session")
def metadata_of(corpora_dir: Path, request: pytest.FixtureRequest) -> Callable[[str], CallMetadata]:
    extractor = CallMetadataExtractor(today=date(2026, 5, 1))
    done: dict[str, CallMetadata] = {}

    def run(name: str) -> CallMetadata:
        if name not in done:
            path = corpora_dir / "bandi-pdf" / f"{name}.pdf"
            stat = path.stat()
            key = f"convergenze/pdf-text/{name}-{stat.st_size}-{int(stat.st_mtime)}"
            cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
            text = cache.get(key, None) if cache is not None else None
            if text is None:
                text = _pdf_text(path)
                if cache is not None:
                    cache.set(key, text)
            done[name] = extractor.run(text)
        return done[name]

    return run


def _predicted(meta: CallMetadata, field: str) -> Any:
    if field in ("deadline", "opening"):
        value = getattr(meta, field)
        return value.value if value else None
    if field == "total_budget":
        return meta.total_budget.value if meta.total_budget else None
    if field == "beneficiary_types":
        return sorted({b.actor_type for b in meta.beneficiaries})
    if field == "programmes":
        return sorted({p.code for p in meta.programmes})
    return getattr(meta, field)


def _matches(field: str, predicted: Any, label: dict[str, Any]) -> bool:
    expected = label[field]
    if field == "total_budget" and predicted is not None and expected is not None:
        return abs(predicted - expected) <= 0.005 * expected
    if field == "issuer" and predicted is not None:
        accepted = [label["issuer"], *label["issuer_alternatives"]]
        return any(a is not None and normalize(a) == normalize(predicted) for a in accepted)
    if field in ("beneficiary_types", "programmes"):
        return predicted == sorted(expected)
    return bool(predicted == expected)


def _cases() -> Iterator[Any]:
    for name in sorted(LABELS):
        for field in FIELDS:
            reason = KNOWN_MISSES.get((name, field))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, field, marks=marks, id=f"{name}-{field}")


def test_every_label_has_every_field() -> None:
    assert len(LABELS) == 12
    for name, label in LABELS.items():
        assert set(FIELDS) <= set(label), name


@pytest.mark.parametrize(("name", "field"), list(_cases()))
def test_field(metadata_of: Callable[[str], CallMetadata], name: str, field: str) -> None:
    predicted = _predicted(metadata_of(name), field)
    assert _matches(field, predicted, LABELS[name]), (
        f"{name}.{field}: got {predicted!r}, label {LABELS[name][field]!r}"
    )
