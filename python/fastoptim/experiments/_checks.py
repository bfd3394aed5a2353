"""Argument checks of the experiments: each raises a TypeError (wrong kind of
value) or a ValueError (right kind, out of range) whose message names the
argument, so that a bad ``--set`` fails before anything is computed.

Each check returns the value it accepted (containers as tuples or dicts);
numbers keep their own type, so the experiments compute exactly what they
did with the same valid arguments.
"""

from __future__ import annotations

import math
import numbers
import os
import reprlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._common import BOOK_LR, check_optimizer_names
from .._errors import UsageTypeError, UsageValueError

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60


def _show(value) -> str:
    return _repr.repr(value)


def _got(value) -> str:
    """``got float 0.5``: the type too, for a value of the wrong kind."""
    return f"got {type(value).__name__} {_show(value)}"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def int_at_least(name: str, value, low: int = 1):
    """An int (a numpy integer too; not a bool, float or str) >= ``low``."""
    what = {1: "a positive int", 0: "a non-negative int"}.get(low, f"an int >= {low}")
    if not _is_int(value):
        raise UsageTypeError(f"{name} must be {what}, {_got(value)}")
    if value < low:
        raise UsageValueError(f"{name} must be {what}, got {value!r}")
    return value


def positive_int(name: str, value):
    return int_at_least(name, value, 1)


def non_negative_int(name: str, value):
    return int_at_least(name, value, 0)


def finite_real(name: str, value, *, what: str = "a finite number"):
    """A finite int or float (a numpy number too; not a bool or str)."""
    if not _is_real(value):
        raise UsageTypeError(f"{name} must be {what}, {_got(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond any float
        raise UsageValueError(f"{name} must be {what}, got an int too large for a float") from None
    if not finite:
        raise UsageValueError(f"{name} must be {what}, got {value!r}")
    return value


def positive_real(name: str, value):
    """A finite number > 0 (a learning rate, a weight scale)."""
    finite_real(name, value, what="a positive finite number")
    if not value > 0:
        raise UsageValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def fraction(name: str, value):
    """A number strictly between 0 and 1."""
    finite_real(name, value, what="a number in (0, 1)")
    if not 0 < value < 1:
        raise UsageValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def _sequence(name: str, value, what: str, example: str) -> tuple:
    """``value`` as a tuple: a list, tuple, range or 1-D array, not a bare str or number."""
    if isinstance(value, (str, bytes)):
        raise UsageTypeError(f"{name} must be {what}, e.g. {name}={example}, "
                             f"got str {_show(value)}")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise UsageTypeError(f"{name} must be {what}, got a {value.ndim}-D array")
        return tuple(value)
    if isinstance(value, (Mapping, set, frozenset)) or not isinstance(value, (list, tuple, range)):
        raise UsageTypeError(f"{name} must be {what}, e.g. {name}={example}, {_got(value)}")
    return tuple(value)


def layer_sizes(name: str, value, *, min_len: int = 0) -> tuple:
    """Hidden layer sizes: a sequence of positive ints (``min_len`` of them at least)."""
    sizes = _sequence(name, value, "a sequence of positive ints (units per hidden layer)",
                      "(100, 100)")
    for i, n in enumerate(sizes):
        positive_int(f"{name}[{i}]", n)
    if len(sizes) < min_len:
        raise UsageValueError(f"{name} must have at least {min_len} layer(s), got {_show(value)}")
    return sizes


def positive_reals(name: str, value, *, distinct: bool = False) -> tuple:
    """A non-empty sequence of positive finite numbers."""
    values = _sequence(name, value, "a sequence of positive numbers", "(0.1, 0.01)")
    if not values:
        raise UsageValueError(f"{name} must not be empty")
    for i, x in enumerate(values):
        positive_real(f"{name}[{i}]", x)
    if distinct and len(set(map(float, values))) < len(values):
        raise UsageValueError(f"{name} must not repeat a value, got {_show(value)}")
    return values


def point(name: str, value) -> tuple:
    """A pair of finite numbers, e.g. a start point (x, y)."""
    if (isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__")
            or not hasattr(value, "__getitem__") or len(value) != 2):
        raise UsageTypeError(f"{name} must be a pair of numbers (x, y), {_got(value)}")
    for i in range(2):
        finite_real(f"{name}[{i}]", value[i])
    return tuple(value)


def interval(name: str, value) -> tuple:
    """A pair (lo, hi) of finite numbers with lo <= hi (equal: a fixed value)."""
    if (isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__")
            or not hasattr(value, "__getitem__") or len(value) != 2):
        raise UsageTypeError(f"{name} must be a pair of numbers (lo, hi), {_got(value)}")
    lo, hi = (finite_real(f"{name}[{i}]", value[i]) for i in range(2))
    if not lo <= hi:
        raise UsageValueError(f"{name} must be a pair (lo, hi) with lo <= hi, got {_show(value)}")
    return tuple(value)


def str_keyed(name: str, value, what: str, example: str) -> dict:
    """A non-empty dict with str keys (labels); the caller checks the values."""
    if not isinstance(value, Mapping):
        raise UsageTypeError(f"{name} must be a dict of {what}, e.g. {example}, {_got(value)}")
    if not value:
        raise UsageValueError(f"{name} must not be empty (a dict of {what}, e.g. {example})")
    for key in value:
        if not isinstance(key, str):
            raise UsageTypeError(f"{name} must be a dict of {what}, e.g. {example}; "
                                 f"its key {_show(key)} is a {type(key).__name__}, not a str")
    return dict(value)


def optimizer_lr(name: str, value):
    """None, or a non-empty dict of optimizer name -> positive learning rate."""
    if value is None:
        return None
    lr = str_keyed(name, value, "optimizer name to learning rate", "{'SGD': 0.1}")
    check_optimizer_names(lr, name)
    for key, rate in lr.items():
        positive_real(f"{name}[{key!r}]", rate)
    return lr


def optimizer_name(name: str, value) -> str:
    if not isinstance(value, str):
        raise UsageTypeError(f"{name} must be an optimizer name ({', '.join(BOOK_LR)}), "
                             f"{_got(value)}")
    check_optimizer_names([value], name)
    return value


def optimizer_names(name: str, value) -> tuple:
    """A non-empty sequence of distinct optimizer names (a bare str is refused)."""
    if isinstance(value, str):
        raise UsageTypeError(f"{name} must be a sequence of optimizer names, "
                             f"e.g. {name}=[{value!r}], got str {_show(value)}")
    names = _sequence(name, value, "a sequence of optimizer names", "['SGD', 'Adam']")
    if not names:
        raise UsageValueError(f"{name} must name at least one optimizer ({', '.join(BOOK_LR)})")
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise UsageTypeError(f"{name}[{i}] must be an optimizer name, {_got(n)}")
    check_optimizer_names(names, name)
    if len(set(names)) < len(names):
        raise UsageValueError(f"{name} must not repeat an optimizer, got {_show(value)}")
    return names


def float_dtype(name: str, value) -> np.dtype:
    """float32 or float64 (a numpy type, dtype or its name)."""
    try:
        dtype = None if value is None or isinstance(value, bool) else np.dtype(value)
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype not in (np.float32, np.float64):
        shown = dtype if dtype is not None else _show(value)
        raise UsageTypeError(f"{name} must be float32 or float64, got {shown}")
    return dtype


def init_choice(name: str, value):
    """An initializer of :class:`~fastoptim.nn.MLP`: a name of INITIALIZERS or an sd >= 0."""
    from ..nn.mlp import INITIALIZERS

    if isinstance(value, str):
        if value.lower() not in INITIALIZERS:
            raise UsageValueError(f"{name} must be one of {', '.join(sorted(INITIALIZERS))} or a "
                                  f"standard deviation >= 0, got {value!r}")
        return value
    what = f"an initializer name ({', '.join(sorted(INITIALIZERS))}) or a standard deviation >= 0"
    finite_real(name, value, what=what)
    if value < 0:
        raise UsageValueError(f"{name} must be {what}, got {value!r}")
    return value


def activation(name: str, value) -> str:
    from ..nn.mlp import ACTIVATIONS

    if not isinstance(value, str) or value not in ACTIVATIONS:
        error = UsageTypeError if not isinstance(value, str) else UsageValueError
        raise error(f"{name} must be one of {', '.join(sorted(ACTIVATIONS))}, got {_show(value)}")
    return value


def labelled_configs(name: str, value, check_item) -> tuple:
    """A non-empty sequence of tuples whose first item is a distinct str label;
    ``check_item(f"{name}[{i}]", item)`` checks each tuple."""
    items = _sequence(name, value, "a sequence of tuples", "[('ReLU, He', 'relu', 'he')]")
    if not items:
        raise UsageValueError(f"{name} must not be empty")
    labels = []
    for i, item in enumerate(items):
        check_item(f"{name}[{i}]", item)
        labels.append(item[0])
    if len(set(labels)) < len(labels):
        raise UsageValueError(f"{name} must not repeat a label, got labels {labels!r}")
    return items


def seed(value):
    """None, an int >= 0, or a numpy Generator / SeedSequence / BitGenerator."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence,
                                           np.random.BitGenerator)):
        return value
    what = "an int >= 0, a numpy.random.Generator or None"
    if not _is_int(value):
        raise UsageTypeError(f"seed must be {what}, {_got(value)}")
    if value < 0:
        raise UsageValueError(f"seed must be {what}, got {value!r}")
    return value


def _path_like(name: str, value, what: str):
    if not isinstance(value, (str, os.PathLike)):
        raise UsageTypeError(f"{name} must be {what} (a str or path) or None, {_got(value)}")


def data_folder(value):
    """None or a path (whether it holds the data is checked when it is read)."""
    if value is not None:
        _path_like("data", value, "a folder of MNIST IDX files")
    return value


def out_folder(value):
    """None or a path of a folder that exists or can be made: refused up front when
    it, or the nearest existing folder above it, is not a directory — rather than
    when the figure is saved, after the whole computation."""
    if value is None:
        return None
    _path_like("out", value, "a folder for the figure")
    path = Path(value)
    for p in (path, *path.parents):
        if p.exists():
            if p == path and not p.is_dir():
                raise UsageValueError(f"out must be a folder for the figure, but {str(value)!r} "
                                      f"exists and is not a directory")
            if not p.is_dir():
                raise UsageValueError(f"out must be a folder for the figure, but {str(value)!r} "
                                      f"cannot be made: {str(p)!r} is not a directory")
            break
    return value


def samples_available(name: str, n: int, dataset) -> None:
    """Refuse ``n`` training samples when ``dataset`` has fewer (rather than use fewer)."""
    have = len(dataset.x_train)
    if n > have:
        raise UsageValueError(f"{name}={n} is more than the {have} training samples of "
                              f"{dataset.name}; pass {name}={have} at most")


def last_batch(n: int, batch_size: int, samples: str) -> None:
    """Refuse a last mini-batch of 1 sample (batch norm cannot normalize it)."""
    if n % batch_size == 1:
        raise UsageValueError(f"{samples} in batches of batch_size={batch_size} leave a last batch "
                              f"of 1 sample, which batch norm cannot normalize; change n_train or "
                              f"batch_size")
