"""Penultimate features of a frozen MobileNet: batched, global-average-pooled, cached by photo + model.

The feature of a photo is ``mean over H, W of model.features(x)`` where ``x`` is
the weights' own preprocessing of the photo (:func:`explainer.classify.preprocess`):
the vector the ImageNet classifier reads (MobileNetV2: 1280 values; V3-Large
960 and V3-Small 576, before their two-layer classifier). The backbone is only
called, never changed, so the model shared by all sessions stays as it is.

Features are cached in this process by ``(model key, SHA-256 of the photo's
bytes)`` in a bounded LRU (:data:`CACHE_ENTRIES`; 4096 × 1280 float32 = 21 MB at
most), shared by the app's sessions and thread-safe: sixty students pressing
"demo set" compute the 245 photos once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from explainer.classify import preprocess
from explainer.errors import ImageError
from explainer.images import WORKING_MIN_SIDE, load_image
from explainer.transfer.datasets import Photo, Skipped
from explainer.weights import LoadedModel

#: Photos per forward pass.
BATCH_SIZE = 16
#: Feature vectors kept in the process-wide cache.
CACHE_ENTRIES = 4096


def model_key(loaded: LoadedModel) -> str:
    """What makes two feature vectors comparable: the model and its weights."""
    return f"{loaded.name}:{loaded.weights_id}:{'pretrained' if loaded.pretrained else 'untrained'}"


def feature_dim(loaded: LoadedModel) -> int:
    """Length of the pooled feature vector (channels of the last feature map)."""
    with torch.inference_mode():
        return int(_pooled(loaded, torch.zeros(1, 3, loaded.input_size, loaded.input_size)).shape[1])


def _pooled(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    return loaded.model.features(batch).mean(dim=(2, 3))


def pooled_features(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    """``[N, D]`` pooled features of a prepared batch ``[N, 3, S, S]`` (no autograd)."""
    with torch.inference_mode():
        pooled = _pooled(loaded, batch).float()
    return pooled.clone()  # an ordinary tensor outside inference mode


class FeatureCache:
    """A bounded, thread-safe LRU of feature vectors keyed by (model key, photo digest)."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._store: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self._lock:
            found = self._store.get(key)
            if found is None:
                self.misses += 1
                return None
            self._store.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[str, str], value: np.ndarray) -> None:
        value = np.asarray(value, dtype=np.float32)
        value.setflags(write=False)
        with self._lock:
            self._store[key] = value
            self._store.move_to_end(key)
            while len(self._store) > self.entries:
                self._store.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._store)


#: The process-wide cache (the app's sessions and the CLI use it).
CACHE = FeatureCache()


@dataclass(frozen=True)
class Embeddings:
    """Feature vectors of the photos that could be decoded, in input order, and those that could not."""

    features: np.ndarray  # float32 [N_ok, D]
    kept: np.ndarray  # int64 [N_ok]: index of each row in the input sequence
    skipped: tuple[Skipped, ...] = ()
    computed: int = 0  # photos that went through the network (the others came from the cache)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # decode+preprocess / forward seconds


def embed_photos(photos: Sequence[Photo], loaded: LoadedModel, *, progress: Callable[[int, int], None] | None = None,
                 cache: FeatureCache | None = CACHE, batch_size: int = BATCH_SIZE) -> Embeddings:
    """Features of ``photos`` (cached ones are not recomputed); broken photos are skipped and reported.

    ``progress(done, total)`` is called after every batch.
    """
    start = time.perf_counter()
    key = model_key(loaded)
    total = len(photos)
    rows: dict[int, np.ndarray] = {}
    todo: list[int] = []
    for i, photo in enumerate(photos):
        found = cache.get((key, photo.digest)) if cache is not None else None
        if found is not None:
            rows[i] = found
        else:
            todo.append(i)
    skipped: list[Skipped] = []
    decode_s = forward_s = 0.0
    done = total - len(todo)
    if progress is not None:
        progress(done, total)
    for first in range(0, len(todo), batch_size):
        chunk = todo[first:first + batch_size]
        tensors, owners = [], []
        t0 = time.perf_counter()
        for i in chunk:
            photo = photos[i]
            try:
                image = load_image(photo.read(), photo.name, min_side=WORKING_MIN_SIDE)
                tensors.append(preprocess(image, loaded)[0])
                owners.append(i)
            except ImageError as err:
                skipped.append(Skipped(photo.name, err))
        t1 = time.perf_counter()
        if tensors:
            vectors = pooled_features(loaded, torch.stack(tensors)).numpy()
            for i, vector in zip(owners, vectors):
                vector = vector.copy()
                rows[i] = vector
                if cache is not None:
                    cache.put((key, photos[i].digest), vector)
        t2 = time.perf_counter()
        decode_s += t1 - t0
        forward_s += t2 - t1
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    kept = np.array(sorted(rows), dtype=np.int64)
    dim = rows[int(kept[0])].shape[0] if len(kept) else 0
    features = np.stack([rows[int(i)] for i in kept]).astype(np.float32) if len(kept) else np.zeros((0, dim), np.float32)
    return Embeddings(features, kept, tuple(skipped), computed=len(todo), seconds=time.perf_counter() - start,
                      timings={"decode_preprocess": decode_s, "forward": forward_s})


def embed_image_bytes(data: bytes, name: str, loaded: LoadedModel, cache: FeatureCache | None = CACHE) -> np.ndarray:
    """The feature vector of one photo given as bytes (raises :class:`ImageError` if it is not one)."""
    from explainer.transfer.datasets import sha256_bytes

    photo = Photo(name, 0, sha256_bytes(data), data)
    result = embed_photos([photo], loaded, cache=cache)
    if result.skipped:
        raise result.skipped[0].error
    return result.features[0]


def classify_with_head(image, loaded: LoadedModel, head, top: int = 5):
    """:class:`explainer.classify.Classification` of ``image`` over ``head``'s classes (probabilities of the
    head on the pooled features; ``top`` at most the number of classes). The CLI's ``classify --head``."""
    from explainer.classify import Classification, Prediction, check_top
    from explainer.transfer.head import check_head_fits

    check_top(top)
    start = time.perf_counter()
    batch = preprocess(image, loaded)
    prepared = time.perf_counter()
    vector = pooled_features(loaded, batch)
    check_head_fits(head, loaded.name, int(vector.shape[1]))
    probs = head.probabilities(vector.numpy())[0]
    done = time.perf_counter()
    order = np.lexsort((np.arange(probs.size), -probs))[:min(top, probs.size)]
    predictions = [Prediction(int(i), head.classes[int(i)], float(probs[int(i)])) for i in order]
    return Classification(model=loaded.name, weights=loaded.weights, pretrained=loaded.pretrained,
                          predictions=predictions, forward_ms=(done - prepared) * 1000.0,
                          preprocess_ms=(prepared - start) * 1000.0, input_tensor=batch)
