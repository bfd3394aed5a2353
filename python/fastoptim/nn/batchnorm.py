"""Batch normalization over the batch axis of 2-D activations."""

from __future__ import annotations

import numpy as np

__all__ = ["BatchNorm"]


class BatchNorm:
    r"""Batch normalization (Ioffe & Szegedy, 2015) for ``(batch, features)``.

    .. math::

        \hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad
        y = \gamma \hat x + \beta

    In training mode ``mu_B`` and ``sigma_B^2`` are the statistics of the
    batch, and the running statistics are updated as
    ``running = momentum * running + (1 - momentum) * batch``. In evaluation
    mode the running statistics are used, and ``backward`` gives that affine
    map's gradients.

    Warning:
        This is the course book's layer, which differs from
        ``torch.nn.BatchNorm1d`` in three ways: ``momentum`` weighs the old
        running statistics (torch's ``momentum`` is ``1 -`` this one); the
        running variance starts at 0, not 1; and it tracks the biased batch
        variance (torch tracks the unbiased one). Training-mode outputs and
        gradients are the same as torch's; evaluation differs while the
        running variance warms up, and by ``n / (n - 1)`` for a batch of
        ``n`` after.

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
        self.running_var = np.zeros_like(gamma)  # the book's start (torch: ones)
        self.dgamma = np.zeros_like(gamma)
        self.dbeta = np.zeros_like(beta)
        self._xhat = self._std = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.gamma.shape[0]:
            raise ValueError(f"x must have shape (batch, {self.gamma.shape[0]}), got {x.shape}")
        if train:
            if len(x) < 2:
                # One sample has no spread: it would normalize to 0 and pull the
                # running variance toward 0 (torch refuses it too).
                raise ValueError(f"batch norm in training mode needs more than 1 sample per "
                                 f"batch, got x of shape {x.shape}")
            mean = x.mean(axis=0)
            xc = x - mean
            var = np.mean(xc * xc, axis=0)
            std = np.sqrt(var + self.eps)
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mean
            self.running_var *= m
            self.running_var += (1 - m) * var
        else:
            xc = x - self.running_mean
            std = np.sqrt(self.running_var + self.eps)
        xhat = xc / std
        self._xhat, self._std, self._train = xhat, std, train
        return self.gamma * xhat + self.beta

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient of the last ``forward``'s output: sets ``dgamma`` and
        ``dbeta`` and returns the gradient of its input."""
        xhat, std = self._xhat, self._std
        if xhat is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        np.sum(dout, axis=0, out=self.dbeta)
        np.sum(dout * xhat, axis=0, out=self.dgamma)
        dxhat = dout * self.gamma
        if not self._train:  # fixed statistics: an affine map per feature
            return dxhat / std
        # The closed form of the chain rule through mean and variance.
        return (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) / std
