"""Validation of hyperparameters: one place, clear messages naming the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np


def real(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a finite float in the given range, or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond any float
        raise ValueError(f"{name} must be finite, got an int too large for a float") \
            from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if low is not None and (x <= low if low_open else x < low):
        op = ">" if low_open else ">="
        raise ValueError(f"{name} must be {op} {low}, got {x!r}")
    if high is not None and (x >= high if high_open else x > high):
        op = "<" if high_open else "<="
        raise ValueError(f"{name} must be {op} {high}, got {x!r}")
    return x


def flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def betas(name: str, value) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {value!r}")
    b1 = real(f"{name}[0]", value[0], low=0.0, high=1.0, high_open=True)
    b2 = real(f"{name}[1]", value[1], low=0.0, high=1.0, high_open=True)
    return (b1, b2)
