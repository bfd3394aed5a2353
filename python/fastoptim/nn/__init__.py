"""Layers for the course's experiments, in the course's layout (``x @ W``).

Each layer has ``forward(x, train=True)`` and ``backward(dout)``; layers with
parameters hold them by reference and write gradients into preallocated
arrays. :class:`MLP` assembles them and exposes ``params`` / ``grads`` dicts
that plug straight into the ``fastoptim`` optimizers.
"""

from .activations import ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm
from .dropout import Dropout
from .linear import Linear
from .loss import SoftmaxCrossEntropy, softmax
from .mlp import ACTIVATIONS, INITIALIZERS, MLP

__all__ = [
    "Linear", "ReLU", "Sigmoid", "Tanh", "BatchNorm", "Dropout",
    "SoftmaxCrossEntropy", "softmax", "MLP", "ACTIVATIONS", "INITIALIZERS",
]
