"""Labelled photos for transfer learning: folders and zips in ``ImageFolder`` layout, checks, hold-out split.

Layout (torchvision's ``ImageFolder``): one folder per class, the class name is
the folder name, classes in sorted order. :func:`find_class_root` accepts a
folder that directly holds the class folders, or one that holds a ``train/``
subfolder with them (the tutorial's ``hymenoptera_data/{train,val}``; ``train``
is used).

Files: every regular file in a class folder is looked at (hidden files and
``__MACOSX`` are ignored). A file is **skipped and reported** (never fatal)
when it is not a photo our loader accepts (read from its header:
:func:`explainer.images.image_header`) or when it is a GIF — GIFs are drawings,
animations or placeholders more often than photos (the ants/bees set's
``imageNotFound.gif``), and torchvision's ``ImageFolder`` skips them too.
In a zip, the class root is the folder whose subfolders hold the photos (``train/``
when there are several, e.g. ``train/`` and ``val/``; files beside it are not read);
a file outside every class folder, or with an absolute or ``..`` path, is reported.
A file whose pixels turn out broken later (a truncated JPEG) is skipped and
reported by :func:`explainer.transfer.embed.embed_photos`.

Zips are read **in memory**, never unpacked to disk: at most
:data:`MAX_ZIP_MEMBERS` entries and :data:`MAX_ZIP_BYTES` uncompressed bytes
(counted while reading, so a lying header does not help a zip bomb), each
photo at most :data:`explainer.images.MAX_FILE_BYTES`, and at most
:data:`MAX_ZIP_DECODE_PIXELS` pixels to decode in all (read from the headers).
"""

from __future__ import annotations

import hashlib
import io

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

import numpy as np

from explainer import catalogue
from explainer.catalogue import Progress, require, user_folder
from explainer.errors import ExplainerError, ImageError, InvalidInputError
from explainer.images import MAX_FILE_BYTES, decode_pixels, image_header

#: Fewest and most classes a head may have (the page's class editor uses the same).
MIN_CLASSES, MAX_CLASSES = 2, 10
#: Fewest readable photos per class: one to learn from and one to hold out.
MIN_PER_CLASS = 2
#: Most photos one data set may hold (a folder, a zip, or one session of the page).
MAX_PHOTOS = 2000
#: Longest class name, in characters.
MAX_CLASS_NAME = 40
#: Zip limits: entries, and uncompressed bytes in all.
MAX_ZIP_MEMBERS = 4000
MAX_ZIP_BYTES = 300 * 1024 * 1024
#: Pixels one zip may make the server decode in all (JPEGs at their draft scale, see
#: :func:`explainer.images.decode_pixels`): 200 phone photos are about 40 M; many large PNGs are refused.
MAX_ZIP_DECODE_PIXELS = 200_000_000
#: Every fifth photo of a class (in sorted name order) is held out for testing.
HOLDOUT_EVERY = 5
#: A class holding more than this many times the photos of the smallest class makes the set "unbalanced".
BALANCE_RATIO = 2.0

#: The ants-vs-bees set of PyTorch's transfer-learning tutorial (a catalogue record).
ANTS_BEES = catalogue.get("hymenoptera_data")
#: Its classes, in ImageFolder order.
ANTS_BEES_CLASSES = ("ants", "bees")


@dataclass(frozen=True)
class Photo:
    """One labelled photo: its bytes in memory (uploads, zips) or a file on disk (folders)."""

    name: str  # as shown to users: "ants/ant photos.jpg" or the upload's file name
    label: int
    digest: str  # SHA-256 of the file's bytes (the feature cache's key)
    data: bytes | None = field(default=None, repr=False, compare=False)
    path: Path | None = field(default=None, compare=False)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ImageError("image.not_found", name=self.name)
        try:
            return self.path.read_bytes()
        except OSError as err:
            raise ImageError("image.unreadable", name=self.name, detail=err.strerror or type(err).__name__) from err

    @property
    def nbytes(self) -> int:
        """Bytes this record keeps in memory (0 for a file on disk)."""
        return len(self.data) if self.data is not None else 0


@dataclass(frozen=True)
class Skipped:
    """A file that was left out, and why."""

    name: str
    error: ExplainerError

    def reason(self, lang: str = "en") -> str:
        return self.error.message(lang)

    def as_dict(self) -> dict[str, str]:
        return {"file": self.name, "reason": self.reason("en")}


@dataclass(frozen=True)
class LabelledSet:
    """Photos with class labels (``photos[i].label`` indexes ``classes``), and the files skipped."""

    classes: tuple[str, ...]
    photos: tuple[Photo, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def labels(self) -> np.ndarray:
        return np.array([p.label for p in self.photos], dtype=np.int64)

    def counts(self) -> list[int]:
        found = [0] * len(self.classes)
        for photo in self.photos:
            found[photo.label] += 1
        return found

    def subset(self, indices: Iterable[int]) -> LabelledSet:
        return LabelledSet(self.classes, tuple(self.photos[i] for i in indices), self.skipped)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def check_class_names(names: Sequence[str]) -> tuple[str, ...]:
    """Stripped class names if there are 2–10, none empty or too long, no two alike (ignoring case)."""
    cleaned = tuple(str(n).strip() for n in names)
    if not MIN_CLASSES <= len(cleaned) <= MAX_CLASSES:
        raise InvalidInputError("transfer.class_count", n=len(cleaned), low=MIN_CLASSES, high=MAX_CLASSES)
    seen: set[str] = set()
    for name in cleaned:
        if not name:
            raise InvalidInputError("transfer.empty_class_name")
        if len(name) > MAX_CLASS_NAME:
            raise InvalidInputError("transfer.class_name_too_long", name=name[:MAX_CLASS_NAME] + "…",
                                    limit=MAX_CLASS_NAME)
        if name.casefold() in seen:
            raise InvalidInputError("transfer.duplicate_class", name=name)
        seen.add(name.casefold())
    return cleaned


def check_trainable(data: LabelledSet) -> LabelledSet:
    """``data`` if it can train a head: 2–10 classes, each with at least :data:`MIN_PER_CLASS` readable photos."""
    check_class_names(data.classes)
    for name, count in zip(data.classes, data.counts()):
        if count == 0:
            raise InvalidInputError("transfer.empty_class", name=name)
        if count < MIN_PER_CLASS:
            raise InvalidInputError("transfer.too_few_photos", name=name, n=count, min=MIN_PER_CLASS)
    return data


@dataclass(frozen=True)
class Balance:
    """How evenly the photos spread over the classes."""

    counts: tuple[int, ...]
    ratio: float  # largest class / smallest class (inf when one is empty)
    balanced: bool  # ratio <= BALANCE_RATIO


def balance(data: LabelledSet) -> Balance:
    counts = tuple(data.counts())
    low, high = min(counts, default=0), max(counts, default=0)
    ratio = float("inf") if low == 0 else high / low
    return Balance(counts, ratio, ratio <= BALANCE_RATIO)


# --------------------------------------------------------------------------
# Hold-out split
# --------------------------------------------------------------------------


def holdout_split(labels: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(train indices, hold-out indices)``: per class, in the given order, every fifth photo
    (the 5th, 10th, …) is held out; a class with 2–4 photos holds out its last one."""
    labels = np.asarray(labels, dtype=np.int64)
    train: list[int] = []
    held: list[int] = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label).tolist()
        out = [i for k, i in enumerate(members) if k % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
        if not out and len(members) >= 2:
            out = [members[-1]]
        held.extend(out)
        chosen = set(out)
        train.extend(i for i in members if i not in chosen)
    return np.array(sorted(train), dtype=np.int64), np.array(sorted(held), dtype=np.int64)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _ignored(part: str) -> bool:
    return (part.startswith(".") and part != "..") or part == "__MACOSX" or part == "Thumbs.db"


def check_photo(data: bytes, name: str) -> int:
    """Raise :class:`ImageError` unless ``data`` is a photo to train on (header read only; GIFs are skipped);
    return the pixels its decoding will cost (:func:`explainer.images.decode_pixels` at :data:`COMPACT_SIDE`)."""
    fmt, width, height = image_header(data, name)
    if fmt == "GIF":
        raise ImageError("transfer.gif_skipped", name=name)
    return decode_pixels(fmt, width, height, COMPACT_SIDE)


def _add(photos: list[Photo], skipped: list[Skipped], name: str, label: int, data: bytes,
         path: Path | None) -> int:
    """Add the photo (or skip it); the pixels its decoding will cost (0 when skipped)."""
    try:
        pixels = check_photo(data, name)
    except ImageError as err:
        skipped.append(Skipped(name, err))
        return 0
    if len(photos) >= MAX_PHOTOS:
        raise InvalidInputError("transfer.too_many_photos", limit=MAX_PHOTOS)
    photos.append(Photo(name, label, sha256_bytes(data), None if path is not None else data, path))
    return pixels


def find_class_root(folder: str | Path) -> Path:
    """The folder holding the class folders: ``folder`` itself, or its ``train/`` subfolder if it has one."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InvalidInputError("transfer.no_folder", dir=root.name or str(root))
    train = root / "train"
    return train if train.is_dir() else root


def read_image_folder(folder: str | Path) -> LabelledSet:
    """Read a folder in ``ImageFolder`` layout (see the module docstring); files stay on disk.

    Raises :class:`InvalidInputError` for a missing folder or one without class
    folders; unreadable files are listed in ``skipped``. Use
    :func:`check_trainable` before training.
    """
    root = find_class_root(folder)
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not _ignored(d.name))
    if not class_dirs:
        raise InvalidInputError("transfer.empty_folder", dir=root.name)
    if len(class_dirs) > MAX_CLASSES:
        raise InvalidInputError("transfer.class_count", n=len(class_dirs), low=MIN_CLASSES, high=MAX_CLASSES)
    photos: list[Photo] = []
    skipped: list[Skipped] = []
    for label, class_dir in enumerate(class_dirs):
        for path in sorted(class_dir.rglob("*")):
            rel = path.relative_to(root)
            if not path.is_file() or any(_ignored(part) for part in rel.parts):
                continue
            name = rel.as_posix()
            try:
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:
                    raise ImageError("image.file_too_large", name=name, mb=f"{size / 2**20:.1f}",
                                     limit=MAX_FILE_BYTES // 2**20)
                data = path.read_bytes()
            except ImageError as err:
                skipped.append(Skipped(name, err))
                continue
            except OSError as err:
                skipped.append(Skipped(name, ImageError("image.unreadable", name=name,
                                                        detail=err.strerror or type(err).__name__)))
                continue
            _add(photos, skipped, name, label, data, path)
    return LabelledSet(tuple(d.name for d in class_dirs), tuple(photos), tuple(skipped))


def _zip_class_root(names: list[str]) -> str:
    """The folder inside a zip whose subfolders are the classes (prefers one named ``train``)."""
    roots: dict[str, int] = {}
    for name in names:
        parts = PurePosixPath(name).parts
        if len(parts) >= 2:
            root = "/".join(parts[:-2])
            roots[root] = roots.get(root, 0) + 1
    if not roots:
        raise InvalidInputError("transfer.zip_layout")
    if len(roots) == 1:
        return next(iter(roots))
    trains = [r for r in roots if PurePosixPath(r).name == "train"]
    if len(trains) == 1:
        return trains[0]
    # Photos at several depths, e.g. root/cats/a.jpg and root/cats/more/b.jpg: the shallowest root holds classes.
    shallowest = min(roots, key=lambda r: (len(PurePosixPath(r).parts), r))
    if all(r == shallowest or r.startswith(shallowest + "/" if shallowest else "") for r in roots):
        return shallowest
    raise InvalidInputError("transfer.zip_layout")


def read_zip(source: bytes | str | Path, name: str = "photos.zip", *,
             max_decode_pixels: int = MAX_ZIP_DECODE_PIXELS) -> LabelledSet:
    """Read a zip in ``ImageFolder`` layout in memory (limits in the module docstring).

    Only headers are read here; the pixels the photos will cost to decode are summed from them and a zip
    over ``max_decode_pixels`` is refused (a 100 KB zip of 1-bit 40-megapixel PNGs passes every byte limit).
    """
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    except OSError as err:
        raise InvalidInputError("transfer.bad_zip", name=name) from err
    try:
        with handle, zipfile.ZipFile(handle) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_MEMBERS:
                raise InvalidInputError("transfer.zip_too_many", name=name, n=len(members), limit=MAX_ZIP_MEMBERS)
            members = [m for m in members
                       if not any(_ignored(p) for p in PurePosixPath(m.filename).parts)]
            declared = sum(m.file_size for m in members)
            if declared > MAX_ZIP_BYTES:
                raise InvalidInputError("transfer.zip_too_large", name=name, mb=f"{declared / 2**20:.0f}",
                                        limit=MAX_ZIP_BYTES // 2**20)
            root = _zip_class_root([m.filename for m in members])
            prefix = root + "/" if root else ""
            by_class: dict[str, list[zipfile.ZipInfo]] = {}
            outside: list[str] = []
            for member in members:
                path = PurePosixPath(member.filename)
                if path.is_absolute() or ".." in path.parts:
                    outside.append(member.filename)
                    continue
                if not member.filename.startswith(prefix):
                    continue  # beside the class root, e.g. val/ when train/ is used
                rest = PurePosixPath(member.filename[len(prefix):]).parts
                if len(rest) < 2:
                    outside.append(member.filename)
                    continue
                by_class.setdefault(rest[0], []).append(member)
            classes = sorted(by_class)
            if not classes:
                raise InvalidInputError("transfer.zip_layout")
            if len(classes) > MAX_CLASSES:
                raise InvalidInputError("transfer.class_count", n=len(classes), low=MIN_CLASSES, high=MAX_CLASSES)
            photos: list[Photo] = []
            skipped = [Skipped(n, InvalidInputError("transfer.not_in_class", name=n)) for n in outside]
            total = 0
            pixels = 0
            for label, cls in enumerate(classes):
                for member in sorted(by_class[cls], key=lambda m: m.filename):
                    shown = member.filename[len(prefix):]
                    if member.file_size > MAX_FILE_BYTES:
                        skipped.append(Skipped(shown, ImageError(
                            "image.file_too_large", name=shown, mb=f"{member.file_size / 2**20:.1f}",
                            limit=MAX_FILE_BYTES // 2**20)))
                        continue
                    data = _read_member(archive, member, MAX_FILE_BYTES + 1)
                    total += len(data)
                    if total > MAX_ZIP_BYTES:
                        raise InvalidInputError("transfer.zip_too_large", name=name, mb=f"{total / 2**20:.0f}",
                                                limit=MAX_ZIP_BYTES // 2**20)
                    pixels += _add(photos, skipped, shown, label, data, None)
                    if pixels > max_decode_pixels:
                        raise InvalidInputError("limits.zip_pixels", name=name, limit=max_decode_pixels // 10**6)
            return LabelledSet(tuple(classes), tuple(photos), tuple(skipped))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
            OSError) as err:
        raise InvalidInputError("transfer.bad_zip", name=name) from err


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, reading at most ``limit`` of them (the header's size is not trusted)."""
    chunks = []
    done = 0
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(min(1 << 20, limit - done))
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            if done >= limit:
                break
    return b"".join(chunks)


#: Uploads are kept as a JPEG of at most this shorter side (the networks resize to 232–256 anyway).
COMPACT_SIDE = 320
COMPACT_QUALITY = 90


def compact_photo(data: bytes, name: str) -> bytes:
    """An upload as the page keeps it: decoded safely, shrunk to a shorter side of :data:`COMPACT_SIDE`,
    re-encoded as JPEG (a 4 MB phone photo becomes about 30 KB). Raises :class:`ImageError` for a non-photo
    or a GIF."""
    from PIL import Image

    from explainer.images import load_image

    check_photo(data, name)
    image = load_image(data, name, min_side=COMPACT_SIDE)
    short = min(image.size)
    if short > COMPACT_SIDE:
        scale = COMPACT_SIDE / short
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.BILINEAR, reducing_gap=3.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=COMPACT_QUALITY)
    return out.getvalue()


def read_data(source: str | Path) -> LabelledSet:
    """A folder (see :func:`read_image_folder`) or a ``.zip`` file (see :func:`read_zip`)."""
    path = Path(source).expanduser()
    if path.is_file() and path.suffix.lower() == ".zip":
        return read_zip(path, path.name)
    return read_image_folder(path)


# --------------------------------------------------------------------------
# The demo set
# --------------------------------------------------------------------------


def _has_classes(folder: Path, classes: Sequence[str]) -> bool:
    return all((folder / c).is_dir() for c in classes)


def demo_folder(progress: Progress | None = None, *, download: bool = True) -> Path:
    """The ants/bees ``train`` folder through the data chain (``EXPLAINER_DATA_DIR`` → cache → download).

    In ``EXPLAINER_DATA_DIR`` it accepts ``hymenoptera_data/`` or ``hymenoptera_data.zip`` (as every
    unpacked asset), and also a folder that directly holds ``ants/`` and ``bees/``, or holds ``train/``
    with them (e.g. ``ants_bees/train``). Raises :class:`~explainer.errors.AssetError` when offline
    without it.
    """
    user = user_folder(ANTS_BEES.folder_env)
    if user is not None:
        for candidate in (user, user / "train"):
            if _has_classes(candidate, ANTS_BEES_CLASSES):
                return candidate
    unpacked = require(ANTS_BEES, progress=progress, download=download)
    return find_class_root(unpacked)




