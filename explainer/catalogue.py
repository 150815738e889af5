"""Every file the app may fetch, as data, and the one way any of them is found or fetched.

The **catalogue** (:data:`CATALOGUE`) holds one :class:`Asset` record per file: its name, the pinned URL it is
published at, its size and SHA-256, its licence and publisher, and the pages that use it — like torchvision's
``Weights`` records, whose registry is also its download list. ``python -m explainer fetch --status`` prints it.

The **resolution chain** (:func:`locate` finds, :func:`require` delivers), the same for every record:

a. **a folder** the user names: ``--weights-dir`` / ``EXPLAINER_WEIGHTS_DIR`` for model files, ``--data-dir`` /
   ``EXPLAINER_DATA_DIR`` for data sets (the record's ``folder_env``); the file (for a zip data set, the folder
   it unpacks to, or the zip) is looked up there by its catalogue name;
b. **the cache**: ``$EXPLAINER_CACHE_DIR`` or ``~/.cache/mobilenet-explainer``, where downloads go
   (``fetch --to DIR`` fills DIR the same way); for torchvision's files also torchvision's own cache
   (``$TORCH_HOME/hub/checkpoints``), so a file another program downloaded is used;
c. **a pinned download** (:func:`fetch`) with a ``progress(done, total)`` callback, done by `pooch
   <https://www.fatiando.org/pooch/>`_ (temporary file, then rename: an interrupted download leaves nothing),
   checked against the pinned SHA-256 and size; a file published inside a zip (Google's detector) is taken
   out of the archive and checked itself; a zip data set is unpacked next to it. Skipped when
   ``EXPLAINER_OFFLINE=1``. ``EXPLAINER_DOWNLOAD_MIRROR`` (a base URL) fetches every file by its published
   file name from there instead (a department's mirror; the tests' local server);
d. otherwise one :class:`~explainer.errors.AssetError` that names the file, the command to run before the
   lecture, and the folder to put it in (no absolute server paths in the app's text).

This module imports neither torch nor Streamlit.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable
from urllib.parse import urlparse

from explainer.errors import AssetError

#: Where downloads go (default ``~/.cache/mobilenet-explainer``).
CACHE_ENV = "EXPLAINER_CACHE_DIR"
#: The folder for model files (``.pth``, ``.npz``, ``.tflite``, label files).
WEIGHTS_DIR_ENV = "EXPLAINER_WEIGHTS_DIR"
#: The folder for data sets (e.g. the ants/bees photos).
DATA_DIR_ENV = "EXPLAINER_DATA_DIR"
#: Set to 1 to never download (e.g. during a lecture on a flaky network, or in the Docker image).
OFFLINE_ENV = "EXPLAINER_OFFLINE"
#: A base URL that serves every file under its published file name, used instead of the publishers' URLs.
MIRROR_ENV = "EXPLAINER_DOWNLOAD_MIRROR"
#: Seconds to wait for the download server before declaring the machine offline.
DOWNLOAD_TIMEOUT = 15.0

#: ``progress(done_bytes, total_bytes)``; ``total_bytes`` is 0 when unknown.
Progress = Callable[[int, int], None]

#: What a record is, in the order ``fetch --status`` lists them.
KINDS: tuple[str, ...] = ("weights", "tflite", "labels", "dataset")


@dataclass(frozen=True)
class Asset:
    """One file the app may fetch, pinned by its checksum.

    ``filename`` is the name looked up in folders and kept in the cache. ``sha256`` and ``size`` describe that
    file — except for torchvision's weights, whose publisher gives only the first hex digits of the SHA-256 (in
    the file name, torchvision's own check) and no exact size: ``sha256`` is then that prefix and ``size`` 0.
    ``member``: the file is published inside the zip at ``url`` under this name. ``unpack``: the record is a zip
    whose folder ``unpacked`` is what the app uses (``sha256``/``size`` are the zip's).
    """

    key: str  # the name on the command line (``fetch KEY``), e.g. "deeplabv3_mnv2_pascal_quant"
    filename: str
    url: str  # "" when nobody publishes the file (it can only come from a folder)
    sha256: str
    size: int  # bytes; 0 when not published
    kind: str = "tflite"  # one of KINDS
    licence: str = ""
    source: str = ""  # who publishes it (shown to users)
    pages: tuple[str, ...] = ()  # the pages (slugs of app.py) that use it
    folder_env: str = WEIGHTS_DIR_ENV
    member: str = ""
    unpack: bool = False
    unpacked: str = ""
    torch_cache: bool = False  # also looked up in torchvision's cache
    also: tuple[str, ...] = ()  # other names (glob patterns) a folder may hold it under, e.g. the user's own file

    @property
    def downloadable(self) -> bool:
        return bool(self.url)

    @property
    def archive(self) -> str:
        """The published file's name (the zip's for a ``member``)."""
        return PurePosixPath(urlparse(self.url).path).name if self.url else ""

    def download_url(self) -> str:
        """The pinned URL, or the same file name under ``$EXPLAINER_DOWNLOAD_MIRROR``."""
        mirror = os.environ.get(MIRROR_ENV, "").strip()
        return f"{mirror.rstrip('/')}/{self.archive}" if mirror and self.url else self.url


CATALOGUE: dict[str, Asset] = {}


def register(asset: Asset) -> Asset:
    """Add ``asset`` to :data:`CATALOGUE`; a second record of the same key or file name is an error."""
    if asset.kind not in KINDS:
        raise ValueError(f"{asset.key}: unknown kind {asset.kind!r}")
    if any(a.filename == asset.filename for a in CATALOGUE.values()) or CATALOGUE.setdefault(asset.key, asset) is not asset:
        raise ValueError(f"{asset.key} registered twice")
    return asset


_TORCHVISION = "https://download.pytorch.org/models/"
_CORAL = "https://github.com/google-coral/test_data/raw/master/"
_TFLITE_ZOO = "https://storage.googleapis.com/download.tensorflow.org/models/tflite/"
_CLASSIFY_PAGES = ("classify", "feature_maps", "conv_trace", "transfer", "quantize")

# torchvision's ImageNet weights (the default ``Weights`` of each MobileNet; tests/test_catalogue.py compares the
# URLs with torchvision's enums). BSD-3-Clause like torchvision; the size is torchvision's rounded _file_size.
for _name, _file in (("mobilenet_v2", "mobilenet_v2-7ebf99e0.pth"),
                     ("mobilenet_v3_large", "mobilenet_v3_large-5c1a4163.pth"),
                     ("mobilenet_v3_small", "mobilenet_v3_small-047dcff4.pth")):
    register(Asset(_name, _file, _TORCHVISION + _file, _file.rsplit("-", 1)[1].split(".")[0], 0, kind="weights",
                   licence="BSD-3-Clause", source="torchvision (download.pytorch.org)", pages=_CLASSIFY_PAGES,
                   torch_cache=True, also=(f"{_name}.pth",)))
# A folder may hold a user's own <name>.pth instead (torchvision's layout, preprocessed as IMAGENET1K_V1).
# Nobody publishes MobileNetV1 for PyTorch: a folder may hold mobilenet_v1.pth, or a released V1 with batch norm
# folded in as mobilenet_v1_<α>_<resolution>_imagenet.npz (the widest, then highest resolution, is used).
register(Asset("mobilenet_v1", "mobilenet_v1.pth", "", "", 0, kind="weights", source="your own file",
               pages=_CLASSIFY_PAGES, also=("mobilenet_v1_*_imagenet.npz",)))
# Google's released int8 models, byte for byte from google-coral/test_data.
register(Asset("deeplabv3_mnv2_pascal_quant", "deeplabv3_mnv2_pascal_quant.tflite",
               _CORAL + "deeplabv3_mnv2_pascal_quant.tflite",
               "350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398", 2_193_224,
               licence="Apache-2.0", source="google-coral/test_data", pages=("segment",)))
register(Asset("deeplabv3_mnv2_dm05_pascal_quant", "deeplabv3_mnv2_dm05_pascal_quant.tflite",
               _CORAL + "deeplabv3_mnv2_dm05_pascal_quant.tflite",
               "0470d2a782aa54eeeb99d32e7b6b3fb7722905c7c4f5d26bd957ec861366d48b", 760_904,
               licence="Apache-2.0", source="google-coral/test_data", pages=("segment",)))
register(Asset("mobilenet_v2_1.0_224_quant", "mobilenet_v2_1.0_224_quant.tflite",
               _CORAL + "mobilenet_v2_1.0_224_quant.tflite",
               "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", 3_610_798,
               licence="Apache-2.0", source="google-coral/test_data", pages=("quantize",)))
# Google's TensorFlow Lite starter detector (SSD-MobileNetV1, COCO, int8) and its labels, both published inside
# one zip: the unpacked files are pinned (detect.tflite and labelmap.txt in the archive).
_SSD_ZIP = _TFLITE_ZOO + "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.zip"
register(Asset("ssd_mobilenet_v1_coco_quant", "ssd_mobilenet_v1_coco_quant.tflite", _SSD_ZIP,
               "e4b118e5e4531945de2e659742c7c590f7536f8d0ed26d135abcfe83b4779d13", 4_183_312,
               licence="Apache-2.0", source="TensorFlow Lite models (storage.googleapis.com)", pages=("detect",),
               member="detect.tflite"))
register(Asset("coco_labelmap", "coco_labelmap.txt", _SSD_ZIP,
               "c7e79c855f73cbba9f33d649d60e1676eb0a974021a41696d1ac0d4b7f7e0211", 665, kind="labels",
               licence="Apache-2.0", source="TensorFlow Lite models (storage.googleapis.com)", pages=("detect",),
               member="labelmap.txt"))
# The ants-vs-bees set of PyTorch's transfer-learning tutorial (sha256 as pinned by pytorch/tutorials'
# .jenkins/download_data.py). It unpacks to hymenoptera_data/{train,val}/{ants,bees}.
register(Asset("hymenoptera_data", "hymenoptera_data.zip", "https://download.pytorch.org/tutorial/hymenoptera_data.zip",
               "fbc41b31d544714d18dd1230b1e2b455e1557766e13e67f9f5a7a23af7c02209", 47_286_322, kind="dataset",
               licence="BSD-3-Clause (PyTorch tutorials)", source="PyTorch tutorials (download.pytorch.org)",
               pages=("transfer",), folder_env=DATA_DIR_ENV, unpack=True, unpacked="hymenoptera_data"))


def get(key: str) -> Asset:
    """The record ``key``; :class:`AssetError` naming the known keys otherwise."""
    asset = CATALOGUE.get(key)
    if asset is None:
        raise AssetError("assets.unknown", name=key, choices=", ".join(CATALOGUE))
    return asset


def of_kind(kind: str) -> dict[str, Asset]:
    return {key: asset for key, asset in CATALOGUE.items() if asset.kind == kind}


# --------------------------------------------------------------------------
# Where things are
# --------------------------------------------------------------------------


def offline() -> bool:
    """Whether downloads are switched off (``EXPLAINER_OFFLINE=1``)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def cache_root() -> Path:
    """The app's download cache (``$EXPLAINER_CACHE_DIR`` or ``~/.cache/mobilenet-explainer``)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "mobilenet-explainer"


def torch_cache() -> Path:
    """torchvision's download cache, ``$TORCH_HOME/hub/checkpoints`` (read only: we never write there)."""
    home = os.environ.get("TORCH_HOME", "").strip()
    if home:
        return Path(home).expanduser() / "hub" / "checkpoints"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(xdg or Path.home() / ".cache").expanduser() / "torch" / "hub" / "checkpoints"


def user_folder(env: str = WEIGHTS_DIR_ENV, explicit: str | Path | None = None) -> Path | None:
    """The folder the user named (``explicit``, else ``$env``), or ``None``; a named folder that is missing is
    an error (a typo must not fall through to a download)."""
    if explicit is not None and str(explicit) != "":
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            raise AssetError("assets.no_dir", dir=str(folder))
        return folder
    configured = os.environ.get(env, "").strip()
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise AssetError("assets.no_dir_env", dir=str(folder), env=env)
        return folder
    return None


@dataclass(frozen=True)
class Located:
    """Where an asset would come from, found without downloading anything."""

    asset: Asset
    kind: str  # "folder", "cache", "download" or "missing"
    path: Path | None = None  # the usable file or folder ("folder"/"cache"), the download's target ("download")

    @property
    def available(self) -> bool:
        return self.kind in ("folder", "cache")

    def describe(self) -> str:
        """Where it comes from, without absolute paths (for pages): e.g. ``"folder: x.tflite"``."""
        name = self.path.name if self.path is not None else self.asset.filename
        return f"{self.kind}: {name}"


def _usable_in(asset: Asset, folder: Path) -> Path | None:
    if asset.unpack:
        for candidate in (folder / asset.unpacked, folder):
            if candidate.is_dir() and candidate.name == asset.unpacked:
                return candidate
        archive = folder / asset.filename
        return archive if archive.is_file() else None
    candidate = folder / asset.filename
    if candidate.is_file():
        return candidate
    for pattern in asset.also:  # the largest numbers in the name first (the widest, highest-resolution V1)
        found = [p for p in folder.glob(pattern) if p.is_file()]
        if found:
            return max(found, key=lambda p: tuple(float(x) for x in re.findall(r"\d+(?:\.\d+)?", p.name)))
    return None


def _caches(asset: Asset) -> list[Path]:
    return [cache_root()] + ([torch_cache()] if asset.torch_cache else [])


def locate(asset: Asset, folder: str | Path | None = None, *, download: bool = True) -> Located:
    """Which step (a → d above) supplies ``asset``; nothing is downloaded or unpacked."""
    user = user_folder(asset.folder_env, folder)
    if user is not None:
        found = _usable_in(asset, user)
        if found is not None:
            return Located(asset, "folder", found)
    for cache in _caches(asset):
        cached = _usable_in(asset, cache)
        if cached is not None and (not asset.unpack or cached.is_dir()):
            return Located(asset, "cache", cached)
    if download and asset.downloadable and not offline():
        return Located(asset, "download", cache_root() / asset.filename)
    return Located(asset, "missing")


def missing(asset: Asset) -> AssetError:
    """The one offline message: which file, which command before the lecture, which folder."""
    if not asset.downloadable:
        return AssetError("assets.not_published", file=asset.filename, env=asset.folder_env)
    return AssetError("assets.offline", file=asset.filename, name=asset.key, env=asset.folder_env)


# --------------------------------------------------------------------------
# Fetching (step c)
# --------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def matches(asset: Asset, path: Path) -> bool:
    """Whether ``path`` is the pinned file: its size (when published) and SHA-256 (or its published prefix)."""
    if asset.size and path.stat().st_size != asset.size:
        return False
    return sha256_of(path).startswith(asset.sha256) if asset.sha256 else True


class _Bar:
    """pooch's progress-bar protocol (``total``, ``update``, ``reset``, ``close``) feeding ``progress(done, total)``."""

    def __init__(self, progress: Progress, size: int):
        self.progress, self.total, self.done = progress, size, 0

    def update(self, n: int) -> None:
        self.done = min(self.done + int(n), self.total) if self.total else self.done + int(n)
        self.progress(self.done, self.total)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        pass


def _download(asset: Asset, into: Path, name: str, known: str | None, progress: Progress | None,
              timeout: float) -> Path:
    """The published file, downloaded by pooch into ``into/name`` (checked against ``known`` when given)."""
    import logging

    import pooch
    import requests

    pooch.get_logger().setLevel(logging.WARNING)
    url = asset.download_url()
    bar = _Bar(progress, asset.size if not asset.member else 0) if progress is not None else False
    downloader = pooch.HTTPDownloader(progressbar=bar, timeout=timeout, chunk_size=1 << 16, headers={"User-Agent": "mobilenet-explainer"})
    try:
        return Path(pooch.retrieve(url, known_hash=f"sha256:{known}" if known else None, fname=name, path=into,
                                   downloader=downloader))
    except ValueError as err:  # pooch: the hash does not match (the temporary file is gone)
        raise AssetError("assets.bad_download", file=asset.filename, url=url) from err
    except (requests.exceptions.RequestException, OSError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise AssetError("assets.download_failed", file=asset.filename, url=url, detail=str(reason),
                         name=asset.key, env=asset.folder_env) from err


def _take_member(asset: Asset, archive: Path, target: Path) -> Path:
    """Copy ``asset.member`` out of the zip ``archive`` to ``target`` if it is the pinned file."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            names = {PurePosixPath(info.filename).name: info.filename for info in zipped.infolist()}
            if asset.member not in names:
                raise AssetError("assets.bad_archive", file=archive.name)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".partial") as out:
                with zipped.open(names[asset.member]) as member:
                    shutil.copyfileobj(member, out)
    except zipfile.BadZipFile as err:
        raise AssetError("assets.bad_archive", file=archive.name) from err
    staged = Path(out.name)
    if not matches(asset, staged):
        staged.unlink()
        raise AssetError("assets.bad_download", file=asset.filename, url=asset.download_url())
    os.replace(staged, target)
    return target


def fetch(asset: Asset, progress: Progress | None = None, *, into: Path | None = None,
          timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download ``asset`` into the cache (or ``into``), checked, unpacked where it is a zip; the usable path.

    Already there: returns at once. Offline, or nobody publishes it: the :func:`missing` error.
    """
    into = Path(into) if into is not None else cache_root()
    found = _usable_in(asset, into)
    if found is not None and (not asset.unpack or found.is_dir()):
        return found
    if offline() or not asset.downloadable:
        raise missing(asset)
    into.mkdir(parents=True, exist_ok=True)
    target = into / asset.filename
    if asset.member:
        archive = _download(asset, into, asset.archive, None, progress, timeout)
        return _take_member(asset, archive, target)
    exact = len(asset.sha256) == 64
    path = _download(asset, into, asset.filename, asset.sha256 if exact else None, progress, timeout)
    if not matches(asset, path):  # a published prefix, or a wrong size
        path.unlink()
        raise AssetError("assets.bad_download", file=asset.filename, url=asset.download_url())
    return unpack(asset, path, into) if asset.unpack else path


def unpack(asset: Asset, archive: Path, into: Path) -> Path:
    """Unpack ``archive`` (a zip) into ``into``; return the folder ``asset.unpacked``. Refuses paths leaving ``into``."""
    destination = into / asset.unpacked
    if destination.is_dir():
        return destination
    staging = Path(tempfile.mkdtemp(dir=into, prefix=".unpack-"))
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                resolved = (staging / member.filename).resolve()
                if not resolved.is_relative_to(staging.resolve()):
                    raise AssetError("assets.bad_archive", file=archive.name)
            zipped.extractall(staging)
        produced = staging / asset.unpacked
        if not produced.is_dir():
            raise AssetError("assets.bad_archive", file=archive.name)
        os.replace(produced, destination)
    except zipfile.BadZipFile as err:
        raise AssetError("assets.bad_archive", file=archive.name) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def require(asset: Asset, folder: str | Path | None = None, progress: Progress | None = None, *,
            download: bool = True) -> Path:
    """The usable path of ``asset`` from the first step that has it (a → c), or the :func:`missing` error (d)."""
    where = locate(asset, folder, download=download)
    if where.kind == "folder":
        if asset.unpack and where.path is not None and where.path.is_file():
            cache = cache_root()
            cache.mkdir(parents=True, exist_ok=True)
            return unpack(asset, where.path, cache)
        return where.path  # type: ignore[return-value]
    if where.kind == "cache":
        return where.path  # type: ignore[return-value]
    if where.kind == "download":
        return fetch(asset, progress)
    raise missing(asset)


def status(folder: str | Path | None = None, data_folder: str | Path | None = None) -> list[Located]:
    """Where every record would come from right now (``fetch --status``)."""
    return [locate(asset, data_folder if asset.folder_env == DATA_DIR_ENV else folder) for asset in CATALOGUE.values()]
