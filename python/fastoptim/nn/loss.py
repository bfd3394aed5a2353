"""Softmax and the cross-entropy loss on top of it."""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "SoftmaxCrossEntropy"]


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(batch, classes)`` scores, shifted by the row max."""
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _labels(t: np.ndarray) -> np.ndarray:
    return t.argmax(axis=1) if t.ndim == 2 else t


class SoftmaxCrossEntropy:
    r"""Mean cross-entropy of the softmax of the scores.

    .. math:: L = -\frac{1}{N} \sum_n \log \operatorname{softmax}(x_n)_{t_n}

    ``t`` is either integer labels of shape ``(N,)`` or one-hot ``(N, C)``.
    ``backward`` returns ``(softmax(x) - onehot(t)) / N``.
    """

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        z = x - x.max(axis=1, keepdims=True)
        logsum = np.log(np.exp(z).sum(axis=1, keepdims=True))
        logp = z - logsum
        self._y = np.exp(logp)
        self._t = _labels(t)
        n = x.shape[0]
        return float(-logp[np.arange(n), self._t].mean())

    def backward(self, dout: float = 1.0) -> np.ndarray:
        n = self._y.shape[0]
        dx = self._y.copy()
        dx[np.arange(n), self._t] -= 1
        dx *= dout / n
        return dx
