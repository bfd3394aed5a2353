"""Element-wise activations: ReLU, Sigmoid, Tanh."""

from __future__ import annotations

import numpy as np

__all__ = ["ReLU", "Sigmoid", "Tanh"]


class ReLU:
    """``max(x, 0)``; NaN stays NaN (as in torch); the gradient at exactly 0
    (and at NaN) is taken as 0."""

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self._mask, dout, 0).astype(dout.dtype, copy=False)


class Sigmoid:
    """``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``."""

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        # exp of a non-positive number only: no overflow warning for |x| > 709.
        e = np.exp(-np.abs(x))
        self._y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._y * (1 - self._y)


class Tanh:
    """Hyperbolic tangent."""

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self._y = np.tanh(x)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1 - self._y * self._y)
