"""The default model's int8 export run without PyTorch: ``tokenizers`` + numpy + ONNX Runtime or OpenVINO.

What sentence-transformers does for e5, reproduced here (tests/test_embeddings_runtime.py checks the token ids
are the same and the vectors within cosine 0.99 of PyTorch's float32 ones):

* the prompts ``"query: "`` / ``"passage: "`` go before the text;
* XLM-R tokenization from ``tokenizer.json`` (``<s> ... </s>``), truncated to ``max_length`` tokens (special
  tokens included) and padded with ``<pad>`` to the longest text of its batch;
* texts are sorted by length before batching, so a batch holds texts of similar length and little padding
  (sentence-transformers sorts by characters; by tokens is the exact measure of the work);
* the encoder's last hidden state, averaged over the tokens the attention mask keeps, then L2-normalized.

The exported files take ``input_ids`` and ``attention_mask`` (int64, [batch, sequence]) and give
``last_hidden_state`` ([batch, sequence, 384]); how they are made is ``export.py``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from convergenze.core.embedding import Embedder
from convergenze.core.vocabulary import EmbedBackend

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
PAD_ID = 1  # XLM-R's <pad>; the attention mask, not the id, keeps padding out of the result
# OpenVINO prepares its kernels per input shape: padding every batch to a multiple of 32 tokens lets it reuse
# them (measured here: query p50 32 -> 22 ms, short passages 40 -> 56/s). Its int8 scales are fixed at export,
# so padding changes nothing in the vectors. ONNX Runtime's dynamic int8 computes its scales from the whole
# batch, padding included: it gets the tightest padding.
_PAD_TO = {EmbedBackend.OPENVINO: 32, EmbedBackend.ONNX: 1}
# A query alone (21 tokens p50 with its prompt) pays for the 32-token shape more than it gains from reusing it:
# measured later with the compiled-model cache, 36 real queries one at a time, 5 interleaved rounds: p50 20.9 ms
# padded to 32, 18.5 to 16, 16.4 to 8, 16.8 unpadded (same vectors, cosine 0.9999998).
_QUERY_PAD_TO = {EmbedBackend.OPENVINO: 8, EmbedBackend.ONNX: 1}


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """How the exported model runs: ``threads`` inside one call, texts truncated to ``max_length`` tokens,
    ``batch_size`` texts per run; OpenVINO's compiled model cached under ``cache_dir``."""

    backend: EmbedBackend
    threads: int
    max_length: int = 512
    batch_size: int = 32
    # Where OpenVINO keeps the compiled model between processes (None: compiled in every process).
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.backend == EmbedBackend.TORCH:
            raise ValueError("RuntimeConfig is for the exported model: use SentenceTransformerEmbedder for torch.")
        if self.threads < 1 or self.batch_size < 1 or not 3 <= self.max_length <= 512:
            raise ValueError(
                f"threads and batch_size must be at least 1 and max_length within 3-512, got {self}."
            )


def pad_batch(ids: Sequence[Sequence[int]], multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the longest sequence of the batch, rounded up to ``multiple`` (at most 512):
    ``(input_ids, attention_mask)``, int64."""
    width = min(512, -(-max(len(x) for x in ids) // multiple) * multiple)
    input_ids = np.full((len(ids), width), PAD_ID, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return input_ids, mask


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the unmasked tokens, then L2 normalization (sentence-transformers' Pooling + Normalize, with
    the same clamps)."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden.astype(np.float32, copy=False) * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("texts must be a sequence of strings; wrap a single text in a list: [text].")
    items = list(texts)
    if not all(isinstance(text, str) for text in items):
        raise ValueError("texts must contain only strings (convert or drop None/non-text values first).")
    return items


class _Engine(Protocol):
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class ExportedE5Embedder(Embedder):
    """e5-small's int8 export, loaded on first use (importing this module loads neither runtime).

    Safe to call from several threads: ONNX Runtime sessions are; OpenVINO gets one infer request per thread.
    Each call uses ``config.threads`` cores, so callers should not run more calls at once than there are cores
    (the API runs model work in a pool of that size: ``convergenze.services.workers``).
    """

    def __init__(self, model_file: Path, tokenizer_file: Path, config: RuntimeConfig, *, name: str, dim: int) -> None:
        self.model_file = Path(model_file)
        self.tokenizer_file = Path(tokenizer_file)
        self.config = config
        self._name = name
        self._dim = dim
        self._tokenizer: Tokenizer | None = None
        self._engine: _Engine | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, QUERY_PREFIX, show_progress=False)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._embed(texts, PASSAGE_PREFIX, show_progress=show_progress)

    def token_ids(self, texts: Sequence[str], prefix: str = "") -> list[list[int]]:
        """The ids the model sees for ``texts`` (with ``prefix`` before each), truncated to ``max_length``."""
        tokenizer, _ = self._load()
        return [e.ids for e in tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=True)]

    def embed_query_and_passages(self, query: str, passages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """One model call on OpenVINO: a description and its sentences as one batch took 51 ms against 70 ms
        apart (four project descriptions, p50), and its vectors are the same as apart (fixed int8 scales; the
        padding is masked out). ONNX Runtime's dynamic int8 scales depend on the whole batch: apart there."""
        if self.config.backend != EmbedBackend.OPENVINO:
            return super().embed_query_and_passages(query, passages)
        ids = self.token_ids([query], QUERY_PREFIX) + self.token_ids(_texts(passages), PASSAGE_PREFIX)
        vectors = self._embed_ids(ids, _QUERY_PAD_TO[self.config.backend], show_progress=False)
        return vectors[0], vectors[1:]

    def _embed(self, texts: Sequence[str], prefix: str, *, show_progress: bool) -> np.ndarray:
        items = _texts(texts)
        if not items:
            return np.zeros((0, self._dim), dtype=np.float32)
        pad_to = (_QUERY_PAD_TO if prefix == QUERY_PREFIX else _PAD_TO)[self.config.backend]
        return self._embed_ids(self.token_ids(items, prefix), pad_to, show_progress=show_progress)

    def _embed_ids(self, ids: list[list[int]], pad_to: int, *, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(ids), self._dim), dtype=np.float32)
        _, engine = self._load()
        order = np.argsort([-len(x) for x in ids], kind="stable")  # longest first, as sentence-transformers
        size = self.config.batch_size
        starts = range(0, len(order), size)
        for start in tqdm(starts, desc="embedding", unit="batch", disable=not show_progress or len(starts) < 2):
            rows = order[start : start + size]
            input_ids, mask = pad_batch([ids[i] for i in rows], pad_to)
            out[rows] = mean_pool_normalize(engine(input_ids, mask), mask)
        return out

    def _load(self) -> tuple[Tokenizer, _Engine]:
        with self._lock:
            if self._tokenizer is None or self._engine is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
                tokenizer.no_padding()  # padding is per batch, after sorting
                tokenizer.enable_truncation(max_length=self.config.max_length)
                logger.info("Loading %s (%s, %d threads)", self.model_file, self.config.backend, self.config.threads)
                if self.config.backend == EmbedBackend.ONNX:
                    engine = _onnx_engine(self.model_file, self.config.threads)
                else:
                    engine = _openvino_engine(self.model_file, self.config.threads, self.config.cache_dir)
                self._tokenizer, self._engine = tokenizer, engine
            return self._tokenizer, self._engine


def _onnx_engine(model_file: Path, threads: int) -> _Engine:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Worker threads spin-wait for work by default: on cores shared with other processes (the ingestion beside
    # the API, other services) that burns their CPU and multiplied query latency 4x in a measurement here.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # The arena keeps the largest buffers ever needed per shape and never gives them back: the process grew with
    # every new batch shape. Without it buffers go back to the allocator after each run, at no measurable cost.
    options.enable_cpu_mem_arena = False
    session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        hidden: np.ndarray = session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0]
        return hidden

    return run


def compile_openvino(model_file: Path, threads: int, cache_root: Path | None = None) -> Any:
    """The model compiled for this CPU (an ``openvino.CompiledModel``).

    Compiling took 5 s of a cold search here; with ``cache_root`` OpenVINO exports the compiled model once and
    later processes import it (under a second). Its blob is kept in a subdirectory named after the model files
    and the OpenVINO version (``cache_key``), so a re-exported model or another OpenVINO never reads an old
    blob; older subdirectories are removed. A cache that cannot be written is skipped, with a warning.
    """
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    config: dict[Any, Any] = {
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        props.inference_num_threads: threads,
        # On CPUs with AMX or AVX512-BF16 OpenVINO runs every op it did not quantize in bf16 unless told
        # otherwise: f32 keeps the results the same on every CPU (the int8 ops are int8 either way).
        hints.inference_precision: ov.Type.f32,
    }
    if cache_root is not None:
        cache = _cache_for(cache_root, model_file, ov.get_version())
        if cache is not None:
            config[props.cache_dir] = str(cache)
    return ov.Core().compile_model(str(model_file), "CPU", config)


def cache_key(model_file: Path, runtime_version: str) -> str:
    """Names the compiled model of these files for this runtime: the graph's bytes, the weights file's identity
    (size, inode, modification time: re-exporting writes a new file) and the OpenVINO version. Reading the
    120 MB of weights to hash them would cost a cold start a second."""
    weights = model_file.with_suffix(".bin").stat()
    digest = hashlib.sha256(model_file.read_bytes())
    digest.update(f"{weights.st_size}:{weights.st_ino}:{weights.st_mtime_ns}:{runtime_version}".encode())
    return digest.hexdigest()[:16]


def _cache_for(root: Path, model_file: Path, runtime_version: str) -> Path | None:
    key = cache_key(model_file, runtime_version)
    target = root / key
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only models directory (a shared mount): compile every time
        logger.warning("OpenVINO model cache off: cannot create %s (%s)", target, exc)
        return None
    for old in root.iterdir():
        if old.is_dir() and old.name != key:  # blobs of a previous export or OpenVINO (hundreds of MB each)
            shutil.rmtree(old, ignore_errors=True)
    return target


def _openvino_engine(model_file: Path, threads: int, cache_root: Path | None = None) -> _Engine:
    compiled = compile_openvino(model_file, threads, cache_root)
    output = compiled.output(0)
    local = threading.local()  # an InferRequest is not thread-safe: one per calling thread

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        request = getattr(local, "request", None)
        if request is None:
            request = local.request = compiled.create_infer_request()
        result = request.infer({"input_ids": input_ids, "attention_mask": attention_mask}, share_inputs=True)
        return np.array(result[output], copy=True)  # the request reuses its output buffer

    return run
