"""Weight initializers, filled in C++ from :mod:`fastoptim.random`.

A trailing ``_`` fills an existing array in place and returns it
(``he_normal_(W)``); the same name without ``_`` allocates
(``he_normal((784, 100))``, float32 unless ``dtype=`` says otherwise). Every
``seed`` takes an int, a :class:`fastoptim.random.Generator` (its counter
advances), a ``numpy.random.Generator`` (one uint64 seed is drawn from it)
or None (fresh entropy).

Against ``torch.nn.init``: ``calculate_gain``, ``zeros_``, ``ones_``,
``constant_``, ``normal_``, ``uniform_``, ``xavier_normal_``,
``xavier_uniform_`` and ``orthogonal_`` have torch's names (``uniform_``
takes ``low, high`` for torch's ``a, b``, ``constant_`` ``value`` for
``val``); torch's ``kaiming_normal_`` / ``kaiming_uniform_`` are
:func:`he_normal_` / :func:`he_uniform_` (slope ``negative_slope=`` for
torch's ``a``); torch's ``trunc_normal_`` is :func:`truncated_normal_`, whose
bounds are in units of ``std`` around ``mean``, not absolute. ``eye_``,
``dirac_`` and ``sparse_`` have no counterpart; ``lecun_*`` and
:func:`variance_scaling_` have none in torch. 2-D fans differ from torch's
for the same shape (below).

Fans (:func:`compute_fans`): a 2-D array is ``(fan_in, fan_out)`` as in
``x @ W`` (the course's layout, ``W`` of shape ``(in, out)``; note torch's
Linear stores ``(out, in)``); 3-D and up is ``(out, in, *kernel)`` as for
convolutions, each fan times the kernel size. ``fan_in=`` / ``fan_out=``
override, and are required for 0-D and 1-D arrays.

Every initializer is a case of :func:`variance_scaling_`:

=====================  =============================  ==========================
initializer            sd (normal) / bound (uniform)  variance_scaling_ args
=====================  =============================  ==========================
``lecun_normal_``      1 / sqrt(fan_in)               1, fan_in, normal
``lecun_uniform_``     sqrt(3 / fan_in)               1, fan_in, uniform
``xavier_normal_``     gain sqrt(2/(fan_in+fan_out))  gain^2, fan_avg, normal
``xavier_uniform_``    gain sqrt(6/(fan_in+fan_out))  gain^2, fan_avg, uniform
``he_normal_``         gain / sqrt(fan)               gain^2, mode, normal
``he_uniform_``        gain sqrt(3 / fan)             gain^2, mode, uniform
=====================  =============================  ==========================

The lecture's names: its "Xavier initial value" (sd = 1/sqrt(n), n the
number of nodes of the previous layer) is :func:`lecun_normal_`; Glorot
and Bengio's "Xavier" (sd = sqrt(2/(n_in + n_out))) is
:func:`xavier_normal_`; its "He initial value" (sd = sqrt(2/n), for ReLU)
is :func:`he_normal_`. Unlike JAX/Keras, ``lecun_normal_`` and ``he_normal_``
draw from the untruncated normal (as the lecture and torch do); use
``variance_scaling_(..., distribution="truncated_normal")`` for theirs.

Example:
    >>> import numpy as np
    >>> from fastoptim import init
    >>> W = init.he_normal((784, 100), seed=0)        # sd = sqrt(2/784)
    >>> b = init.zeros((100,))
    >>> init.xavier_uniform_(W, gain=init.calculate_gain("tanh"), seed=1) is W
    True
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator

import numpy as np

from .random import (_check_finite, _check_in_f32, _check_real, _normal_params,
                     _truncated_normal_params, _uniform_params, as_generator)

__all__ = [
    "calculate_gain",
    "compute_fans",
    "zeros_",
    "ones_",
    "constant_",
    "normal_",
    "uniform_",
    "truncated_normal_",
    "variance_scaling_",
    "xavier_normal_",
    "xavier_uniform_",
    "he_normal_",
    "he_uniform_",
    "lecun_normal_",
    "lecun_uniform_",
    "orthogonal_",
    "zeros",
    "ones",
    "constant",
    "normal",
    "uniform",
    "truncated_normal",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
]

# sd of the standard normal truncated to [-2, 2]; variance_scaling_ divides by
# it so the truncated draw has the requested variance (as JAX and Keras do).
_TRUNC2_STD = 0.87962566103423978

_LINEAR_LIKE = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")
_NONLINEARITIES = _LINEAR_LIKE + ("tanh", "relu", "leaky_relu", "selu")
_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity (torch.nn.init's table).

    ======================  ===========================
    nonlinearity            gain
    ======================  ===========================
    linear, conv*, sigmoid  1
    tanh                    5/3
    relu                    sqrt(2)
    leaky_relu              sqrt(2 / (1 + slope^2)), slope = param (0.01)
    selu                    3/4
    ======================  ===========================

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(f"nonlinearity must be a str, got {type(nonlinearity).__name__}")
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {', '.join(_NONLINEARITIES)}; "
                         f"got {nonlinearity!r}")
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _check_finite(param, "param")
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if param is not None:
        raise ValueError(f"param is only used with nonlinearity='leaky_relu', not "
                         f"{nonlinearity!r}")
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    return 0.75  # selu


def compute_fans(shape):
    """(fan_in, fan_out) of a weight of this shape.

    2-D ``(in, out)`` as in ``x @ W``; 3-D and up ``(out, in, *kernel)``, both
    fans times prod(kernel). 0-D and 1-D shapes have no fans: ValueError.

    >>> compute_fans((784, 100))
    (784, 100)
    >>> compute_fans((16, 3, 5, 5))
    (75, 400)
    """
    shape = _check_shape(shape, "a sequence of ints")
    if len(shape) < 2:
        raise ValueError(f"fans are defined for arrays of 2 or more dimensions, got shape "
                         f"{shape}; pass fan_in= (and fan_out=) explicitly")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _check_shape(shape, kinds):
    """A tuple of non-negative ints (operator.index: no floats, no str, no
    bool), else a TypeError / ValueError naming shape."""
    if isinstance(shape, (str, bytes)):
        raise TypeError(f"shape must be {kinds}, got {type(shape).__name__}")
    try:
        entries = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be {kinds}, got {type(shape).__name__}") from None
    out = []
    for s in entries:
        if isinstance(s, (bool, np.bool_)):
            raise TypeError(f"shape entries must be ints, got a bool in shape {entries}")
        try:
            out.append(operator.index(s))
        except TypeError:
            raise TypeError(f"shape entries must be ints, got {type(s).__name__} {s!r} in "
                            f"shape {entries}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"shape must not have negative entries, got {tuple(out)}")
    return tuple(out)


def _check_array(a, name="a"):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got "
                        f"{type(a).__name__}")
    if a.dtype not in (np.float32, np.float64) or not a.dtype.isnative:
        raise TypeError(f"{name} has dtype {a.dtype}; initializers fill float32 or float64 "
                        "arrays (native byte order)")
    if not a.flags.writeable:
        raise ValueError(f"{name} is read-only (flags.writeable is False)")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} is not C-contiguous: it is filled in place, so it must be "
                         "the contiguous array itself, not a strided view")
    if not a.flags.aligned:
        raise ValueError(f"{name} is not aligned to its element size")
    return a


def _check_fan(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}")
    value = int(value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if value >= 1 << 63:  # no array has that many elements (and fans enter float math)
        shown = value if value.bit_length() <= 128 else f"an int of {value.bit_length()} bits"
        raise ValueError(f"{name} must be < 2**63, got {shown}")
    return value


def _fans(a, fan_in, fan_out, need_in=True, need_out=True):
    """fan_in / fan_out from the overrides, else from a's shape."""
    if (need_in and fan_in is None) or (need_out and fan_out is None):
        if a.ndim < 2:
            missing = " and ".join(n for n, f, w in (("fan_in", fan_in, need_in),
                                                     ("fan_out", fan_out, need_out))
                                   if w and f is None)
            raise ValueError(f"a has shape {a.shape}: fans are defined for arrays of 2 or more "
                             f"dimensions; pass {missing}= explicitly")
        shape_in, shape_out = compute_fans(a.shape)
        if a.size == 0:  # nothing is drawn: any positive fan will do (torch: a no-op)
            shape_in, shape_out = max(shape_in, 1), max(shape_out, 1)
        if fan_in is None:
            fan_in = shape_in
        if fan_out is None:
            fan_out = shape_out
    fi = _check_fan(fan_in, "fan_in") if need_in or fan_in is not None else None
    fo = _check_fan(fan_out, "fan_out") if need_out or fan_out is not None else None
    return fi, fo


def _check_choice(value, name, choices):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


# Fills ------------------------------------------------------------------


def zeros_(a):
    """Fill ``a`` with 0 in place; returns ``a``."""
    _check_array(a)
    a[...] = 0
    return a


def ones_(a):
    """Fill ``a`` with 1 in place; returns ``a``."""
    _check_array(a)
    a[...] = 1
    return a


def constant_(a, value):
    """Fill ``a`` with ``value`` in place; returns ``a``. ``value`` may be
    +-inf; a finite value beyond the range of ``a``'s dtype is refused."""
    _check_array(a)
    value = _check_real(value, "value")
    if a.dtype == np.float32 and abs(value) != math.inf:
        _check_in_f32(value, "value")
    a[...] = value
    return a


def normal_(a, mean=0.0, std=1.0, *, seed=None):
    """Fill ``a`` with normal(mean, std) values in place; returns ``a``."""
    _check_array(a)
    params = _normal_params(mean, std, a.dtype == np.float32)
    return as_generator(seed)._fill(a, "normal", params)


def uniform_(a, low=0.0, high=1.0, *, seed=None):
    """Fill ``a`` with uniform values in [low, high) in place; returns ``a``.

    ``low`` and ``high`` are rounded to ``a``'s dtype; rounding may give
    ``high`` itself, never more (see
    :meth:`fastoptim.random.Generator.uniform_`).
    """
    _check_array(a)
    params = _uniform_params(low, high, a.dtype == np.float32)
    return as_generator(seed)._fill(a, "uniform", params)


def truncated_normal_(a, mean=0.0, std=1.0, lower=-2.0, upper=2.0, *, seed=None):
    """Fill ``a`` with normal(mean, std) values conditioned on
    ``lower <= (x - mean) / std <= upper``; returns ``a``.

    ``lower`` and ``upper`` are in units of ``std`` around ``mean`` (torch's
    ``trunc_normal_(t, mean, std, a, b)`` takes absolute bounds: its
    ``a = mean + lower * std``). Note the sd of the result is below ``std``
    (0.88 std for the default +-2).

    The sampler is accurate only within about 5.5 sd of ``mean``: an
    interval with more than 10% of its probability mass beyond 5.5 sd (e.g.
    ``lower=5.2, upper=inf``) is refused with a ValueError; ``lower=5`` and
    every interval containing the centre are accepted (see
    :meth:`fastoptim.random.Generator.truncated_normal_`).
    """
    _check_array(a)
    params = _truncated_normal_params(mean, std, lower, upper, ("lower", "upper"),
                                      a.dtype == np.float32)
    return as_generator(seed)._fill(a, "truncated_normal", params)


def variance_scaling_(a, scale=1.0, mode="fan_in", distribution="truncated_normal", *,
                      fan_in=None, fan_out=None, seed=None):
    r"""Fill ``a`` with zero-mean values of variance ``scale / n`` in place.

    .. math::  n = \text{fan\_in},\ \text{fan\_out}\ \text{or}\
               (\text{fan\_in} + \text{fan\_out}) / 2 \quad (\text{mode})

    distribution ``"normal"``: sd sqrt(scale/n); ``"truncated_normal"``: a
    normal truncated at +-2 of its sd, that sd being sqrt(scale/n) / 0.8796
    so the result has variance scale/n (JAX/Keras convention);
    ``"uniform"``: U(-b, b), b = sqrt(3 scale / n).
    """
    _check_array(a)
    scale = _check_finite(scale, "scale")
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    _check_choice(mode, "mode", _MODES)
    _check_choice(distribution, "distribution", _DISTRIBUTIONS)
    return _variance_scaling(a, scale, mode, distribution, fan_in, fan_out, seed,
                             f"scale={scale}")


def _variance_scaling(a, scale, mode, distribution, fan_in, fan_out, seed, culprit):
    """variance_scaling_ after its own checks; ``culprit`` names the argument
    an overflow is blamed on (``scale=...``, or xavier's ``gain=...``)."""
    fi, fo = _fans(a, fan_in, fan_out, need_in=mode != "fan_out", need_out=mode != "fan_in")
    n = {"fan_in": fi, "fan_out": fo}.get(mode) or (fi + fo) / 2.0
    var = scale / n
    f32 = a.dtype == np.float32
    try:
        if distribution == "normal":
            params = _normal_params(0.0, math.sqrt(var), f32)
        elif distribution == "truncated_normal":
            params = _truncated_normal_params(0.0, math.sqrt(var) / _TRUNC2_STD, -2.0, 2.0,
                                              f32=f32)
        else:
            bound = math.sqrt(3.0 * var)
            if bound == math.inf:
                raise ValueError("the uniform bound sqrt(3 * scale / n) overflows")
            params = _uniform_params(-bound, bound, f32)
    except ValueError as e:  # only an overflow can get here: name the argument
        raise ValueError(f"{culprit} is too large for n={n} and {a.dtype}: {e}") from None
    return as_generator(seed)._fill(a, distribution, params)


def _check_gain(gain):
    gain = _check_finite(gain, "gain")
    if gain <= 0:
        raise ValueError(f"gain must be > 0, got {gain}")
    if gain * gain == math.inf:
        raise ValueError(f"gain={gain} is too large: gain**2 overflows")
    return gain


def xavier_normal_(a, gain=1.0, *, fan_in=None, fan_out=None, seed=None):
    """Glorot & Bengio (2010): normal, sd = gain sqrt(2 / (fan_in + fan_out)).

    (The lecture's "Xavier", sd = 1/sqrt(n), is :func:`lecun_normal_`.)
    """
    _check_array(a)
    gain = _check_gain(gain)
    return _variance_scaling(a, gain * gain, "fan_avg", "normal", fan_in, fan_out, seed,
                             f"gain={gain}")


def xavier_uniform_(a, gain=1.0, *, fan_in=None, fan_out=None, seed=None):
    """Glorot & Bengio (2010): U(-b, b), b = gain sqrt(6 / (fan_in + fan_out))."""
    _check_array(a)
    gain = _check_gain(gain)
    return _variance_scaling(a, gain * gain, "fan_avg", "uniform", fan_in, fan_out, seed,
                             f"gain={gain}")


def _he_gain(negative_slope, nonlinearity):
    negative_slope = _check_finite(negative_slope, "negative_slope")
    _check_choice(nonlinearity, "nonlinearity", _NONLINEARITIES)
    if nonlinearity == "leaky_relu":
        return calculate_gain("leaky_relu", negative_slope)
    if negative_slope != 0.0:
        raise ValueError(f"negative_slope={negative_slope} is only used with "
                         f"nonlinearity='leaky_relu', not {nonlinearity!r}")
    return calculate_gain(nonlinearity)


def he_normal_(a, *, negative_slope=0.0, mode="fan_in", nonlinearity="relu", fan_in=None,
               fan_out=None, seed=None):
    """He et al. (2015), torch's ``kaiming_normal_``: normal, sd = gain / sqrt(fan).

    With the defaults (relu, fan_in): sd = sqrt(2 / fan_in), the lecture's
    "He initial value". ``negative_slope`` is the leaky ReLU slope (used
    with ``nonlinearity="leaky_relu"``).
    """
    _check_array(a)
    gain = _he_gain(negative_slope, nonlinearity)
    _check_choice(mode, "mode", ("fan_in", "fan_out"))
    return variance_scaling_(a, gain * gain, mode, "normal", fan_in=fan_in, fan_out=fan_out,
                             seed=seed)


def he_uniform_(a, *, negative_slope=0.0, mode="fan_in", nonlinearity="relu", fan_in=None,
                fan_out=None, seed=None):
    """He et al. (2015), torch's ``kaiming_uniform_``: U(-b, b), b = gain sqrt(3 / fan)."""
    _check_array(a)
    gain = _he_gain(negative_slope, nonlinearity)
    _check_choice(mode, "mode", ("fan_in", "fan_out"))
    return variance_scaling_(a, gain * gain, mode, "uniform", fan_in=fan_in, fan_out=fan_out,
                             seed=seed)


def lecun_normal_(a, *, fan_in=None, seed=None):
    """LeCun (1998): normal, sd = 1 / sqrt(fan_in) — the lecture's "Xavier".

    Untruncated, as in the lecture (JAX/Keras truncate at 2 sd).
    """
    return variance_scaling_(a, 1.0, "fan_in", "normal", fan_in=fan_in, seed=seed)


def lecun_uniform_(a, *, fan_in=None, seed=None):
    """LeCun (1998): U(-b, b), b = sqrt(3 / fan_in) (variance 1/fan_in)."""
    return variance_scaling_(a, 1.0, "fan_in", "uniform", fan_in=fan_in, seed=seed)


def orthogonal_(a, gain=1.0, *, seed=None):
    """Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``.

    ``a`` is viewed as ``(a.shape[0], prod(a.shape[1:]))``; its rows (or
    columns, whichever are fewer) are orthonormal. QR of a float64 normal
    matrix from the fastoptim stream, signs fixed by diag(R) (as torch).
    """
    _check_array(a)
    gain = _check_finite(gain, "gain")
    if a.dtype == np.float32:
        _check_in_f32(gain, "gain")  # the entries are gain * q, |q| <= 1
    if a.ndim < 2:
        raise ValueError(f"a has shape {a.shape}: orthogonal_ needs 2 or more dimensions")
    gen = as_generator(seed)
    if a.size == 0:
        return a
    rows = a.shape[0]
    cols = a.size // rows
    m = gen.normal_(np.empty((max(rows, cols), min(rows, cols)), np.float64))
    q, r = np.linalg.qr(m)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    a[...] = (gain * q).reshape(a.shape)
    return a


# Allocating forms -------------------------------------------------------


def _alloc(shape, dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    if isinstance(shape, numbers.Integral) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    return np.empty(_check_shape(shape, "an int or a sequence of ints"), dt)


def _allocating(fill):
    """``name(shape, dtype=np.float32, **kwargs)`` from ``name_(a, ...)``: the
    fill's other arguments become keyword-only."""
    def make(shape, dtype=np.float32, **kwargs):
        return fill(_alloc(shape, dtype), **kwargs)

    name = fill.__name__[:-1]
    params = list(inspect.signature(fill).parameters.values())[1:]
    make.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("shape", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         inspect.Parameter("dtype", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=np.float32)]
        + [q.replace(kind=inspect.Parameter.KEYWORD_ONLY) for q in params])
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"Allocating form of :func:`{fill.__name__}`: a new array of ``shape`` and "
                    f"``dtype`` (float32 unless given), filled as ``{fill.__name__}`` fills it; "
                    f"its other arguments are keyword-only here.")
    return make


def constant(shape, value, dtype=np.float32):
    """Allocating form of :func:`constant_` (like ``np.full``)."""
    return constant_(_alloc(shape, dtype), value)


zeros = _allocating(zeros_)
ones = _allocating(ones_)
normal = _allocating(normal_)
uniform = _allocating(uniform_)
truncated_normal = _allocating(truncated_normal_)
variance_scaling = _allocating(variance_scaling_)
xavier_normal = _allocating(xavier_normal_)
xavier_uniform = _allocating(xavier_uniform_)
he_normal = _allocating(he_normal_)
he_uniform = _allocating(he_uniform_)
lecun_normal = _allocating(lecun_normal_)
lecun_uniform = _allocating(lecun_uniform_)
orthogonal = _allocating(orthogonal_)

