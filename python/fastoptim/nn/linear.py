"""Fully connected layer in the course's layout: ``y = x @ W + b``."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Linear"]


class Linear:
    """Affine layer ``y = x @ W + b`` with ``W`` of shape ``(in, out)``.

    The layer keeps references to ``W`` and ``b`` (the same arrays an
    optimizer updates in place) and writes its gradients into the
    preallocated arrays ``dW`` and ``db``, which are overwritten by every
    ``backward``.

    Args:
        W: weight array, shape ``(in, out)``.
        b: bias array, shape ``(out,)``, or None for no bias.

    Example:
        >>> import numpy as np
        >>> layer = Linear(np.ones((3, 2)), np.zeros(2))
        >>> layer.forward(np.ones((4, 3))).shape
        (4, 2)
    """

    def __init__(self, W: np.ndarray, b: np.ndarray | None = None):
        if W.ndim != 2:
            raise ValueError(f"W must be 2-D (in, out), got shape {W.shape}")
        if b is not None and b.shape != (W.shape[1],):
            raise ValueError(f"b must have shape ({W.shape[1]},), got {b.shape}")
        self.W = W
        self.b = b
        self.dW = np.zeros_like(W)
        self.db = None if b is None else np.zeros_like(b)
        self._x: Any = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self._x = x
        y = x @ self.W
        if self.b is not None:
            y += self.b
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        np.matmul(self._x.T, dout, out=self.dW)
        if self.db is not None:
            np.sum(dout, axis=0, out=self.db)
        return dout @ self.W.T
