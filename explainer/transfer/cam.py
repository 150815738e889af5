"""Where did the network look? Class-activation maps (Grad-CAM) on the last feature map.

Grad-CAM (Selvaraju et al. 2017): with ``A`` the last feature map ``[K, h, w]``
and ``y_c`` the score of class ``c``, the map is ``ReLU(Σ_k α_k A_k)`` with
``α_k = mean over positions of ∂y_c/∂A_k``.

* For a **linear head on pooled features** (our transfer heads, and
  MobileNetV2's ImageNet classifier: dropout + one linear layer),
  ``∂y_c/∂A_k(i, j) = W[c, k] / (h·w)``, so Grad-CAM is the class-activation
  map of Zhou et al. (2016), ``ReLU(Σ_k W[c, k] A_k) / (h·w)``: computed
  directly, no gradients needed.
* For any other classifier (V3's two layers with h-swish) the gradient is
  taken with ``torch.autograd.grad`` with respect to a **detached copy** of
  ``A``: no hook is registered and no parameter's ``.grad`` is touched, so the
  model shared by every session is never changed and other threads may use it
  meanwhile.

The map (``7×7`` for a 224 input) is scaled to 0…1 by its maximum and
resized bilinearly to the network's input for the overlay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from explainer.classify import preprocess, tensor_to_image
from explainer.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from explainer.transfer.head import Head
    from explainer.weights import LoadedModel


@dataclass(frozen=True)
class ClassMap:
    """A class-activation map for one photo and one class."""

    class_index: int
    class_name: str
    probability: float  # the model's (or head's) probability of that class for this photo
    cam: np.ndarray  # float32 [h, w], 0…1 (all zeros when nothing speaks for the class)
    raw_max: float  # the map's largest value before scaling
    input_image: np.ndarray  # uint8 [S, S, 3]: what the network saw
    probabilities: np.ndarray | None = None  # float64 [C]: every class's probability for this photo

    def upsampled(self) -> np.ndarray:
        """The map resized to the input image (bilinear), float32 0…1."""
        size = self.input_image.shape[:2]
        t = torch.as_tensor(self.cam, dtype=torch.float32)[None, None]
        return torch.nn.functional.interpolate(t, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()

    def peak(self) -> tuple[float, float]:
        """Where the map is largest, as fractions of the input image's height and width (cell centres)."""
        h, w = self.cam.shape
        row, col = np.unravel_index(int(np.argmax(self.cam)), self.cam.shape)
        return (row + 0.5) / h, (col + 0.5) / w


def _feature_map(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        fmap = loaded.model.features(batch)
    return fmap.clone()  # an ordinary tensor (inference tensors cannot enter autograd)


def _scaled(raw: torch.Tensor) -> tuple[np.ndarray, float]:
    cam = torch.relu(raw.detach().float())
    top = float(cam.max())
    return (cam / top if top > 0 else torch.zeros_like(cam)).numpy().astype(np.float32), top


def head_cam(image: Image.Image, loaded: LoadedModel, head: Head, class_index: int | None = None) -> ClassMap:
    """The map of ``head``'s class ``class_index`` (default: its most probable class) for ``image``."""
    batch = preprocess(image, loaded)
    fmap = _feature_map(loaded, batch)[0]  # [K, h, w]
    pooled = fmap.mean(dim=(1, 2))
    probs = head.probabilities(pooled.unsqueeze(0).numpy())[0]
    c = int(np.argmax(probs)) if class_index is None else _check_class(class_index, len(head.classes))
    raw = torch.einsum("k,khw->hw", head.weight[c].float(), fmap.float()) / (fmap.shape[1] * fmap.shape[2])
    cam, top = _scaled(raw)
    return ClassMap(c, head.classes[c], float(probs[c]), cam, top, tensor_to_image(batch, loaded), probs)


def imagenet_cam(image: Image.Image, loaded: LoadedModel, class_index: int | None = None) -> ClassMap:
    """Grad-CAM of the model's own ImageNet classifier for class ``class_index`` (default: its top class)."""
    batch = preprocess(image, loaded)
    fmap = _feature_map(loaded, batch)
    leaf = fmap.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = _classify_map(loaded, leaf)
        probs = torch.softmax(logits.detach().double(), dim=1)[0]
        c = int(torch.argmax(probs)) if class_index is None else _check_class(class_index, probs.numel())
        (grad,) = torch.autograd.grad(logits[0, c], leaf)
    alpha = grad[0].mean(dim=(1, 2))  # [K]
    raw = torch.einsum("k,khw->hw", alpha, leaf.detach()[0])
    cam, top = _scaled(raw)
    return ClassMap(c, loaded.categories[c], float(probs[c]), cam, top, tensor_to_image(batch, loaded))


def _classify_map(loaded: LoadedModel, fmap: torch.Tensor) -> torch.Tensor:
    """The classifier part of the model applied to a feature map (global average pool, then classifier)."""
    model = loaded.model
    pooled = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(fmap, 1), 1)
    if hasattr(model, "dropout"):  # our MobileNetV1
        pooled = model.dropout(pooled)
    return model.classifier(pooled)


def _check_class(index: int, count: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= int(index) < count:
        raise InvalidInputError("out_of_range", name="class", low=0, high=count - 1, value=index)
    return int(index)


def overlay(image: np.ndarray, cam: np.ndarray, opacity: float = 0.5, colormap: str = "jet") -> np.ndarray:
    """``image`` (uint8 ``[H, W, 3]``) with ``cam`` (0…1, any size; resized bilinearly) blended over it."""
    from matplotlib import colormaps

    h, w = image.shape[:2]
    heat = np.asarray(cam, dtype=np.float32)
    if heat.shape != (h, w):
        t = torch.as_tensor(heat)[None, None]
        heat = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
    colours = colormaps[colormap](np.clip(heat, 0.0, 1.0))[..., :3]
    opacity = float(np.clip(opacity, 0.0, 1.0))
    blended = (1.0 - opacity) * image.astype(np.float32) / 255.0 + opacity * colours
    return (np.clip(blended, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
