"""Where each model's ImageNet weights come from, and loading them safely.

Resolution order for a model ``name`` (see :func:`resolve`):

a. a **weights directory** — ``--weights-dir`` on the command line, else the
   environment variable ``EXPLAINER_WEIGHTS_DIR`` — holding ``<name>.pth``,
   a state dict in torchvision's layout (e.g. ``mobilenet_v2.pth``). For V1,
   which torchvision does not publish, ``mobilenet_v1.pth`` (a state dict of
   :class:`explainer.models.MobileNetV1`) or a folded-BN
   ``mobilenet_v1_<α>_<resolution>_imagenet.npz`` is used;
b. **torchvision's cache**: the file of the model's default torchvision
   weights already downloaded under ``TORCH_HOME`` (``torch.hub.get_dir()``);
c. a **download** through torchvision's weights URL into that cache, with a
   progress callback (``st.progress`` in the app, a text bar in the CLI);
   skipped when ``EXPLAINER_OFFLINE=1`` or ``download=False``;
d. otherwise a :class:`~explainer.errors.WeightsError` that says which file
   to put where, or which command to run beforehand. The app catches it and
   carries on with untrained weights under a warning banner
   (:func:`load_pretrained` with ``fallback=True``).

Every file is read with ``torch.load(..., weights_only=True)`` and its keys
and shapes are compared with the model before use; a wrong or corrupt file
raises an error that names it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from explainer.errors import WeightsError
from explainer.models import DISPLAY_NAMES, MODEL_NAMES, build_model, check_model_name, v1_state_from_npz

#: Environment variable naming the weights directory (same as ``--weights-dir``).
WEIGHTS_DIR_ENV = "EXPLAINER_WEIGHTS_DIR"
#: Set to 1 to never download (e.g. during a lecture on a flaky network).
OFFLINE_ENV = "EXPLAINER_OFFLINE"
#: Seconds to wait for the download server before declaring the machine offline.
DOWNLOAD_TIMEOUT = 15.0

#: ``progress(done_bytes, total_bytes)``; ``total_bytes`` is 0 when unknown.
Progress = Callable[[int, int], None]

#: torchvision's default ImageNet weights for each model (none for V1).
TORCHVISION_WEIGHTS: dict[str, str] = {
    "mobilenet_v2": "MobileNet_V2_Weights.IMAGENET1K_V2",
    "mobilenet_v3_large": "MobileNet_V3_Large_Weights.IMAGENET1K_V2",
    "mobilenet_v3_small": "MobileNet_V3_Small_Weights.IMAGENET1K_V1",
}
#: Weights whose preprocessing a local ``<name>.pth`` file uses (IMAGENET1K_V1's: Resize 256, CenterCrop 224).
LOCAL_FILE_TRANSFORMS: dict[str, str] = {
    "mobilenet_v1": "MobileNet_V2_Weights.IMAGENET1K_V1",
    "mobilenet_v2": "MobileNet_V2_Weights.IMAGENET1K_V1",
    "mobilenet_v3_large": "MobileNet_V3_Large_Weights.IMAGENET1K_V1",
    "mobilenet_v3_small": "MobileNet_V3_Small_Weights.IMAGENET1K_V1",
}
#: A released V1 file with folded batch norm: ``mobilenet_v1_<α>_<resolution>_imagenet.npz``.
V1_NPZ_PATTERN = re.compile(r"^mobilenet_v1_(\d+(?:\.\d+)?)_(\d+)_imagenet\.npz$")
#: Source kinds, in resolution order.
KINDS: tuple[str, ...] = ("file", "cache", "download", "untrained")


def _weights_enum(qualified: str):
    from torchvision import models as tv

    enum_name, member = qualified.split(".")
    return getattr(getattr(tv, enum_name), member)


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet-1k class names in output order (torchvision's metadata; no download)."""
    return list(_weights_enum("MobileNet_V2_Weights.IMAGENET1K_V1").meta["categories"])


def weights_dir_from(explicit: str | Path | None = None) -> Path | None:
    """The weights directory: ``explicit`` (``--weights-dir``), else ``$EXPLAINER_WEIGHTS_DIR``, else ``None``.

    An explicitly named folder that does not exist is an error (a typo should not
    silently fall through to a download).
    """
    if explicit is not None and str(explicit) != "":
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            raise WeightsError("weights.no_dir", dir=str(folder))
        return folder
    configured = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise WeightsError("weights.no_dir_env", dir=str(folder), env=WEIGHTS_DIR_ENV)
        return folder
    return None


def offline() -> bool:
    """Whether downloads are switched off (``EXPLAINER_OFFLINE=1``)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def cache_dir() -> Path:
    """torchvision's download cache: ``$TORCH_HOME/hub/checkpoints`` (``torch.hub.get_dir()``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cache_file(name: str) -> Path | None:
    """Where torchvision keeps ``name``'s default weights once downloaded (``None`` for V1)."""
    qualified = TORCHVISION_WEIGHTS.get(name)
    if qualified is None:
        return None
    url = _weights_enum(qualified).url
    return cache_dir() / os.path.basename(url)


@dataclass(frozen=True)
class Resolution:
    """Where ``name``'s weights would come from, found without loading anything."""

    name: str
    kind: str  # "file", "cache", "download" or "untrained"
    path: Path | None = None  # the file for "file"/"cache", the cache target for "download"
    url: str | None = None  # for "download"
    weights_id: str | None = None  # e.g. "IMAGENET1K_V2" (torchvision) or the file name
    problem: WeightsError | None = None  # for "untrained": what to do about it

    @property
    def pretrained(self) -> bool:
        return self.kind != "untrained"


def _local_file(name: str, folder: Path) -> Path | None:
    candidate = folder / f"{name}.pth"
    if candidate.is_file():
        return candidate
    if name == "mobilenet_v1":
        matches = sorted(p for p in folder.glob("mobilenet_v1_*_imagenet.npz") if V1_NPZ_PATTERN.match(p.name))
        if matches:
            # Prefer the widest, then the largest resolution.
            return max(matches, key=lambda p: tuple(float(x) for x in V1_NPZ_PATTERN.match(p.name).groups()))
    return None


def _missing(name: str, folder: Path | None) -> WeightsError:
    target = str(folder) if folder else f"${WEIGHTS_DIR_ENV}"
    if name == "mobilenet_v1":
        return WeightsError("weights.v1_untrained", file=f"{name}.pth", dir=target)
    cached = cache_file(name)
    return WeightsError(
        "weights.offline",
        model=DISPLAY_NAMES[name],
        name=name,
        file=f"{name}.pth",
        dir=target,
        cache=str(cached),
    )


def resolve(name: str, weights_dir: str | Path | None = None, *, download: bool = True) -> Resolution:
    """Which source (a → d above) supplies ``name``'s weights; nothing is loaded or downloaded."""
    check_model_name(name)
    folder = weights_dir_from(weights_dir)
    if folder is not None:
        local = _local_file(name, folder)
        if local is not None:
            return Resolution(name, "file", path=local, weights_id=local.name)
    qualified = TORCHVISION_WEIGHTS.get(name)
    if qualified is not None:
        member = _weights_enum(qualified)
        cached = cache_file(name)
        if cached is not None and cached.is_file():
            return Resolution(name, "cache", path=cached, url=member.url, weights_id=qualified.split(".")[1])
        if download and not offline():
            return Resolution(name, "download", path=cached, url=member.url, weights_id=qualified.split(".")[1])
    return Resolution(name, "untrained", problem=_missing(name, folder))


# --------------------------------------------------------------------------
# Downloading (step c)
# --------------------------------------------------------------------------


def fetch(name: str, progress: Progress | None = None, *, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download ``name``'s default torchvision weights into torchvision's cache; return the file.

    Already cached: returns at once. The file's SHA-256 must start with the
    hash in its name (torchvision's convention); it is written to a temporary
    file and renamed, so an interrupted download leaves nothing behind.
    Raises :class:`WeightsError` when offline or the download fails.
    """
    check_model_name(name)
    target = cache_file(name)
    if target is None:
        raise _missing(name, None)
    if target.is_file():
        return target
    url = _weights_enum(TORCHVISION_WEIGHTS[name]).url
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp_path: str | None = None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "mobilenet-explainer"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed https URL
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".partial") as out:
                tmp_path = out.name
                while True:
                    chunk = response.read(1 << 16)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        match = re.search(r"-([a-f0-9]+)\.", os.path.basename(url))
        if match and not digest.hexdigest().startswith(match.group(1)):
            raise WeightsError("weights.bad_download", url=url)
        os.replace(tmp_path, target)
        tmp_path = None
    except WeightsError:
        raise
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as err:
        raise WeightsError(
            "weights.download_failed", model=DISPLAY_NAMES[name], url=url, detail=_reason(err), name=name,
            file=f"{name}.pth", cache=str(target),
        ) from err
    finally:
        if tmp_path is not None and os.path.exists(tmp_path):
            os.unlink(tmp_path)
    return target


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err) or type(err).__name__
    return str(reason)


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
    problem: WeightsError | None = field(default=None, compare=False)  # why it is untrained, when it is
    reference_ms: float | None = field(default=None, compare=False)  # best-of-5 forward time, set by the app

    @property
    def weights(self) -> str:
        """Where the weights came from, as one string (the CLI's JSON ``"weights"``)."""
        return f"{self.kind}:{self.source}" if self.source else self.kind

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
    return LoadedModel(name, model.eval(), "file", str(path), True, _transform(LOCAL_FILE_TRANSFORMS[name]),
                       imagenet_categories(), path.name)


def untrained(name: str, problem: WeightsError | None = None) -> LoadedModel:
    """``name`` with random weights (predictions are meaningless), remembering why."""
    check_model_name(name)
    with torch.random.fork_rng(devices=[]):  # the same random weights every time, without touching the global RNG
        torch.manual_seed(0)
        model = build_model(name)
    return LoadedModel(name, model, "untrained", "", False, _transform(LOCAL_FILE_TRANSFORMS[name]),
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
    if where.kind == "file":
        return _load_file(name, where.path)
    if where.kind in ("cache", "download"):
        qualified = TORCHVISION_WEIGHTS[name]
        kind = where.kind
        try:
            path = fetch(name, progress) if kind == "download" else where.path
        except WeightsError as err:
            if fallback:
                return untrained(name, err)
            raise
        state = read_state_dict(path)
        model = build_model(name)
        check_state_dict(model, state, path)
        model.load_state_dict(state, strict=True)
        return LoadedModel(name, model.eval(), kind, str(path), True, _transform(qualified),
                           imagenet_categories(), qualified.split(".")[1])
    if fallback:
        return untrained(name, where.problem)
    raise where.problem


def status(weights_dir: str | Path | None = None) -> list[Resolution]:
    """Where every model's weights would come from right now (for ``weights status``)."""
    return [resolve(name, weights_dir) for name in MODEL_NAMES]
