"""Files the app needs besides torchvision's weights: one resolution chain for all of them.

An :class:`Asset` is a file described as data (name, pinned URL, SHA-256,
size), like torchvision's ``Weights`` records. Where it comes from, in order
(:func:`locate`):

a. **a folder** the user names: ``--weights-dir`` / ``EXPLAINER_WEIGHTS_DIR``
   for model files, ``--data-dir`` / ``EXPLAINER_DATA_DIR`` for data sets
   (the asset's ``folder_env``); the file (or, for a zip, the folder it
   unpacks to) is looked up there by name;
b. **the app's cache**, ``$EXPLAINER_CACHE_DIR`` or
   ``~/.cache/mobilenet-explainer``, where downloads go;
c. **a one-time download** of the pinned URL (:func:`fetch_asset`), with a
   progress callback, checked against the size and SHA-256, written to a
   temporary file and renamed (an interrupted download leaves nothing);
   a zip is unpacked into the cache next to it; skipped when
   ``EXPLAINER_OFFLINE=1``;
d. otherwise an :class:`~explainer.errors.AssetError` whose message says
   which file to put where (no absolute server paths in the app's text).

:func:`require` walks the chain and returns a path or raises that error.
``explainer.weights`` does the same for torchvision's own weights.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from explainer.errors import AssetError

#: Where downloads go (default ``~/.cache/mobilenet-explainer``).
CACHE_ENV = "EXPLAINER_CACHE_DIR"
#: The folder for model files (the same as for ``.pth`` weights).
WEIGHTS_DIR_ENV = "EXPLAINER_WEIGHTS_DIR"
#: The folder for data sets (e.g. the ants/bees photos).
DATA_DIR_ENV = "EXPLAINER_DATA_DIR"
OFFLINE_ENV = "EXPLAINER_OFFLINE"
DOWNLOAD_TIMEOUT = 15.0

#: ``progress(done_bytes, total_bytes)``; ``total_bytes`` is 0 when unknown.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Asset:
    """One downloadable file, pinned by its checksum.

    ``filename`` is what is looked up in the folder and stored in the cache.
    For ``unpack=True`` (a zip), the usable thing is the folder ``unpacked``
    inside the archive (e.g. ``hymenoptera_data``); in a user's folder either
    that folder or the zip itself is accepted. With ``member`` the publisher
    ships the file only inside a zip (e.g. Google's ``detect.tflite``): the
    zip is downloaded to a temporary file, that one member is taken out,
    checked against ``size`` and ``sha256`` (the pin is on what is unpacked)
    and stored as ``filename``; the zip is not kept.
    """

    key: str  # short id, e.g. "deeplabv3_mnv2_pascal_quant"
    filename: str
    url: str
    sha256: str
    size: int  # bytes of the download
    folder_env: str = WEIGHTS_DIR_ENV
    unpack: bool = False
    unpacked: str = ""  # the folder inside the zip to use
    source: str = ""  # who publishes it (shown to users), e.g. "google-coral/test_data"
    member: str = ""  # the URL is a zip and the file is this member of it; sha256/size pin the member


@dataclass(frozen=True)
class Located:
    """Where an asset would come from, found without downloading anything."""

    asset: Asset
    kind: str  # "folder", "cache", "download" or "missing"
    path: Path | None = None  # the usable file or folder ("folder"/"cache"), the cache target ("download")

    @property
    def available(self) -> bool:
        return self.kind in ("folder", "cache")

    def describe(self) -> str:
        """Where it comes from, without absolute paths (for pages): e.g. ``"folder: x.tflite"``."""
        name = self.path.name if self.path is not None else self.asset.filename
        return f"{self.kind}: {name}"


def offline() -> bool:
    """Whether downloads are switched off (``EXPLAINER_OFFLINE=1``)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def cache_root() -> Path:
    """The app's download cache (``$EXPLAINER_CACHE_DIR`` or ``~/.cache/mobilenet-explainer``)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "mobilenet-explainer"


def user_folder(asset: Asset, explicit: str | Path | None = None) -> Path | None:
    """The folder named by the user for this kind of asset, or ``None``; a named folder that is missing is an error."""
    if explicit is not None and str(explicit) != "":
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            raise AssetError("assets.no_dir", dir=folder.name or str(folder))
        return folder
    configured = os.environ.get(asset.folder_env, "").strip()
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise AssetError("assets.no_dir_env", dir=folder.name or str(folder), env=asset.folder_env)
        return folder
    return None


def _usable_in(asset: Asset, folder: Path) -> Path | None:
    if asset.unpack:
        for candidate in (folder / asset.unpacked, folder):
            if candidate.is_dir() and candidate.name == asset.unpacked:
                return candidate
        archive = folder / asset.filename
        return archive if archive.is_file() else None
    candidate = folder / asset.filename
    return candidate if candidate.is_file() else None


def locate(asset: Asset, folder: str | Path | None = None, *, download: bool = True) -> Located:
    """Which step (a → d above) supplies ``asset``; nothing is downloaded or unpacked."""
    user = user_folder(asset, folder)
    if user is not None:
        found = _usable_in(asset, user)
        if found is not None:
            return Located(asset, "folder", found)
    cache = cache_root()
    cached = _usable_in(asset, cache)
    if cached is not None and (not asset.unpack or cached.is_dir()):
        return Located(asset, "cache", cached)
    if download and not offline():
        return Located(asset, "download", cache / asset.filename)
    return Located(asset, "missing")


def _missing(asset: Asset) -> AssetError:
    return AssetError("assets.offline", file=asset.filename, env=asset.folder_env, url=asset.url)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_asset(asset: Asset, progress: Progress | None = None, *, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download ``asset`` into the cache (checked against size and SHA-256), unpack a zip; return the usable path."""
    cache = cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / asset.filename
    if not target.is_file():
        if offline():
            raise _missing(asset)
        digest = hashlib.sha256()
        tmp_path: str | None = None
        try:
            if asset.member:
                _fetch_member(asset, target, progress, timeout)
                return target
            request = urllib.request.Request(asset.url, headers={"User-Agent": "mobilenet-explainer"})
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - pinned https URL
                total = int(response.headers.get("Content-Length") or asset.size or 0)
                done = 0
                with tempfile.NamedTemporaryFile(dir=cache, delete=False, suffix=".partial") as out:
                    tmp_path = out.name
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            if done != asset.size or digest.hexdigest() != asset.sha256:
                raise AssetError("assets.bad_download", file=asset.filename, url=asset.url)
            os.replace(tmp_path, target)
            tmp_path = None
        except AssetError:
            raise
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as err:
            reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err) or type(err).__name__
            raise AssetError("assets.download_failed", file=asset.filename, url=asset.url, detail=str(reason),
                             env=asset.folder_env) from err
        finally:
            if tmp_path is not None and os.path.exists(tmp_path):
                os.unlink(tmp_path)
    if asset.unpack:
        return unpack(asset, target, cache)
    return target


#: A zip that holds a pinned member may be at most this large (a wrong URL must not fill the disk).
MAX_ARCHIVE_BYTES = 200 * 2**20


def _fetch_member(asset: Asset, target: Path, progress: Progress | None, timeout: float) -> None:
    """Download the zip at ``asset.url``, take ``asset.member`` out of it, check it, store it at ``target``."""
    cache = target.parent
    with tempfile.TemporaryDirectory(dir=cache, prefix=".zip-") as staging:
        archive = Path(staging) / "download.zip"
        request = urllib.request.Request(asset.url, headers={"User-Agent": "mobilenet-explainer"})
        with urllib.request.urlopen(request, timeout=timeout) as response, open(archive, "wb") as out:  # noqa: S310
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                done += len(chunk)
                if done > MAX_ARCHIVE_BYTES:
                    raise AssetError("assets.bad_download", file=asset.filename, url=asset.url)
                if progress is not None:
                    progress(done, total)
        try:
            with zipfile.ZipFile(archive) as zipped:
                info = zipped.getinfo(asset.member)
                if info.file_size != asset.size:
                    raise AssetError("assets.bad_download", file=asset.filename, url=asset.url)
                data = zipped.read(info)
        except (zipfile.BadZipFile, KeyError) as err:
            raise AssetError("assets.bad_archive", file=Path(asset.url).name) from err
        if len(data) != asset.size or hashlib.sha256(data).hexdigest() != asset.sha256:
            raise AssetError("assets.bad_download", file=asset.filename, url=asset.url)
        unpacked = Path(staging) / asset.filename
        unpacked.write_bytes(data)
        os.replace(unpacked, target)


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
    """The usable path of ``asset`` from the first step that has it (a → c), or :class:`AssetError` (d)."""
    where = locate(asset, folder, download=download)
    if where.kind == "folder":
        if asset.unpack and where.path is not None and where.path.is_file():
            return unpack(asset, where.path, cache_root())
        return where.path  # type: ignore[return-value]
    if where.kind == "cache":
        return where.path  # type: ignore[return-value]
    if where.kind == "download":
        return fetch_asset(asset, progress)
    raise _missing(asset)
