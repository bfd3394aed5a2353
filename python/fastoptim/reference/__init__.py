"""Plain NumPy versions of every kernel: the oracle the tests compare against.

Written from the math, in the same operation order and with the same
roundings as the C++ kernels; imports nothing compiled.
"""

from .optim import *  # noqa: F401,F403
from .optim import __all__ as _optim_all
from . import random  # noqa: F401  (fastoptim.reference.random: the fills)

__all__ = list(_optim_all)
