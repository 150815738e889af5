"""Google's released int8 ``.tflite`` models, run on LiteRT — the runtime phones use.

This is the only module that imports LiteRT (``pip install ai-edge-litert``;
version 2.3.0 has wheels for Linux x86_64 and aarch64, macOS arm64 and Windows x64 — none for macOS on
Intel or Windows on ARM). It is imported lazily:
where LiteRT is missing, :func:`litert_available` says so and only the pages
that need it show the message; the rest of the app works.

The model files are records of :mod:`explainer.catalogue` (weights folder → cache →
pinned download → a clear offline message): :data:`TFLITE_MODELS`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from explainer import catalogue
from explainer.catalogue import Progress, require
from explainer.errors import AssetError

#: The released int8 models this app can run: the catalogue's ``.tflite`` records (pinned by size and SHA-256).
TFLITE_MODELS: dict[str, catalogue.Asset] = catalogue.of_kind("tflite")


def litert_available() -> bool:
    """Whether LiteRT (``ai_edge_litert``) can be imported on this machine."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name, e.g. "uint8"
    scale: float  # quantization: real = scale · (q − zero_point); 0.0 when not quantized
    zero_point: int


@dataclass
class TFLiteModel:
    """One loaded ``.tflite`` model. :meth:`run` is thread-safe (one interpreter, one lock)."""

    key: str
    path: Path
    input: TensorInfo
    output: TensorInfo
    size_bytes: int
    threads: int
    _interpreter: Any = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The output tensors' names, in the order :meth:`run_all` returns them."""
        return tuple(d["name"] for d in self._interpreter.get_output_details())

    def run(self, array: np.ndarray) -> tuple[np.ndarray, float]:
        """Invoke on one input (shape and dtype of :attr:`input`); returns (first output copy, invoke time in ms)."""
        outputs, elapsed = self.run_all(array)
        return outputs[0], elapsed

    def run_all(self, array: np.ndarray) -> tuple[list[np.ndarray], float]:
        """Invoke on one input; returns (a copy of every output in the graph's order, invoke time in ms)."""
        if tuple(array.shape) != self.input.shape or array.dtype.name != self.input.dtype:
            raise ValueError(f"{self.key} expects {self.input.shape} {self.input.dtype}, "
                             f"got {tuple(array.shape)} {array.dtype.name}")
        with self._lock:
            interpreter = self._interpreter
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], array)
            start = time.perf_counter()
            interpreter.invoke()
            elapsed = (time.perf_counter() - start) * 1000.0
            outs = [interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()]
        return outs, elapsed


def _info(details: dict) -> TensorInfo:
    scale, zero_point = details.get("quantization", (0.0, 0))
    return TensorInfo(tuple(int(s) for s in details["shape"]), np.dtype(details["dtype"]).name, float(scale),
                      int(zero_point))


def load_tflite(key: str, folder: str | Path | None = None, progress: Progress | None = None, *,
                threads: int = 1, download: bool = True) -> TFLiteModel:
    """Resolve (folder → cache → download) and load the model ``key`` of :data:`TFLITE_MODELS`.

    Raises :class:`AssetError` when the file cannot be had, LiteRT is missing,
    or the file is not a usable ``.tflite`` model.
    """
    asset = TFLITE_MODELS[key]
    path = require(asset, folder, progress, download=download)
    return load_tflite_file(path, key=key, threads=threads)


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence LiteRT's native "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." line (written to fd 2
    when the interpreter allocates its tensors), so the command line's stderr holds only our own messages."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. an embedded interpreter): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_tflite_file(path: str | Path, *, key: str | None = None, threads: int = 1) -> TFLiteModel:
    """Load a ``.tflite`` file with LiteRT's interpreter (``threads`` CPU threads)."""
    path = Path(path)
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as err:
        raise AssetError("assets.no_litert") from err
    try:
        with _quiet_native_stderr():
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise AssetError("assets.bad_tflite", file=path.name) from err
    return TFLiteModel(key or path.stem, path, _info(interpreter.get_input_details()[0]),
                       _info(interpreter.get_output_details()[0]), path.stat().st_size, threads, interpreter)


@dataclass(frozen=True)
class GraphConv:
    """One convolution of a ``.tflite`` graph, read from the file's own operator list."""

    name: str  # the output tensor's first name, e.g. "MobilenetV2/expanded_conv_14/depthwise/Relu6"
    kind: str  # "conv" or "depthwise"
    out_shape: tuple[int, int, int]  # (C, H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    same_padding: bool


def graph_convolutions(path: str | Path) -> list[GraphConv]:
    """Every ``CONV_2D`` / ``DEPTHWISE_CONV_2D`` of a ``.tflite`` file in graph order, with strides and dilations.

    Parsed with the flatbuffer schema that ships with LiteRT (no interpreter
    needed); raises :class:`AssetError` when LiteRT is missing.
    """
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError as err:
        raise AssetError("assets.no_litert") from err
    model = schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    graph = model.subgraphs[0]
    kinds = {schema.BuiltinOperator.CONV_2D: "conv", schema.BuiltinOperator.DEPTHWISE_CONV_2D: "depthwise"}
    convs = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        kind = kinds.get(max(code.builtinCode, code.deprecatedBuiltinCode))
        if kind is None:
            continue
        options = op.builtinOptions
        out = graph.tensors[op.outputs[0]]
        weight = graph.tensors[op.inputs[1]]
        _, height, width, channels = (int(s) for s in out.shape)
        convs.append(GraphConv(
            out.name.decode().split(";")[0], kind, (channels, height, width),
            (int(weight.shape[1]), int(weight.shape[2])), (options.strideH, options.strideW),
            (options.dilationHFactor, options.dilationWFactor), options.padding == schema.Padding.SAME))
    return convs


@dataclass(frozen=True)
class GraphOp:
    """One operator of a ``.tflite`` graph: its kind, its tensors (name, shape) and, for a custom op, its options."""

    kind: str  # the builtin operator's name (e.g. "CONV_2D") or the custom op's code (e.g. "TFLite_Detection_PostProcess")
    inputs: tuple[tuple[str, tuple[int, ...]], ...]
    outputs: tuple[tuple[str, tuple[int, ...]], ...]
    options: dict  # a custom op's options (decoded from its flexbuffer); empty for builtin ops


def graph_operators(path: str | Path) -> list[GraphOp]:
    """Every operator of a ``.tflite`` file in graph order (read from the file; no interpreter needed).

    Raises :class:`AssetError` when LiteRT is missing.
    """
    try:
        from ai_edge_litert import schema_py_generated as schema
        from flatbuffers import flexbuffers
    except ImportError as err:
        raise AssetError("assets.no_litert") from err
    model = schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    graph = model.subgraphs[0]
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}

    def tensor(index: int) -> tuple[str, tuple[int, ...]]:
        t = graph.tensors[index]
        shape = () if t.shape is None else tuple(int(s) for s in t.shape)
        return t.name.decode().split(";")[0], shape

    ops = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        custom = code.customCode.decode() if code.customCode else ""
        kind = custom or names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "?")
        options = {}
        if custom and op.customOptions is not None and len(op.customOptions):
            options = dict(flexbuffers.Loads(bytes(bytearray(op.customOptions))))
        ops.append(GraphOp(kind, tuple(tensor(i) for i in op.inputs if i >= 0),
                           tuple(tensor(i) for i in op.outputs if i >= 0), options))
    return ops


def constant_tensor(path: str | Path, name: str) -> np.ndarray:
    """The constant tensor ``name`` of a ``.tflite`` file (e.g. SSD's ``anchors``), dequantized to float32 if quantized."""
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError as err:
        raise AssetError("assets.no_litert") from err
    model = schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    for t in model.subgraphs[0].tensors:
        if t.name.decode().split(";")[0] != name:
            continue
        dtypes = {schema.TensorType.UINT8: np.uint8, schema.TensorType.INT8: np.int8,
                  schema.TensorType.FLOAT32: np.float32, schema.TensorType.INT32: np.int32}
        data = model.buffers[t.buffer].data
        if data is None or t.type not in dtypes:
            raise ValueError(f"tensor {name!r} holds no constant data of a known type")
        values = np.frombuffer(bytes(bytearray(data)), dtype=dtypes[t.type]).reshape([int(s) for s in t.shape])
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale):
            return ((values.astype(np.float32) - np.float32(q.zeroPoint[0])) * np.float32(q.scale[0]))
        return values.astype(np.float32)
    raise KeyError(name)
