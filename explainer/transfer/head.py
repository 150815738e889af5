"""A linear head on frozen features: multinomial logistic regression, trained deterministically on the CPU.

Model: ``p(class | x) = softmax(W x + b)`` with ``x`` the pooled feature vector.
Loss: mean cross-entropy over the training photos + ``l2/2 · ||W||²`` (the
bias is not penalised). Solver: full-batch L-BFGS (``torch.optim.LBFGS`` with a
strong-Wolfe line search) in float64 from ``W = 0, b = 0``: no randomness, so
the same photos give the same head. One iteration of the loop below is one
L-BFGS step; after each the callback receives the loss and the training and
hold-out accuracy (the page's live curve).

A head file (:func:`save_head` / :func:`load_head`) is a ``torch.save`` of a
plain dict — format tag, version, model name, weights id, class names, ``W``
and ``b`` — read back with ``torch.load(weights_only=True)``: no code can hide
in it. MobileNetV2's head for two classes is about 11 KB.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from explainer.errors import InvalidInputError
from explainer.transfer.datasets import MAX_CLASSES, check_class_names

#: L2 penalty on the weights (per unit of mean cross-entropy).
L2 = 1e-3
#: L-BFGS steps (each one a callback with the loss and accuracies).
STEPS = 60
#: Tag and version written into every head file.
FORMAT = "mobilenet-explainer-head"
VERSION = 1
#: Largest head file accepted (a 10-class V2 head is about 52 KB).
MAX_HEAD_BYTES = 2 * 1024 * 1024
#: Longest feature vector a head may expect (MobileNetV2/V3-Large: 1280, V3-Small: 1024).
MAX_FEATURE_DIM = 4096
#: Longest weights id kept from a head file, in characters.
MAX_WEIGHTS_ID = 200


@dataclass(frozen=True)
class Head:
    """A trained linear head: which backbone it belongs to, its classes and its weights."""

    model: str  # e.g. "mobilenet_v2"
    weights_id: str  # the backbone weights the features came from
    classes: tuple[str, ...]
    weight: torch.Tensor = field(repr=False, compare=False)  # float32 [C, D]
    bias: torch.Tensor = field(repr=False, compare=False)  # float32 [C]

    @property
    def dim(self) -> int:
        return int(self.weight.shape[1])

    def logits(self, features: np.ndarray | torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if x.shape[1] != self.dim:
            raise InvalidInputError("transfer.head_dims", dim=self.dim, got=int(x.shape[1]))
        return x.double() @ self.weight.double().T + self.bias.double()

    def probabilities(self, features: np.ndarray | torch.Tensor) -> np.ndarray:
        """``[N, C]`` class probabilities (float64)."""
        return torch.softmax(self.logits(features), dim=1).numpy()

    def predict(self, features: np.ndarray | torch.Tensor) -> np.ndarray:
        return self.probabilities(features).argmax(axis=1)


@dataclass(frozen=True)
class CurvePoint:
    """The state after one L-BFGS step."""

    step: int
    loss: float  # training objective (mean cross-entropy + L2 term)
    train_accuracy: float
    holdout_accuracy: float | None


@dataclass(frozen=True)
class TrainedHead:
    head: Head
    curve: tuple[CurvePoint, ...]
    seconds: float


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).double().mean()) if len(labels) else float("nan")


def train_head(features: np.ndarray, labels: Sequence[int] | np.ndarray, classes: Sequence[str], *,
               model: str, weights_id: str = "", l2: float = L2, steps: int = STEPS,
               holdout: tuple[np.ndarray, np.ndarray] | None = None,
               callback: Callable[[CurvePoint], None] | None = None) -> TrainedHead:
    """Fit the head on ``features[i]`` with class ``labels[i]`` (see the module docstring).

    ``holdout = (features, labels)`` is only evaluated (for the curve), never trained on.
    """
    classes = check_class_names(classes)
    x = torch.as_tensor(np.asarray(features, dtype=np.float64))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if x.dim() != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise InvalidInputError("transfer.no_training_photos")
    if int(y.min()) < 0 or int(y.max()) >= len(classes):
        raise InvalidInputError("transfer.no_training_photos")
    hx = hy = None
    if holdout is not None and len(holdout[1]):
        hx = torch.as_tensor(np.asarray(holdout[0], dtype=np.float64))
        hy = torch.as_tensor(np.asarray(holdout[1], dtype=np.int64))
    start = time.perf_counter()
    weight = torch.zeros(len(classes), x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(len(classes), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=1, history_size=20,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)

    def objective() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight.T + bias, y) + 0.5 * l2 * (weight * weight).sum()
        loss.backward()
        return loss

    curve: list[CurvePoint] = []
    with torch.enable_grad():
        for step in range(1, steps + 1):
            optimizer.step(objective)
            with torch.no_grad():
                logits = x @ weight.T + bias
                loss = float(torch.nn.functional.cross_entropy(logits, y) + 0.5 * l2 * (weight * weight).sum())
                point = CurvePoint(step, loss, _accuracy(logits, y),
                                   _accuracy(hx @ weight.T + bias, hy) if hx is not None else None)
            curve.append(point)
            if callback is not None:
                callback(point)
    head = Head(model, weights_id, classes, weight.detach().float().clone(), bias.detach().float().clone())
    return TrainedHead(head, tuple(curve), time.perf_counter() - start)


@dataclass(frozen=True)
class Evaluation:
    """How a head does on labelled features."""

    classes: tuple[str, ...]
    labels: np.ndarray  # true class per photo
    predicted: np.ndarray
    probabilities: np.ndarray  # [N, C]

    @property
    def n(self) -> int:
        return int(len(self.labels))

    @property
    def accuracy(self) -> float:
        return float((self.labels == self.predicted).mean()) if self.n else float("nan")

    @property
    def confusion(self) -> np.ndarray:
        """``[C, C]`` counts, rows = true class, columns = predicted class."""
        size = len(self.classes)
        matrix = np.zeros((size, size), dtype=np.int64)
        np.add.at(matrix, (self.labels, self.predicted), 1)
        return matrix

    @property
    def misclassified(self) -> np.ndarray:
        """Positions (in the evaluated order) of the photos the head got wrong."""
        return np.flatnonzero(self.labels != self.predicted)

    def as_dict(self) -> dict:
        """``python -m explainer evaluate --json``."""
        return {"accuracy": self.accuracy, "n": self.n, "classes": list(self.classes),
                "confusion": self.confusion.tolist()}


def evaluate(head: Head, features: np.ndarray, labels: Sequence[int] | np.ndarray) -> Evaluation:
    labels = np.asarray(labels, dtype=np.int64)
    probs = head.probabilities(features) if len(labels) else np.zeros((0, len(head.classes)))
    return Evaluation(head.classes, labels, probs.argmax(axis=1) if len(labels) else labels.copy(), probs)


# --------------------------------------------------------------------------
# Head files
# --------------------------------------------------------------------------


def head_bytes(head: Head) -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, "model": head.model, "weights_id": head.weights_id,
                "classes": list(head.classes), "weight": head.weight.contiguous(), "bias": head.bias.contiguous()},
               buffer)
    return buffer.getvalue()


def save_head(head: Head, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(head_bytes(head))
    return path


def _zip_members_fit(data: bytes) -> bool:
    """Whether ``data`` is a zip (``torch.save``'s format) whose members unpack to at most :data:`MAX_HEAD_BYTES`
    in all (read from the central directory: nothing is unpacked)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return False
    return 0 < len(members) <= 64 and sum(m.file_size for m in members) <= MAX_HEAD_BYTES


def _plain_tensor(value: object, dims: int) -> bool:
    """Whether ``value`` is a float32 tensor of ``dims`` dimensions that owns exactly its own elements.

    Read from the tensor's metadata only (no element is touched): a stride-0 or otherwise overlapping view
    of a tiny storage can declare a gigantic shape, and any operation on it (``isfinite``, ``float``) would
    allocate that shape in full.
    """
    if not isinstance(value, torch.Tensor) or value.dtype != torch.float32 or value.dim() != dims:
        return False
    if value.layout != torch.strided or value.is_sparse or value.requires_grad:
        return False
    if any(size < 1 for size in value.shape) or value.shape[-1] > MAX_FEATURE_DIM:
        return False
    if not value.is_contiguous() or value.storage_offset() != 0:
        return False
    return value.untyped_storage().nbytes() == value.numel() * value.element_size()


def read_head(data: bytes, name: str = "head.pt") -> Head:
    """A head from a file's bytes; :class:`InvalidInputError` for anything that is not one of our head files.

    Nothing in the file is trusted before it is checked: the zip's unpacked size before unpickling, then the
    types, shapes, dtype, layout and storage size of the tensors before any tensor operation, then the values
    (finite), the model name (one the app knows) and the class names (2–10, short, no control characters).
    """
    from explainer.models import MODEL_NAMES
    from explainer.safe_text import has_control

    if len(data) > MAX_HEAD_BYTES or not _zip_members_fit(data):
        raise InvalidInputError("transfer.corrupt_head", name=name)
    buffer = io.BytesIO(data)
    try:
        obj = torch.load(buffer, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling/zip/EOF errors all mean a broken or unsafe file
        raise InvalidInputError("transfer.corrupt_head", name=name) from err
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise InvalidInputError("transfer.corrupt_head", name=name)
    if obj.get("version") != VERSION:
        raise InvalidInputError("transfer.head_version", name=name, version=str(obj.get("version"))[:20])
    weight, bias, classes, model = obj.get("weight"), obj.get("bias"), obj.get("classes"), obj.get("model")
    weights_id = obj.get("weights_id", "")
    if not (_plain_tensor(weight, 2) and _plain_tensor(bias, 1) and isinstance(model, str)
            and isinstance(weights_id, str) and len(weights_id) <= MAX_WEIGHTS_ID and not has_control(weights_id)
            and isinstance(classes, list) and len(classes) <= MAX_CLASSES
            and all(isinstance(c, str) and not has_control(c) for c in classes)):
        raise InvalidInputError("transfer.corrupt_head", name=name)
    if model not in MODEL_NAMES:
        raise InvalidInputError("transfer.corrupt_head", name=name)
    if weight.shape[0] != len(classes) or bias.shape[0] != len(classes):
        raise InvalidInputError("transfer.corrupt_head", name=name)
    # Only now, with at most 10 × 4096 elements known to be stored, are the values looked at.
    if not torch.isfinite(weight).all() or not torch.isfinite(bias).all():
        raise InvalidInputError("transfer.corrupt_head", name=name)
    try:
        classes = list(check_class_names(classes))
    except InvalidInputError as err:
        raise InvalidInputError("transfer.corrupt_head", name=name) from err
    return Head(model, weights_id, tuple(classes), weight.clone(), bias.clone())


def load_head(path: str | Path) -> Head:
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError("transfer.no_head", name=path.name or str(path))
    if path.stat().st_size > MAX_HEAD_BYTES:
        raise InvalidInputError("transfer.corrupt_head", name=path.name)
    return read_head(path.read_bytes(), path.name)


def check_head_fits(head: Head, model: str, dim: int) -> Head:
    """``head`` if it was trained on ``model``'s features of length ``dim``."""
    if head.model != model:
        raise InvalidInputError("transfer.head_other_model", head_model=head.model, model=model)
    if head.dim != dim:
        raise InvalidInputError("transfer.head_dims", dim=head.dim, got=dim)
    return head
