"""Dropout: zero a random fraction of activations while training."""

from __future__ import annotations

import numpy as np

__all__ = ["Dropout"]


class Dropout:
    """Inverted dropout: keep each unit with probability ``1 - ratio``.

    Training multiplies by a fresh random mask scaled by ``1 / (1 - ratio)``;
    evaluation is the identity.

    Warning:
        The course's book scales at test time instead (multiplies by
        ``1 - ratio`` in evaluation). Both give the same expected
        activations; scaling while training leaves inference untouched.

    Args:
        ratio: probability of dropping a unit, in ``[0, 1)``.
        seed: int, ``numpy.random.Generator`` or None; the masks are drawn
            from it, so two layers built with the same int seed draw the same
            sequence of masks.
    """

    def __init__(self, ratio: float = 0.5, *, seed=None):
        if not 0 <= ratio < 1:
            raise ValueError(f"ratio must be in [0, 1), got {ratio}")
        self.ratio = float(ratio)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.mask = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"x must be a floating-point array, got dtype {x.dtype}")
        if not train or self.ratio == 0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.ratio
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.ratio)
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self.mask is None else dout * self.mask
