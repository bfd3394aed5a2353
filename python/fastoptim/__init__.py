"""fastoptim: fused SIMD C++ optimizers and initializers for NumPy models.

>>> import numpy as np, fastoptim as fo
>>> params = {"W": np.zeros((3, 2), np.float32)}
>>> opt = fo.Adam(params, lr=1e-3)
>>> opt.step({"W": np.ones((3, 2), np.float32)})   # params["W"] changes in place
"""

from . import data, experiments, functional, init, nn, random, reference
from ._config import get_config, get_num_threads, set_num_threads, show_config
from ._config import _warn_bad_env
from ._version import __version__
from .checkpoint import Checkpoint, load, save
from .optim import SGD, AdaGrad, Adam, AdamW, Momentum, Optimizer, RMSProp

_warn_bad_env()
del _warn_bad_env

__all__ = [
    "__version__",
    "SGD",
    "Momentum",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "AdamW",
    "Optimizer",
    "functional",
    "nn",
    "data",
    "experiments",
    "save",
    "load",
    "Checkpoint",
    "init",
    "random",
    "reference",
    "show_config",
    "get_config",
    "set_num_threads",
    "get_num_threads",
]
