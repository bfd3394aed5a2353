"""Counter-based random numbers: reproducible on every machine, thread count
and instruction set, filled in C++.

The bit generator is Philox4x32-10 (Salmon et al., "Parallel random numbers:
as easy as 1, 2, 3", SC'11): a keyed bijection of a 128-bit counter, so
value i of a fill can be computed without computing values 0..i-1.

Stream policy
-------------
The values a seed gives are part of the API; they change only with a major
version.

- ``key = (seed & 0xffffffff, seed >> 32)``; counter block ``b`` of stream
  ``s`` is ``(b & 0xffffffff, b >> 32, s & 0xffffffff, s >> 32)`` and gives
  four 32-bit words ``x0..x3``.
- A fill of ``n`` values starting at the generator's ``counter`` is cut into
  groups of ``G`` values; group ``g`` uses blocks ``counter + 16 g + j``,
  ``j = 0..15``, and value ``16 k + j`` of the group comes from block ``j``:

  * uniform float32: word ``k``; ``u = (x >> 8) * 2**-24`` in [0, 1) (24
    bits, every value exact), ``min(low + (high - low) * u, high)`` in
    float32, ``low``, ``high - low`` (taken in float64) and ``high`` each
    rounded to float32 (G = 64);
  * uniform float64: words ``2k, 2k+1``; 53 bits
    ``u = ((x >> 5) * 2**26 + (y >> 6)) * 2**-53``,
    ``min(low + (high - low) * u, high)`` (G = 32);
  * normal: Box-Muller on words ``(0, 1)`` -> values ``j`` (cos) and
    ``16 + j`` (sin), words ``(2, 3)`` -> ``32 + j``, ``48 + j`` (G = 64).
    float32: ``u1 = ((x >> 8) + 1) * 2**-24`` in (0, 1], angle ``2 pi u2``,
    ``u2 = (y >> 8) * 2**-24``, computed in float32 (so ``|z| <= 5.77``);
    float64: ``u1 = (x + 1) * 2**-32``, ``u2 = y * 2**-32``, in float64
    (``|z| <= 6.661``). log, sin and cos are fastoptim's own (see
    :mod:`fastoptim.reference.random`), identical on every CPU;
  * truncated normal: word ``k``; inverse CDF in float64 of
    ``u = (x + 1/2) * 2**-32`` (G = 64).

  So value ``i`` of a fill is a pure function of (seed, stream, counter, i).
- A fill uses ``16 * ceil(n / G)`` blocks and the generator's counter moves
  past them (modulo 2**64), so successive fills never share a block.
- ``spawn`` child ``m`` (counted over all spawn calls of a generator) gets
  seed ``w0 | w1 << 32`` of Philox4x32-10 on counter ``(m, m >> 32, stream,
  stream >> 32)`` under the key ``(k0 ^ 0x5EED5EED, k1 ^ 0xC0FFEE11)`` and
  stream 0.

:mod:`fastoptim.reference.random` computes the same values in NumPy.
"""

from __future__ import annotations

import math
import numbers
import secrets
import threading

import numpy as np

from . import _core
from .reference import random as _ref

__all__ = ["Generator", "as_generator"]

_U64_MAX = (1 << 64) - 1


def _check_u64(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int in [0, 2**64 - 1], got {type(value).__name__}")
    value = int(value)
    if not 0 <= value <= _U64_MAX:
        raise ValueError(f"{name} must be in [0, 2**64 - 1], got {value}")
    return value


_INF = float("inf")


def _too_large_for_float(value, name):
    what = (f"an int of {int(value).bit_length()} bits" if isinstance(value, numbers.Integral)
            else f"a {type(value).__name__} beyond the float64 range")
    return ValueError(f"{name} is too large for a float, got {what}")


def _check_real(value, name):
    if type(value) is float or type(value) is int:  # fast path: a fill call is ~1 us
        try:
            value = float(value)
        except OverflowError:
            raise _too_large_for_float(value, name) from None
        if value != value:
            raise ValueError(f"{name} must not be NaN")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:
        raise _too_large_for_float(value, name) from None
    if value != value:
        raise ValueError(f"{name} must not be NaN")
    return value


def _check_finite(value, name):
    value = _check_real(value, name)
    if value == _INF or value == -_INF:
        raise ValueError(f"{name} must be finite, got {value}")
    return value


class Generator:
    """Philox4x32-10 generator filling float32/float64 arrays in place.

    Args:
        seed: int in [0, 2**64 - 1], or None for fresh entropy from the OS
            (``secrets``); the drawn seed is kept in ``.seed``.
        stream: int in [0, 2**64 - 1]; different streams of one seed are
            independent sequences.

    Every fill writes the array it is given (float32 or float64,
    C-contiguous, writeable) and returns it; the GIL is released and large
    fills are split across fastoptim's threads without changing a bit.
    Fills from several threads on one Generator are serialized.

    Example:
        >>> import numpy as np
        >>> from fastoptim.random import Generator
        >>> g = Generator(42)
        >>> w = g.normal_(np.empty((256, 128), np.float32), std=0.05)
        >>> again = Generator(42).normal_(np.empty((256, 128), np.float32), std=0.05)
        >>> bool((again == w).all())
        True
        >>> g.counter  # blocks used: 16 per group of 64 values
        8192
    """

    __slots__ = ("_seed", "_stream", "_counter", "_spawned", "_lock")

    def __init__(self, seed=None, *, stream=0):
        if seed is None:
            seed = secrets.randbits(64)
        self._seed = _check_u64(seed, "seed")
        self._stream = _check_u64(stream, "stream")
        self._counter = 0
        self._spawned = 0
        self._lock = threading.Lock()

    @property
    def seed(self):
        """The 64-bit key, as an int."""
        return self._seed

    @property
    def stream(self):
        """The stream id (upper 64 bits of the Philox counter)."""
        return self._stream

    @property
    def counter(self):
        """Next unused counter block (lower 64 bits of the Philox counter)."""
        return self._counter

    @property
    def state(self):
        """Everything that determines the next values, as a dict; assign a
        dict from ``state`` to restore it."""
        return {
            "bit_generator": "Philox4x32-10",
            "seed": self._seed,
            "stream": self._stream,
            "counter": self._counter,
            "spawned": self._spawned,
        }

    @state.setter
    def state(self, value):
        if not isinstance(value, dict):
            raise TypeError(f"state must be a dict, got {type(value).__name__}")
        if value.get("bit_generator", "Philox4x32-10") != "Philox4x32-10":
            raise ValueError(f"state is for bit generator {value['bit_generator']!r}, "
                             "not 'Philox4x32-10'")
        try:
            seed = _check_u64(value["seed"], "state['seed']")
            stream = _check_u64(value.get("stream", 0), "state['stream']")
            counter = _check_u64(value.get("counter", 0), "state['counter']")
            spawned = _check_u64(value.get("spawned", 0), "state['spawned']")
        except KeyError:
            raise ValueError("state must contain 'seed'") from None
        with self._lock:
            self._seed, self._stream, self._counter, self._spawned = seed, stream, counter, spawned

    def __reduce__(self):
        return (_from_state, (self.state,))

    def __repr__(self):
        return f"Generator(seed={self._seed}, stream={self._stream}) at counter {self._counter}"

    def spawn(self, n):
        """``n`` new Generators, each with its own seed (Philox key) derived
        from this generator's seed, stream and the child's index, and
        ``stream=0``, counter 0 (see the module's stream policy): their values
        are independent of this generator's and of each other's because the
        keys differ, not the ``stream`` argument. Calling again gives
        further, different children."""
        n = _check_u64(n, "n")
        with self._lock:
            start = self._spawned
            self._spawned += n
        return [Generator(_ref.spawn_seed(self._seed, self._stream, start + i))
                for i in range(n)]

    def _fill(self, out, dist, params):
        with self._lock:
            used = _core.random_fill(out, dist, self._seed, self._stream, self._counter, params)
            self._counter = (self._counter + used) & _U64_MAX
        return out

    def uniform_(self, out, low=0.0, high=1.0):
        """Fill ``out`` with uniform values in [low, high).

        ``low`` and ``high`` are rounded to ``out``'s dtype; float32 values
        are ``min(low + (high - low) * u, high)`` with ``u`` a multiple of
        2**-24 in [0, 1) and ``high - low`` rounded once, float64 uses 53
        bits. With low = 0, high = 1 the upper bound is never reached;
        otherwise rounding may give ``high`` itself, never more. Refused
        (ValueError) when a bound or ``high - low`` is not finite in the dtype.
        """
        return self._fill(out, "uniform", _uniform_params(low, high, _is_f32(out)))

    def normal_(self, out, mean=0.0, std=1.0):
        """Fill ``out`` with normal(mean, std) values (Box-Muller; see the
        stream policy). Refused (ValueError) when ``mean`` or ``std`` is not
        finite in ``out``'s dtype or ``|mean| + zmax * std`` overflows it
        (zmax = 5.77 float32, 6.661 float64: the largest |z| the transform
        gives)."""
        return self._fill(out, "normal", _normal_params(mean, std, _is_f32(out)))

    def truncated_normal_(self, out, mean=0.0, std=1.0, a=-2.0, b=2.0):
        """Fill ``out`` with normal(mean, std) values conditioned on
        ``a <= (x - mean) / std <= b``.

        Unlike ``torch.nn.init.trunc_normal_``, ``a`` and ``b`` are in units
        of ``std`` around ``mean`` (the default keeps values within 2 sd).
        Inverse-CDF sampling in float64, one counter word per value; values
        always stay within the bounds, which may be infinite.

        The quantile is Giles' single-precision erfinv: relative error below
        1.3e-7 while |z| <= 5 and 5e-7 at 5.5, but 6e-5 at 6 sd, 5e-3 at 7
        and the wrong sign past about 9.5. So the sampler is accurate only
        within about 5.5 sd, and an interval with more than 10% of its
        probability mass beyond 5.5 sd is refused (ValueError), e.g.
        [5.2, inf). [5, inf) (6.6% beyond) is accepted, within Kolmogorov
        distance 1e-5 of the exact law, and so is every interval containing
        the centre. A window narrower than the quantile's error (1.3e-7 |z|)
        piles its values on the bounds. Also refused: ``mean``, ``std`` not
        finite in ``out``'s dtype, or ``|mean| + std * max(|a|, |b|)`` (at
        most 7.5 std) overflowing it.
        """
        return self._fill(out, "truncated_normal",
                          _truncated_normal_params(mean, std, a, b, f32=_is_f32(out)))


# The checked parameters of each distribution, shared by the Generator
# methods and fastoptim.init, which checks them before it draws a seed from a
# numpy.random.Generator (so a refused call leaves that generator as it was).
# ``f32``: the output is float32, so every parameter and every value that can
# come out must be finite in float32, not only in float64.

# float64 values of magnitude >= this round to inf in float32 (halfway between
# the largest float32, 3.4028235e38, and 2**128; the tie goes to 2**128).
_F32_OVERFLOW = 2.0**128 - 2.0**103
_F32_DTYPE = np.dtype(np.float32)
# Largest |z| of the Box-Muller transform (rounded up): sqrt(-2 log 2**-24) =
# 5.7681 in float32, sqrt(-2 log 2**-32) = 6.6604 in float64, |cos|, |sin| <= 1.
_NORMAL_ZMAX_F32 = 5.77
_NORMAL_ZMAX_F64 = 6.661
# The truncated normal's quantile (Giles' single-precision erfinv) has relative
# error <= 5e-7 within 5.5 sd and grows fast beyond (3e-6 at 5.63, 6e-5 at 6,
# 8e-4 at 6.5; wrong sign past about 9.5 sd). An interval with more than
# _TN_MAX_FAR_MASS of its mass beyond _TN_ACCURATE_SD is refused: the accepted
# ones keep the sampled law within Kolmogorov distance ~1.1e-5 of the exact one
# ([5.05, inf); a KS test needs ~1e10 values to see it), while [5.5, inf) is
# at 1.2e-4 and [6, inf) at 2.3e-3 (KS p ~ 1e-6 on 1e6 values): distances of
# the image of u under the kernels' quantile map (the reference's, bit for
# bit) on a dense grid of u, against scipy's ndtr.
_TN_ACCURATE_SD = 5.5
_TN_MAX_FAR_MASS = 0.1
_PHI_FAR = 0.5 * math.erfc(_TN_ACCURATE_SD / math.sqrt(2.0))  # Phi(-5.5)
# Largest |z| the quantile returns on an accepted interval (7.4951, at the
# smallest probability such an interval reaches: 2**-33 * 10 Phi(-5.5)).
_TN_ZMAX = 7.5


def _is_f32(out):
    """Whether ``out`` is a float32 array (its fill's parameters then must fit
    float32; anything else gets the float64 limits, or is refused by the fill)."""
    return isinstance(out, np.ndarray) and out.dtype == _F32_DTYPE


def _check_in_f32(value, name):
    if not -_F32_OVERFLOW < value < _F32_OVERFLOW:
        raise ValueError(f"{name}={value} overflows float32 (largest float32: 3.4028235e+38)")


def _check_bound(mean, std, zmax, f32, what, in_f32=False):
    """Refuses ``mean + z * std`` that can overflow the output dtype, |z| <= zmax.

    ``in_f32``: the kernel computes in float32 on the rounded mean and std
    (the normal); else in float64, the result cast to the output (the
    truncated normal).
    """
    if std == 0.0:
        return
    if in_f32:
        # fl(m + fl(s * z)) is finite when |m| + |s * z| rounded up stays
        # below the rounding-to-inf threshold; z <= zmax, the product's
        # rounding covered by the margin on that term alone.
        m, sd = abs(float(np.float32(mean))), float(np.float32(std))
        if m + sd * zmax * (1.0 + 2.0**-22) < _F32_OVERFLOW:
            return
    elif abs(mean) + std * zmax < (_F32_OVERFLOW if f32 else _INF):
        return  # rounding is monotone: no value exceeds this bound
    dtype = "float32" if f32 else "float64"
    raise ValueError(f"mean={mean}, std={std} would overflow {dtype}: {what} reach "
                     f"|mean| + {zmax} * std")


def _mean_std(mean, std, f32):
    mean = _check_finite(mean, "mean")
    std = _check_finite(std, "std")
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    if f32 and not (-_F32_OVERFLOW < mean < _F32_OVERFLOW and std < _F32_OVERFLOW):
        _check_in_f32(mean, "mean")
        _check_in_f32(std, "std")
    return mean, std


def _uniform_params(low, high, f32=False):
    """(low, high - low, high), or a ValueError/TypeError naming the bad argument."""
    low = _check_finite(low, "low")
    high = _check_finite(high, "high")
    if low > high:
        raise ValueError(f"low must be <= high, got low={low}, high={high}")
    span = high - low
    if f32:
        if not (-_F32_OVERFLOW < low and high < _F32_OVERFLOW):
            _check_in_f32(low, "low")
            _check_in_f32(high, "high")
        if span >= _F32_OVERFLOW:
            raise ValueError(f"high - low overflows float32: low={low}, high={high}")
    elif span == _INF:
        raise ValueError(f"high - low overflows: low={low}, high={high}")
    return (low, span, high)


def _normal_params(mean, std, f32=False):
    mean, std = _mean_std(mean, std, f32)
    _check_bound(mean, std, _NORMAL_ZMAX_F32 if f32 else _NORMAL_ZMAX_F64, f32,
                 "Box-Muller values", in_f32=f32)
    return (mean, std)


def _truncated_normal_params(mean, std, a, b, names=("a", "b"), f32=False):
    """The kernel's parameters; ``names`` are the bounds' argument names in errors."""
    mean, std = _mean_std(mean, std, f32)
    a = _check_real(a, names[0])
    b = _check_real(b, names[1])
    if not a < b:
        raise ValueError(f"{names[0]} must be < {names[1]}, got {names[0]}={a}, {names[1]}={b}")
    params = _ref.truncated_normal_params(mean, std, a, b)
    _, _, pa, pspan, lo, hi = params
    if not pspan > 1e-300:
        raise ValueError(f"the interval [{names[0]}, {names[1]}] = [{a}, {b}] has no "
                         "probability mass in double precision; move it closer to 0")
    # (lo, hi) leans left (lo + hi <= 0): mass beyond -5.5 sd, and beyond +5.5
    # only when the interval spans the centre. The default [-2, 2] stops here.
    if lo < -_TN_ACCURATE_SD and std != 0.0:  # std 0: every value is the mean
        far = 0.5 * math.erfc(-min(hi, -_TN_ACCURATE_SD) / math.sqrt(2.0)) - pa
        if hi > _TN_ACCURATE_SD:
            far += _PHI_FAR - 0.5 * math.erfc(hi / math.sqrt(2.0))
        if far > _TN_MAX_FAR_MASS * pspan:
            raise ValueError(
                f"the interval [{names[0]}, {names[1]}] = [{a}, {b}] has {far / pspan:.1%} of "
                f"its probability mass beyond {_TN_ACCURATE_SD} sd; the sampler is accurate "
                f"only within about {_TN_ACCURATE_SD} sd (at most {_TN_MAX_FAR_MASS:.0%} of "
                "the mass may lie beyond), so its values would be wrong: move the interval "
                "closer to 0")
    zmax = min(max(abs(a), abs(b)), _TN_ZMAX)
    _check_bound(mean, std, zmax, f32, f"values within [{names[0]}, {names[1]}]")
    return params


def _from_state(state):
    g = Generator(0)
    g.state = state
    return g


def as_generator(seed):
    """A fastoptim Generator from any accepted ``seed`` argument.

    int -> Generator(seed); fastoptim Generator -> itself;
    ``numpy.random.Generator`` -> Generator seeded with one uint64 drawn from
    it (advancing it); None -> Generator with fresh OS entropy.
    """
    if seed is None:
        return Generator()
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, np.random.Generator):
        return Generator(int(seed.integers(0, 1 << 64, dtype=np.uint64)))
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)):
        return Generator(seed)
    raise TypeError("seed must be an int, a fastoptim.random.Generator, a "
                    f"numpy.random.Generator or None, got {type(seed).__name__}")
