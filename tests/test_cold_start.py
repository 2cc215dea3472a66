"""What a cold command loads: `search --help` and the search's own modules stay clear of the heavy libraries they
never use; BM25 terms are spaCy's lookup lemmatizer's without its pipe; OpenVINO's compiled model is cached per
model file and OpenVINO version. (The seconds themselves are benchmarks/cold_start.py's.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Libraries a search never runs: PyTorch (thinc imports it to look for it), the flow engine, data frames, the
# web framework, the other model runtime, the catalog builder and spaCy's trained-pipeline helpers.
NEVER_FOR_SEARCH = ("torch", "prefect", "pandas", "fastapi", "onnxruntime", "sentence_transformers",
                    "transformers", "convergenze.matching.catalog_build", "convergenze.extractors.taxonomy",
                    "convergenze.extractors.missions", "convergenze.pipelines")
NEVER_FOR_HELP = (*NEVER_FOR_SEARCH, "spacy", "openvino", "qdrant_edge", "convergenze.services.wiring",
                  "convergenze.index")


def _modules_after(code: str) -> set[str]:
    """Top-level and convergenze modules imported by a fresh interpreter running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules or any(m.startswith(name + ".") for m in modules)]


def test_search_help_imports_no_engine() -> None:
    modules = _modules_after(
        "import sys\nfrom typer.testing import CliRunner\nfrom convergenze.cli.app import app\n"
        "result = CliRunner().invoke(app, ['search', '--help'])\n"
        "assert result.exit_code == 0 and 'Search the index' in result.output, result.output"
    )
    assert "convergenze.cli.app" in modules
    assert _loaded(modules, NEVER_FOR_HELP) == []


def test_search_path_imports_only_what_search_runs() -> None:
    """The modules `convergenze search` opens (services, search, BM25 with its spaCy pipelines and glossary, the
    embedder factory, a region check) leave the others alone; spaCy comes without PyTorch."""
    modules = _modules_after(
        "from convergenze.services.wiring import open_services\n"
        "from convergenze.index.search import SearchService\n"
        "from convergenze.index.embeddings import create_embedder\n"
        "from convergenze.index.crosslingual import Glossary\n"
        "from convergenze.index.sparse import Bm25SparseEncoder\n"
        "from convergenze.matching.profiles import canonical_region\n"
        "encoder = Bm25SparseEncoder()\n"
        "assert encoder.query_terms('idrogeno verde per le imprese')\n"
        "assert Glossary.load(encoder).translations('idrogeno')\n"
    )
    assert "spacy" in modules and "convergenze.index.search" in modules
    assert _loaded(modules, NEVER_FOR_SEARCH) == []


def test_torch_still_imports_after_spacy() -> None:
    """Hiding torch from thinc lasts only while spaCy is imported: the torch embedder can still load it."""
    modules = _modules_after(
        "from convergenze.extractors.nlp import import_spacy\nimport_spacy()\nimport torch\n"
        "assert torch.ones(2).sum().item() == 2.0"
    )
    assert {"spacy", "torch"} <= modules


def test_bm25_terms_are_those_of_spacys_lookup_lemmatizer() -> None:
    """The encoder looks lemmas up itself instead of running spaCy's lemmatizer pipe: same terms, word for word,
    on real passages in both languages (elisions, numbers, hyphens, accents, stop words)."""
    import spacy

    from convergenze.index.sparse import KEEP, LEMMA_OVERRIDES, Bm25SparseEncoder, _fold

    corpora = Path(os.environ.get("CONVERGENZE_CORPORA", ROOT.parent / "shared" / "corpora"))
    topics = corpora / "eu-funding-tenders" / "topics.json"
    measures = corpora / "italia-domani" / "PNRR_MeT_OA_programmazione_v03.csv"
    if not topics.is_file() or not measures.is_file():
        pytest.skip(f"the shared corpora are not at {corpora}")
    texts = measures.read_text(encoding="utf-8", errors="replace").splitlines()[1:400]
    texts += [json.dumps(t, ensure_ascii=False)[:3000] for t in _items(json.loads(topics.read_text()))[:200]]
    texts += ["Dell'energia rinnovabile per l'impresa, le PMI e i comuni: 1.000.000 € entro il 31/12/2026",
              "L’Unione e-commerce co-finanziamento Città lavoro bandi fondi https://example.org/a?b=1"]

    def reference(nlp: spacy.language.Language, text: str) -> list[str]:
        terms = []
        for token in nlp(text.lower()):
            if ((token.is_stop and token.lower_ not in KEEP) or token.is_punct or token.is_space
                    or not (token.is_alpha or token.like_num)):
                continue
            term = _fold(LEMMA_OVERRIDES.get(token.lower_) or token.lemma_ or token.text)
            if len(term) >= 2:
                terms.append(term)
        return terms

    encoder = Bm25SparseEncoder()
    for language in ("it", "en"):
        nlp = spacy.blank(language)
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        differing = [t for t in texts if encoder.terms(t, language) != reference(nlp, t)]
        assert differing == [], f"{language}: {len(differing)} texts differ, e.g. {differing[0][:200]!r}"


def _items(data: object) -> list[object]:
    if isinstance(data, list):
        return data
    return next(v for v in data.values() if isinstance(v, list)) if isinstance(data, dict) else []


def _tiny_model(path: Path, scale: float) -> None:
    """An IR with the e5 export's inputs and output: last_hidden_state = input_ids * scale, [batch, seq, 1]."""
    import openvino as ov
    import openvino.opset13 as ops

    ids = ops.parameter([-1, -1], ov.Type.i64, name="input_ids")
    mask = ops.parameter([-1, -1], ov.Type.i64, name="attention_mask")
    hidden = ops.multiply(ops.convert(ops.add(ids, mask), "f32"), ops.constant(np.float32(scale)))
    out = ops.unsqueeze(hidden, ops.constant(np.array([2], dtype=np.int64)))
    out.output(0).get_tensor().set_names({"last_hidden_state"})
    ov.save_model(ov.Model([out], [ids, mask], "tiny"), str(path), compress_to_fp16=False)


def test_openvino_compiled_model_is_cached_and_invalidated(tmp_path: Path) -> None:
    import openvino.properties as props

    from convergenze.index.embeddings.exported import cache_key, compile_openvino

    model, root = tmp_path / "model.xml", tmp_path / "cache"
    _tiny_model(model, 1.0)
    first = compile_openvino(model, 1, root)
    assert first.get_property(props.loaded_from_cache) is False
    key_dirs = [d for d in root.iterdir() if d.is_dir()]
    assert len(key_dirs) == 1 and any(key_dirs[0].iterdir()), "the compiled model was not exported"

    again = compile_openvino(model, 1, root)
    assert again.get_property(props.loaded_from_cache) is True

    _tiny_model(model, 2.0)  # a re-export: same path, other weights
    changed = compile_openvino(model, 1, root)
    assert changed.get_property(props.loaded_from_cache) is False
    assert [d.name for d in root.iterdir()] == [cache_key(model, __import__("openvino").get_version())]
    ids = np.array([[3, 4]], dtype=np.int64)
    result = changed.create_infer_request().infer({"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert result[changed.output(0)].ravel().tolist() == [8.0, 10.0]  # the new model, not the cached old one


def test_openvino_cache_that_cannot_be_written_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import openvino.properties as props

    from convergenze.index.embeddings.exported import compile_openvino

    model, blocker = tmp_path / "model.xml", tmp_path / "not-a-directory"
    _tiny_model(model, 1.0)
    blocker.write_text("a file where the cache directory would go")
    compiled = compile_openvino(model, 1, blocker / "cache")
    assert compiled.get_property(props.loaded_from_cache) is False
    assert "OpenVINO model cache off" in caplog.text
