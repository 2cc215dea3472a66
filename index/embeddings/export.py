"""Export the default model (a sentence-transformers directory built by ``e5_builder``) to int8 files that
ONNX Runtime or OpenVINO run without PyTorch; ``convergenze setup-model`` runs it once.

Steps, each checked against the one before on fixed Italian and English texts (a drift fails the build):

1. ``model.onnx``: float32, ``torch.onnx.export`` (TorchScript exporter, opset 17, "eager" attention: the
   classic BERT graph both runtimes fuse); inputs ``input_ids``, ``attention_mask``, output
   ``last_hidden_state``, batch and sequence axes dynamic. No optimum: it would downgrade transformers.
2. ``model_int8.onnx`` (ONNX Runtime): dynamic quantization, int8 weights with one scale per output channel
   (per-tensor scales lose 4x more cosine), activations quantized per call, no calibration needed.
3. ``openvino-int8/model.xml`` (OpenVINO): static int8 by NNCF, activation ranges calibrated on real texts
   shipped with the package (``calibration/``: the corpora are not needed at setup).

The directory's marker records the builder version, the source weights and the CPU's int8 instruction set, so
a changed exporter, model or CPU family rebuilds; a complete export is reused as is.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import platform
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from convergenze.core.vocabulary import EmbedBackend

from .exported import PASSAGE_PREFIX, QUERY_PREFIX, mean_pool_normalize, pad_batch

logger = logging.getLogger(__name__)

MARKER = "convergenze-export.json"
# Bump when what a step writes changes: exports made by an older builder are then redone.
EXPORT_VERSION = 1
OPSET = 17
FILES = {EmbedBackend.ONNX: "model_int8.onnx", EmbedBackend.OPENVINO: "openvino-int8/model.xml"}
_FP32 = "model.onnx"
_CALIBRATION = Path(__file__).resolve().parent / "calibration"
_CHECKS = [
    QUERY_PREFIX + "contributi a fondo perduto per la digitalizzazione delle piccole imprese",
    PASSAGE_PREFIX + "Il bando finanzia l'efficientamento energetico degli edifici pubblici comunali entro il 2026.",
    QUERY_PREFIX + "funding for hydrogen research in Europe",
    PASSAGE_PREFIX + "The topic supports pilot lines for advanced semiconductor packaging. " * 40,  # > 512 tokens
]
_INSTALL = "Install the project's pinned dependencies again: make setup"


class ExportError(RuntimeError):
    """The export could not be made, or drifted from the model it was made from."""


@dataclass(frozen=True, slots=True)
class ExportConfig:
    """``min_cosine``: what each int8 file must keep of float32 on the check texts (the tests ask 0.99 on real
    sentences); ``calibration_size``: texts NNCF collects activation ranges from."""

    min_cosine: float = 0.98
    calibration_size: int = 300


def int8_isa() -> str:
    """The CPU's int8 instruction set, which decides the weight type: "vnni" (AVX512-VNNI, AVX-VNNI, AMX) and
    "arm64" multiply signed int8 weights directly; plain x86 ("avx2") would saturate int16 sums with signed
    weights (VPMADDUBSW), so it gets unsigned ones, slower but exact."""
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return "arm64"
    try:
        flags = set(Path("/proc/cpuinfo").read_text(encoding="utf-8").split())
    except OSError:
        flags = set()
    return "vnni" if flags & {"avx512_vnni", "avx_vnni", "amx_int8"} else "avx2"


def source_digest(model_dir: Path) -> str:
    """What identifies the model the export is made from: its weights' sha256 (as its builder recorded it)."""
    marker = model_dir / "convergenze-build.json"
    try:
        return str(json.loads(marker.read_text(encoding="utf-8"))["source_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        with (model_dir / "model.safetensors").open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()


def export_model(
    model_dir: Path, target_dir: Path, backend: EmbedBackend, config: ExportConfig | None = None, *,
    force: bool = False,
) -> Path:
    """The file ``backend`` runs, exported from ``model_dir`` into ``target_dir`` unless already there."""
    if backend not in FILES:
        raise ValueError(f"nothing to export for the {backend} backend: it runs the model directory itself.")
    config = config or ExportConfig()
    isa = int8_isa()
    stamp: dict[str, Any] = {"builder_version": EXPORT_VERSION, "source_sha256": source_digest(model_dir), "isa": isa}
    target_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(target_dir):  # two processes setting up the same models dir: the second waits, then reuses
        marker = _read_marker(target_dir)
        if any(marker.get(k) != v for k, v in stamp.items()) or force:
            marker = {**stamp, "files": {}}
        steps: dict[str, Any] = marker["files"]
        fp32 = target_dir / _FP32
        if not (fp32.is_file() and _FP32 in steps):
            steps[_FP32] = _export_fp32(model_dir, fp32)
            steps.pop(FILES[EmbedBackend.ONNX], None)
            steps.pop(FILES[EmbedBackend.OPENVINO], None)
        out = target_dir / FILES[backend]
        if not (out.is_file() and FILES[backend] in steps):
            make = _quantize_onnx if backend == EmbedBackend.ONNX else _quantize_openvino
            steps[FILES[backend]] = make(model_dir, fp32, out, isa, config)
        marker["packages"] = _versions()
        _write_marker(target_dir, marker)
    return out


def is_exported(target_dir: Path, model_dir: Path, backend: EmbedBackend) -> bool:
    """True if ``backend``'s file is there, made by this builder from this model for this CPU family."""
    marker = _read_marker(target_dir)
    stamp = {"builder_version": EXPORT_VERSION, "source_sha256": source_digest(model_dir), "isa": int8_isa()}
    return (
        all(marker.get(k) == v for k, v in stamp.items())
        and FILES[backend] in marker.get("files", {})
        and (target_dir / FILES[backend]).is_file()
    )


# --- steps ---------------------------------------------------------------------------------------------------


def _export_fp32(model_dir: Path, out: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModel

    logger.info("Exporting %s to ONNX (float32)", model_dir)
    model = AutoModel.from_pretrained(
        str(model_dir), add_pooling_layer=False, attn_implementation="eager", local_files_only=True
    ).eval()

    class LastHiddenState(torch.nn.Module):
        # Keyword arguments: BertModel.forward's positional order changed in transformers 5.
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return hidden

    # eval() on the wrapper too: the exporter restores the wrapper's training flag recursively afterwards, and a
    # wrapper left in train mode would switch dropout on for everything computed after it in this process.
    wrapper = LastHiddenState(model).eval()
    tokenize = _tokenizer(model_dir)
    sample = pad_batch(tokenize(_CHECKS[:2]))  # padded, two rows: nothing specialised to batch 1 or a full mask
    axes = {0: "batch", 1: "sequence"}

    def torch_run(input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            result: np.ndarray = wrapper(torch.from_numpy(input_ids), torch.from_numpy(mask)).numpy()
            return result

    with _staged(out) as tmp, torch.no_grad():
        torch.onnx.export(
            wrapper, (torch.from_numpy(sample[0]), torch.from_numpy(sample[1])), str(tmp),
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )
        cosine = _check("ONNX float32", _ort_run(tmp), torch_run, tokenize, 0.9999)
    return {"exporter": f"torch.onnx.export(dynamo=False, opset={OPSET})", "min_cosine_to_torch": cosine}


def _quantize_onnx(model_dir: Path, fp32: Path, out: Path, isa: str, config: ExportConfig) -> dict[str, Any]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logger.info("Quantizing %s to int8 for ONNX Runtime (%s)", fp32, isa)
    weights = QuantType.QUInt8 if isa == "avx2" else QuantType.QInt8
    with _staged(out) as tmp:
        # MatMul and the embedding tables' Gather: the file shrinks from 470 to 118 MB.
        quantize_dynamic(str(fp32), str(tmp), op_types_to_quantize=["MatMul", "Gather"], per_channel=True,
                         reduce_range=False, weight_type=weights)
        cosine = _check("ONNX Runtime int8", _ort_run(tmp), _ort_run(fp32), _tokenizer(model_dir), config.min_cosine)
    return {"method": f"quantize_dynamic per-channel {weights.name} weights", "min_cosine_to_fp32": cosine}


def _quantize_openvino(model_dir: Path, fp32: Path, out: Path, isa: str, config: ExportConfig) -> dict[str, Any]:
    try:
        import nncf
        import openvino as ov
    except ImportError as error:
        raise ExportError(f"the OpenVINO backend needs openvino and nncf ({error}). {_INSTALL}") from error

    logger.info("Quantizing %s to int8 for OpenVINO (NNCF, calibrated on %s)", fp32, _CALIBRATION)
    tokenize = _tokenizer(model_dir)
    texts = _calibration_texts()
    # One text per item at its own length: the ranges are those of real, unpadded inputs.
    items = [dict(zip(("input_ids", "attention_mask"), pad_batch([ids]), strict=True)) for ids in tokenize(texts)]
    quantized = nncf.quantize(
        ov.convert_model(str(fp32)), nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
        preset=nncf.QuantizationPreset.MIXED, subset_size=min(config.calibration_size, len(items)),
    )
    staging = out.parent.with_name(f".{out.parent.name}.{uuid.uuid4().hex[:8]}")
    try:
        # compress_to_fp16 defaults to True: it would store the float weights left as fp16.
        ov.save_model(quantized, str(staging / out.name), compress_to_fp16=False)
        cosine = _check("OpenVINO int8", _openvino_run(staging / out.name), _ort_run(fp32), tokenize,
                        config.min_cosine)
        shutil.rmtree(out.parent, ignore_errors=True)
        staging.rename(out.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"method": "nncf.quantize TRANSFORMER MIXED", "calibration_texts": len(items), "min_cosine_to_fp32": cosine}


# --- helpers -------------------------------------------------------------------------------------------------

_Run = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _tokenizer(model_dir: Path) -> Callable[[list[str]], list[list[int]]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=512)
    return lambda texts: [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=True)]


def _ort_run(path: Path) -> _Run:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda ids, mask: np.asarray(session.run(None, {"input_ids": ids, "attention_mask": mask})[0])


def _openvino_run(path: Path) -> _Run:
    import openvino as ov
    import openvino.properties.hint as hints

    compiled = ov.Core().compile_model(str(path), "CPU", {hints.inference_precision: ov.Type.f32})
    request = compiled.create_infer_request()
    return lambda ids, mask: np.array(request.infer({"input_ids": ids, "attention_mask": mask})[compiled.output(0)])


def _check(label: str, run: _Run, reference: _Run, tokenize: Callable[[list[str]], list[list[int]]],
           min_cosine: float) -> float:
    """The lowest cosine between ``run``'s and ``reference``'s sentence vectors over the check texts (one text per
    call, and the four together padded in one batch)."""
    ids = tokenize(_CHECKS)
    got, want = [], []
    for one in ids:
        batch = pad_batch([one])
        got.append(mean_pool_normalize(run(*batch), batch[1]))
        want.append(mean_pool_normalize(reference(*batch), batch[1]))
    padded = pad_batch(ids)
    got.append(mean_pool_normalize(run(*padded), padded[1]))
    want.append(mean_pool_normalize(reference(*padded), padded[1]))
    cosine = float((np.concatenate(got) * np.concatenate(want)).sum(axis=1).min())
    logger.info("%s: min cosine %.5f to its reference", label, cosine)
    if cosine < min_cosine:
        raise ExportError(f"{label} drifted from the model it was made from: cosine {cosine:.5f} < {min_cosine}.")
    return round(cosine, 6)


def _calibration_texts() -> list[str]:
    texts = []
    for name, prefix in (("passages.txt", PASSAGE_PREFIX), ("queries.txt", QUERY_PREFIX)):
        lines = (_CALIBRATION / name).read_text(encoding="utf-8").splitlines()
        texts += [prefix + line.strip() for line in lines if line.strip()]
    return texts


@contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A temporary path beside ``out``, renamed onto it when the block succeeds, removed when it fails."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}{out.suffix}")
    try:
        yield tmp
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _exclusive(target_dir: Path) -> Iterator[None]:
    with open(target_dir / ".export.lock", "a+", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _read_marker(target_dir: Path) -> dict[str, Any]:
    try:
        found = json.loads((target_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) and isinstance(found.get("files"), dict) else {}


def _write_marker(target_dir: Path, marker: dict[str, Any]) -> None:
    tmp = target_dir / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target_dir / MARKER)


def _versions() -> dict[str, str]:
    found = {}
    for name in ("torch", "transformers", "onnx", "onnxruntime", "openvino", "nncf", "tokenizers"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
