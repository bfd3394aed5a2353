"""Multi-layer perceptron assembled from the layers, with dict params/grads."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from .activations import ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm
from .dropout import Dropout
from .linear import Linear
from .loss import SoftmaxCrossEntropy, _labels

__all__ = ["MLP", "ACTIVATIONS", "INITIALIZERS"]

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}

#: Initializer names accepted by :class:`MLP`, and the sd each gives a
#: weight of shape ``(n_in, n_out)``.
INITIALIZERS = {
    "he": "sqrt(2 / n_in)  (He et al., 2015)",
    "lecun": "1 / sqrt(n_in)  (the course's 'Xavier')",
    "xavier": "sqrt(2 / (n_in + n_out))  (Glorot & Bengio, 2010)",
    "zeros": "all weights 0 (breaks nothing but learning: every unit stays identical)",
}

Init = Union[str, float]


def _init_weight(W: np.ndarray, init: Init, rng: np.random.Generator) -> None:
    from .. import init as fi

    if isinstance(init, str):
        name = init.lower()
        if name == "he":
            fi.he_normal_(W, seed=rng)
        elif name == "lecun":
            fi.lecun_normal_(W, seed=rng)
        elif name == "xavier":
            fi.xavier_normal_(W, seed=rng)
        elif name == "zeros":
            fi.zeros_(W)
        else:
            raise ValueError(f"init must be one of {sorted(INITIALIZERS)} or a float "
                             f"standard deviation, got {init!r}")
    else:
        std = float(init)
        if std < 0:
            raise ValueError(f"init as a standard deviation must be >= 0, got {std}")
        if std == 0:
            fi.zeros_(W)
        else:
            fi.normal_(W, 0.0, std, seed=rng)


class MLP:
    r"""Fully connected classifier: ``[Linear -> (BatchNorm) -> act -> (Dropout)] * k -> Linear``.

    Parameters live in ``params`` (``'W1', 'b1', 'gamma1', 'beta1', ...``,
    layer by layer) and gradients in ``grads`` with the same keys; both are
    dicts of arrays of ``dtype`` that the layers hold by reference, so an
    optimizer bound to ``params`` must update them in place — every
    ``fastoptim`` optimizer does. ``gradient`` overwrites the ``grads``
    arrays and returns the same dict each call.

    Weight decay is the course's L2 penalty, added to the loss and to the
    weight gradients (weights only, not biases or batch-norm parameters):

    .. math:: L = L_{CE} + \frac{\lambda}{2} \sum_i \|W_i\|^2, \qquad
              \nabla_{W_i} L = \nabla_{W_i} L_{CE} + \lambda W_i

    Args:
        input_size: features per sample.
        hidden_sizes: units of each hidden layer, e.g. ``[100] * 4``.
        output_size: number of classes.
        activation: ``'relu'``, ``'sigmoid'`` or ``'tanh'``.
        init: ``'he'``, ``'lecun'``, ``'xavier'``, ``'zeros'`` (see
            :data:`INITIALIZERS`) or a float standard deviation. Biases and
            ``beta`` start at 0, ``gamma`` at 1.
        batch_norm: insert :class:`BatchNorm` after each hidden ``Linear``.
        dropout: ratio of a :class:`Dropout` after each hidden activation
            (0 for none).
        weight_decay: L2 coefficient ``lambda``.
        dtype: ``float32`` or ``float64`` for params, grads and computation.
        seed: int, ``numpy.random.Generator`` or None; draws the initial
            weights and the dropout masks.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> net = MLP(64, [100] * 4, 10, seed=0)
        >>> opt = fo.Adam(net.params, lr=1e-3)
        >>> x, t = np.random.default_rng(0).random((8, 64)), np.arange(8)
        >>> opt.step(net.gradient(x, t))
    """

    def __init__(self, input_size: int, hidden_sizes: Sequence[int], output_size: int, *,
                 activation: str = "relu", init: Init = "he", batch_norm: bool = False,
                 dropout: float = 0.0, weight_decay: float = 0.0,
                 dtype=np.float64, seed=None):
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.dtype = dtype
        self.weight_decay = float(weight_decay)
        self.last_loss = float("nan")  # loss of the batch of the latest gradient() call
        self.sizes = [int(input_size), *map(int, hidden_sizes), int(output_size)]
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.layers: list = []
        n_layers = len(self.sizes) - 1
        for i in range(1, n_layers + 1):
            n_in, n_out = self.sizes[i - 1], self.sizes[i]
            W = np.empty((n_in, n_out), dtype)
            _init_weight(W, init, rng)
            b = np.zeros(n_out, dtype)
            lin = Linear(W, b)
            self._add(f"W{i}", W, lin, "dW")
            self._add(f"b{i}", b, lin, "db")
            self.layers.append(lin)
            if i == n_layers:
                break
            if batch_norm:
                bn = BatchNorm(np.ones(n_out, dtype), np.zeros(n_out, dtype))
                self._add(f"gamma{i}", bn.gamma, bn, "dgamma")
                self._add(f"beta{i}", bn.beta, bn, "dbeta")
                self.layers.append(bn)
            self.layers.append(ACTIVATIONS[activation]())
            if dropout:
                self.layers.append(Dropout(dropout, seed=rng))
        self.last = SoftmaxCrossEntropy()

    def _add(self, key, array, layer, attr):
        self.params[key] = array
        self.grads[key] = getattr(layer, attr)

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight matrices ``W1, W2, ...`` (what weight decay acts on)."""
        return [self.params[f"W{i}"] for i in range(1, len(self.sizes))]

    def _input(self, x) -> np.ndarray:
        return np.asarray(x, dtype=self.dtype).reshape(len(x), -1)

    def predict(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Class scores (logits) of shape ``(N, classes)``."""
        h = self._input(x)
        for layer in self.layers:
            h = layer.forward(h, train)
        return h

    def hidden_activations(self, x: np.ndarray, train: bool = False) -> list[np.ndarray]:
        """Output of each hidden block (after its dropout, if any), in order."""
        h = self._input(x)
        out = []
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Linear) and i > 0:
                out.append(h)
                if i == len(self.layers) - 1:
                    break
            h = layer.forward(h, train)
        return out

    def loss(self, x: np.ndarray, t: np.ndarray, train: bool = True) -> float:
        """Cross-entropy plus the L2 penalty, with the network in training mode."""
        data_loss = self.last.forward(self.predict(x, train), t)
        if self.weight_decay:
            data_loss += 0.5 * self.weight_decay * sum(float(np.sum(W * W)) for W in self.weights)
        return data_loss

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagate :meth:`loss`; fills and returns :attr:`grads`."""
        self.last_loss = self.loss(x, t, train=True)
        dout = self.last.backward(1.0).astype(self.dtype, copy=False)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        if self.weight_decay:
            for i, W in enumerate(self.weights, start=1):
                self.grads[f"W{i}"] += self.dtype.type(self.weight_decay) * W
        return self.grads

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 10000) -> float:
        """Fraction of samples whose top score is the label (evaluation mode)."""
        labels = _labels(np.asarray(t))
        correct = 0
        for s in range(0, len(x), batch_size):
            correct += int(np.sum(self.predict(x[s:s + batch_size]).argmax(axis=1)
                                  == labels[s:s + batch_size]))
        return correct / max(len(x), 1)
