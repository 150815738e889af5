"""A 2-D map of feature vectors: principal component analysis (PCA).

The vectors are centred on their mean and projected on the two directions of
largest variance (the first two right singular vectors of the centred matrix,
``numpy.linalg.svd``). Each axis' sign is fixed so that its largest loading is
positive (SVD may return either sign), so the same photos always give the same
picture. ``explained`` is each axis' share of the total variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    points: np.ndarray  # [N, 2]
    explained: tuple[float, float]  # share of the total variance on each axis
    mean: np.ndarray  # [D]
    axes: np.ndarray  # [2, D]

    def project(self, features: np.ndarray) -> np.ndarray:
        """Where other vectors (e.g. a new photo) fall on the same map."""
        return (np.atleast_2d(np.asarray(features, dtype=np.float64)) - self.mean) @ self.axes.T


def pca_2d(features: np.ndarray) -> Projection:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError("PCA needs at least two vectors")
    mean = x.mean(axis=0)
    centred = x - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2].copy()
    if axes.shape[0] < 2:  # a single feature dimension: pad with a zero axis
        axes = np.vstack([axes, np.zeros_like(axes[0])])
    for k in range(2):
        if axes[k, np.argmax(np.abs(axes[k]))] < 0:
            axes[k] = -axes[k]
    variance = singular ** 2
    total = float(variance.sum()) or 1.0
    explained = tuple(float(v / total) for v in (list(variance[:2]) + [0.0, 0.0])[:2])
    return Projection(centred @ axes.T, explained, mean, axes)  # type: ignore[arg-type]
