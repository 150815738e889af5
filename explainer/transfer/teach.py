"""From labelled photos to a trained, evaluated head: the steps the page, the CLI and the tests share.

:func:`fit` reads features (:mod:`~explainer.transfer.embed`), drops photos that
cannot be decoded (reported with the skipped files), checks the set again,
splits off the hold-out photos (:func:`~explainer.transfer.datasets.holdout_split`),
trains the head on the rest (:func:`~explainer.transfer.head.train_head`) and
evaluates it on the held-out ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from explainer.transfer.datasets import LabelledSet, check_trainable, holdout_split
from explainer.transfer.embed import embed_photos
from explainer.transfer.head import CurvePoint, Evaluation, TrainedHead, evaluate, train_head
from explainer.weights import LoadedModel


@dataclass(frozen=True)
class TrainingRun:
    """Everything one training produced (the page keeps this in the session; the CLI prints :meth:`as_dict`)."""

    data: LabelledSet  # the photos used (decodable ones), their classes, and every skipped file
    features: np.ndarray = field(repr=False)  # float32 [N, D], row i = data.photos[i]
    train_idx: np.ndarray = field(repr=False)
    holdout_idx: np.ndarray = field(repr=False)
    trained: TrainedHead = field(repr=False)
    holdout: Evaluation = field(repr=False)
    feature_seconds: float = 0.0
    computed: int = 0  # photos that went through the network (the rest came from the feature cache)

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels

    @property
    def seconds(self) -> float:
        return self.feature_seconds + self.trained.seconds

    def as_dict(self, out: str | None = None) -> dict:
        """``python -m explainer train --json``."""
        head = self.trained.head
        return {
            "model": head.model,
            "classes": list(head.classes),
            "n_train": int(len(self.train_idx)),
            "n_holdout": int(len(self.holdout_idx)),
            "holdout_accuracy": self.holdout.accuracy,
            "seconds": round(self.seconds, 3),
            "skipped": [s.as_dict() for s in self.data.skipped],
            "out": out,
        }


def fit(data: LabelledSet, loaded: LoadedModel, *, embed_progress: Callable[[int, int], None] | None = None,
        callback: Callable[[CurvePoint], None] | None = None) -> TrainingRun:
    """Features → hold-out split → head → evaluation (see the module docstring)."""
    check_trainable(data)
    start = time.perf_counter()
    embedded = embed_photos(data.photos, loaded, progress=embed_progress)
    feature_seconds = time.perf_counter() - start
    kept = LabelledSet(data.classes, tuple(data.photos[int(i)] for i in embedded.kept),
                       tuple(data.skipped) + tuple(embedded.skipped))
    check_trainable(kept)
    labels = kept.labels
    train_idx, holdout_idx = holdout_split(labels)
    features = embedded.features
    trained = train_head(features[train_idx], labels[train_idx], kept.classes, model=loaded.name,
                         weights_id=loaded.weights_id, holdout=(features[holdout_idx], labels[holdout_idx]),
                         callback=callback)
    result = evaluate(trained.head, features[holdout_idx], labels[holdout_idx])
    return TrainingRun(kept, features, train_idx, holdout_idx, trained, result, feature_seconds, embedded.computed)
