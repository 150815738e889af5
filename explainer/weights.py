"""Each model's ImageNet weights: where they come from (through :mod:`explainer.catalogue`), and loading them safely.

Resolution order for a model ``name`` (see :func:`resolve`):

a. a **weights directory** — ``--weights-dir`` on the command line, else the environment variable
   ``EXPLAINER_WEIGHTS_DIR`` — holding ``<name>.pth``, a state dict in torchvision's layout (e.g.
   ``mobilenet_v2.pth``, preprocessed as torchvision's ``IMAGENET1K_V1``), or torchvision's own file under its
   published name (``mobilenet_v2-7ebf99e0.pth``, with that weights' preprocessing). For V1, which torchvision
   does not publish, ``mobilenet_v1.pth`` (a state dict of :class:`explainer.models.MobileNetV1`) or a
   folded-BN ``mobilenet_v1_<α>_<resolution>_imagenet.npz`` is used;
b–d. otherwise the model's catalogue record (its ``weights`` in :mod:`explainer.registry`) goes through the
   catalogue's chain: the cache (also torchvision's), a pinned download with progress, or the one offline
   message (an :class:`~explainer.errors.AssetError`). The app catches it and carries on with untrained
   weights under a warning banner (:func:`load_pretrained` with ``fallback=True``).

Every file is read with ``torch.load(..., weights_only=True)`` and its keys
and shapes are compared with the model before use; a wrong or corrupt file
raises an error that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from explainer import catalogue
from explainer.catalogue import OFFLINE_ENV, WEIGHTS_DIR_ENV, Progress, offline  # noqa: F401 - re-exported
from explainer.errors import AssetError, WeightsError
from explainer.models import DISPLAY_NAMES, MODEL_NAMES, build_model, check_model_name, v1_state_from_npz
from explainer.registry import get as model_record

#: A released V1 file with folded batch norm: ``mobilenet_v1_<α>_<resolution>_imagenet.npz``.
V1_NPZ_PATTERN = re.compile(r"^mobilenet_v1_(\d+(?:\.\d+)?)_(\d+)_imagenet\.npz$")
#: Source kinds, in resolution order.
KINDS: tuple[str, ...] = ("file", "cache", "download", "untrained")
#: The catalogue's step names → the kinds of :class:`LoadedModel`.
_KIND_OF = {"folder": "file", "cache": "cache", "download": "download", "missing": "untrained"}


def _weights_enum(qualified: str):
    from torchvision import models as tv

    enum_name, member = qualified.split(".")
    return getattr(getattr(tv, enum_name), member)


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet-1k class names in output order (torchvision's metadata; no download)."""
    return list(_weights_enum("MobileNet_V2_Weights.IMAGENET1K_V1").meta["categories"])


def weights_dir_from(explicit: str | Path | None = None) -> Path | None:
    """The weights directory: ``explicit`` (``--weights-dir``), else ``$EXPLAINER_WEIGHTS_DIR``, else ``None``."""
    return catalogue.user_folder(WEIGHTS_DIR_ENV, explicit)


@dataclass(frozen=True)
class Resolution:
    """Where ``name``'s weights would come from, found without loading anything."""

    name: str
    kind: str  # "file", "cache", "download" or "untrained"
    path: Path | None = None  # the file for "file"/"cache", the download's target for "download"
    url: str | None = None  # for "download"
    weights_id: str | None = None  # e.g. "IMAGENET1K_V2" (torchvision) or the file name
    problem: WeightsError | AssetError | None = None  # for "untrained": what to do about it

    @property
    def pretrained(self) -> bool:
        return self.kind != "untrained"


def _missing(name: str, folder: Path | None) -> WeightsError | AssetError:
    if name == "mobilenet_v1":
        return WeightsError("weights.v1_untrained", file=f"{name}.pth", dir=str(folder) if folder else f"${WEIGHTS_DIR_ENV}")
    return catalogue.missing(catalogue.get(model_record(name).weights_asset))


def resolve(name: str, weights_dir: str | Path | None = None, *, download: bool = True) -> Resolution:
    """Which source (a → d above) supplies ``name``'s weights; nothing is loaded or downloaded."""
    check_model_name(name)
    folder = weights_dir_from(weights_dir)
    record = model_record(name)
    asset = catalogue.get(record.weights_asset)
    where = catalogue.locate(asset, folder, download=download)
    if where.kind == "missing":
        return Resolution(name, "untrained", problem=_missing(name, folder))
    published = record.weights is not None and where.path.name == asset.filename
    weights_id = record.weights.split(".")[1] if published else where.path.name  # else a user's own file
    return Resolution(name, _KIND_OF[where.kind], path=where.path, url=asset.download_url() if where.kind == "download"
                      else None, weights_id=weights_id)


def fetch(name: str, progress: Progress | None = None) -> Path:
    """Download ``name``'s published weights into the cache (the catalogue's pinned download); return the file."""
    check_model_name(name)
    return catalogue.fetch(catalogue.get(model_record(name).weights_asset), progress)


# --------------------------------------------------------------------------
# Loading (with checks)
# --------------------------------------------------------------------------


def check_state_dict(model: nn.Module, state: dict, file: str | Path) -> None:
    """Raise :class:`WeightsError` naming ``file`` unless ``state`` has exactly the model's keys and shapes."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {list(state[k].shape)}≠{list(expected[k].shape)}"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    parts = []
    if missing:
        parts.append(f"missing {len(missing)} ({missing[0]})")
    if unexpected:
        parts.append(f"unexpected {len(unexpected)} ({unexpected[0]})")
    if wrong:
        parts.append(f"wrong shape {len(wrong)} ({wrong[0]})")
    if parts:
        raise WeightsError("weights.mismatch", file=str(file), detail="; ".join(parts))
    for key, value in state.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise WeightsError("weights.not_finite", file=str(file), layer=key)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """``torch.load(path, weights_only=True)`` as a ``{name: tensor}`` dict, or :class:`WeightsError` naming the file."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise WeightsError("weights.not_found", file=str(path)) from err
    except Exception as err:  # noqa: BLE001 - unpickling/zip/EOF errors all mean a broken or unsafe file
        raise WeightsError("weights.corrupt", file=str(path)) from err
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise WeightsError("weights.not_state_dict", file=str(path))
    return obj


@dataclass
class LoadedModel:
    """A model ready for inference, and everything a page needs to say about it."""

    name: str
    model: nn.Module  # eval mode
    kind: str  # "file", "cache", "download" or "untrained"
    source: str  # the file the weights came from ("" when untrained)
    pretrained: bool
    transform: nn.Module  # PIL image -> normalized float tensor [3, H, W]
    categories: list[str]
    weights_id: str  # "IMAGENET1K_V2", a file name, or "untrained"
    width: float = 1.0
    input_size: int = 224
    problem: WeightsError | AssetError | None = field(default=None, compare=False)  # why it is untrained, when it is
    reference_ms: float | None = field(default=None, compare=False)  # median forward time (explainer.stopwatch), set by the app

    @property
    def weights(self) -> str:
        """Where the weights came from, as one string (the CLI's JSON ``"weights"``)."""
        return f"{self.kind}:{self.source}" if self.source else self.kind

    @property
    def cache_key(self) -> str:
        """Which weights these are, for the per-photo caches shared by all sessions (with the model's name):
        two loads of the same file share results, a different file or an untrained model never does."""
        return f"{self.kind}:{self.weights_id}:{self.source}"

    @property
    def display_name(self) -> str:
        label = DISPLAY_NAMES[self.name]
        if self.name == "mobilenet_v1" and (self.width != 1.0 or self.input_size != 224):
            label += f" ({self.width:g}, {self.input_size})"
        return label


def _transform(qualified: str) -> nn.Module:
    return _weights_enum(qualified).transforms()


def _v1_npz_transform(resolution: int) -> nn.Module:
    from torchvision.transforms._presets import ImageClassification

    # The released V1 files: Resize(round(res / 0.875)) then CenterCrop(res), e.g. 219 → 192.
    return ImageClassification(crop_size=resolution, resize_size=int(round(resolution / 0.875)))


def _load_file(name: str, path: Path) -> LoadedModel:
    if path.suffix == ".npz":
        match = V1_NPZ_PATTERN.match(path.name)
        resolution = int(match.group(2)) if match else 224
        state, width = v1_state_from_npz(path)
        model = build_model("mobilenet_v1", width=width, batch_norm=False)
        check_state_dict(model, state, path)
        model.load_state_dict(state, strict=True)
        transform = _v1_npz_transform(resolution)
        return LoadedModel(name, model.eval(), "file", str(path), True, transform, imagenet_categories(),
                           path.name, width=width, input_size=resolution)
    state = read_state_dict(path)
    model = build_model(name)
    check_state_dict(model, state, path)
    model.load_state_dict(state, strict=True)
    return LoadedModel(name, model.eval(), "file", str(path), True, _transform(model_record(name).local_transform),
                       imagenet_categories(), path.name)


def untrained(name: str, problem: WeightsError | AssetError | None = None) -> LoadedModel:
    """``name`` with random weights (predictions are meaningless), remembering why."""
    check_model_name(name)
    with torch.random.fork_rng(devices=[]):  # the same random weights every time, without touching the global RNG
        torch.manual_seed(0)
        model = build_model(name)
    return LoadedModel(name, model, "untrained", "", False, _transform(model_record(name).local_transform),
                       imagenet_categories(), "untrained", problem=problem)


def load_pretrained(
    name: str,
    weights_dir: str | Path | None = None,
    progress: Progress | None = None,
    *,
    download: bool = True,
    fallback: bool = False,
) -> LoadedModel:
    """``name`` with ImageNet weights from the first source that has them (order a → d above).

    ``progress(done, total)`` is called while downloading. When no weights are
    available: raises the :class:`WeightsError` of step d, or with
    ``fallback=True`` returns :func:`untrained` carrying that error in
    ``problem``. A broken file in the weights directory always raises (it
    names the file): the user put it there and should know.
    """
    where = resolve(name, weights_dir, download=download)
    record = model_record(name)
    if where.kind in ("file", "cache") and (record.weights is None or where.path.name != catalogue.get(
            record.weights_asset).filename):  # a user's own file, not the published one
        return _load_file(name, where.path)
    if where.kind in ("file", "cache", "download"):
        try:
            path = fetch(name, progress) if where.kind == "download" else where.path
        except AssetError as err:
            if fallback:
                return untrained(name, err)
            raise
        state = read_state_dict(path)
        model = build_model(name)
        check_state_dict(model, state, path)
        model.load_state_dict(state, strict=True)
        return LoadedModel(name, model.eval(), where.kind, str(path), True, _transform(record.weights),
                           imagenet_categories(), record.weights.split(".")[1])
    if fallback:
        return untrained(name, where.problem)
    raise where.problem


def status(weights_dir: str | Path | None = None) -> list[Resolution]:
    """Where every taught model's weights would come from right now."""
    return [resolve(name, weights_dir) for name in MODEL_NAMES]
