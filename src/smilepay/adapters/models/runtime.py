"""One-thread sessions for onnxruntime and LiteRT, and the licence gate for opt-in models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smilepay.config import get_settings
from smilepay.errors import SmilePayError

NONCOMMERCIAL_MODELS = frozenset({"w600k_mbf"})


class NonCommercialModelRefused(SmilePayError):
    code = "noncommercial_model_refused"


def require_licence_opt_in(model: str, allow: bool | None = None) -> None:
    """Refuse a model whose weights are licensed for non-commercial research only.

    Allowed only with ``SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS=true`` (or ``allow=True``).
    """
    permitted = get_settings().allow_noncommercial_models if allow is None else allow
    if model in NONCOMMERCIAL_MODELS and not permitted:
        raise NonCommercialModelRefused(
            f"model {model!r} has weights licensed for NON-COMMERCIAL research only "
            "(InsightFace buffalo_s); it may not be used in a commercial service. Set "
            "SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS=true to accept that licence for research use.",
            model=model,
        )


def onnx_session(path: Path, threads: int = 1) -> Any:
    """An onnxruntime CPU session with ``threads`` intra-op threads and no spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options,
                                providers=["CPUExecutionProvider"])


def litert_interpreter(path: Path, threads: int = 1) -> Any:
    """A LiteRT (TFLite) interpreter with ``threads`` threads, tensors allocated."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


def set_opencv_threads(threads: int = 1) -> None:
    import cv2

    cv2.setNumThreads(threads)


def set_faiss_threads(threads: int = 1) -> None:
    """FAISS's OpenMP threads for this process: one, like every other runtime here (a single
    query on 2 threads was 3x slower than on 1 on these 2-core machines, ../shared INFRA.md)."""
    import faiss

    faiss.omp_set_num_threads(threads)

