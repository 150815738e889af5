"""Sample photos bundled with installed packages, so the app works without network or uploads.

``grace_hopper.jpg`` ships with matplotlib, the others with scikit-image
(``skimage.data``). Each sample is returned as the file's own bytes, so it
goes through exactly the same :func:`explainer.images.load_image` path as an
upload.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from explainer.errors import ImageError


@dataclass(frozen=True)
class Sample:
    """One bundled photo: ``key`` (also its locale key ``images.sample_<key>``) and where it comes from."""

    key: str
    filename: str
    package: str  # "matplotlib" or "scikit-image"


#: The bundled photos, in the order the app offers them.
SAMPLES: tuple[Sample, ...] = (
    Sample("grace_hopper", "grace_hopper.jpg", "matplotlib"),
    Sample("chelsea", "chelsea.png", "scikit-image"),
    Sample("coffee", "coffee.png", "scikit-image"),
    Sample("astronaut", "astronaut.png", "scikit-image"),
    Sample("rocket", "rocket.jpg", "scikit-image"),
    Sample("camera", "camera.png", "scikit-image"),
)
SAMPLE_KEYS: tuple[str, ...] = tuple(s.key for s in SAMPLES)


def _sample(key: str) -> Sample:
    for sample in SAMPLES:
        if sample.key == key:
            return sample
    raise ImageError("image.unknown_sample", name=key, choices=", ".join(SAMPLE_KEYS))


@lru_cache(maxsize=None)
def sample_bytes(key: str) -> tuple[bytes, str]:
    """``(file bytes, file name)`` of the bundled sample ``key``; no network is ever used."""
    sample = _sample(key)
    if sample.package == "matplotlib":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(sample.filename, asfileobj=True) as handle:
            return handle.read(), sample.filename
    import skimage.data

    path = Path(skimage.data.__file__).parent / sample.filename
    if path.is_file():
        return path.read_bytes(), sample.filename
    # Not shipped as a file in this scikit-image build: encode the array it returns.
    from PIL import Image

    array = getattr(skimage.data, sample.key)()
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue(), sample.key + ".png"


def available_samples() -> tuple[str, ...]:
    """The keys of the samples that can be loaded on this machine."""
    keys = []
    for sample in SAMPLES:
        try:
            sample_bytes(sample.key)
        except Exception:  # noqa: BLE001 - a package without its data files: just don't offer it
            continue
        keys.append(sample.key)
    return tuple(keys)
