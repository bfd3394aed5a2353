"""Batch normalization over the batch axis of 2-D activations."""

from __future__ import annotations

import numpy as np

__all__ = ["BatchNorm"]


class BatchNorm:
    r"""Batch normalization (Ioffe & Szegedy, 2015) for ``(batch, features)``.

    .. math::

        \hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad
        y = \gamma \hat x + \beta

    In training mode ``mu_B`` and ``sigma_B^2`` (biased) are the statistics of
    the batch, and the running statistics are updated as
    ``running = momentum * running + (1 - momentum) * batch`` (the course's
    convention; torch's ``momentum`` is ``1 -`` this one). In evaluation mode
    the running statistics are used.

    Args:
        gamma, beta: scale and shift arrays, shape ``(features,)``; kept by
            reference, gradients go to ``dgamma`` and ``dbeta``.
        momentum: weight of the old running statistics.
        eps: added to the variance.
    """

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, *,
                 momentum: float = 0.9, eps: float = 1e-5):
        if gamma.shape != beta.shape or gamma.ndim != 1:
            raise ValueError(f"gamma and beta must be 1-D of the same shape, "
                             f"got {gamma.shape} and {beta.shape}")
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.eps = eps
        self.running_mean = np.zeros_like(gamma)
        self.running_var = np.ones_like(gamma)
        self.dgamma = np.zeros_like(gamma)
        self.dbeta = np.zeros_like(beta)

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if train:
            mean = x.mean(axis=0)
            xc = x - mean
            var = np.mean(xc * xc, axis=0)
            std = np.sqrt(var + self.eps)
            xhat = xc / std
            self._xhat, self._std = xhat, std
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mean
            self.running_var *= m
            self.running_var += (1 - m) * var
        else:
            xhat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return self.gamma * xhat + self.beta

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, std = self._xhat, self._std
        np.sum(dout, axis=0, out=self.dbeta)
        np.sum(dout * xhat, axis=0, out=self.dgamma)
        dxhat = dout * self.gamma
        # The closed form of the chain rule through mean and variance.
        return (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) / std
