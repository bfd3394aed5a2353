"""NumPy version of fastoptim's random fills: the same Philox4x32-10 stream,
the same layout and the same formulas in the same order as the C++ kernels
(cpp/fastoptim/random/), so uniform and normal fills agree bit for bit.

Slow (tens of ns per value); for tests and for reading. Imports nothing
compiled. The stream policy is documented in :mod:`fastoptim.random`.
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

__all__ = [
    "PHILOX_M0",
    "PHILOX_M1",
    "PHILOX_W0",
    "PHILOX_W1",
    "philox4x32",
    "group_size",
    "blocks_used",
    "spawn_seed",
    "truncated_normal_params",
    "random_bits",
    "uniform",
    "normal",
    "truncated_normal",
    "log_f32",
    "log_f64",
    "sincos_turns_f32",
    "sincos_turns_f64",
    "normal_quantile",
]

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
_U32 = 0xFFFFFFFF
_U64 = (1 << 64) - 1
# Key tweak for spawn(): children draw their seeds from a key their parent's
# fills never use.
_SPAWN_TWEAK = (0x5EED5EED, 0xC0FFEE11)


def philox4x32(ctr, key, rounds=10):
    """Philox4x32-``rounds`` of counter words ``ctr`` (4 arrays or ints) under
    ``key`` (2 ints). Returns a (4, ...) uint32 array."""
    c: Any = [np.asarray(x, dtype=np.uint64) & _U32 for x in ctr]
    c = np.broadcast_arrays(*c)
    c = [x.copy() for x in c]
    k0, k1 = int(key[0]) & _U32, int(key[1]) & _U32
    for _ in range(rounds):
        p0 = c[0] * np.uint64(PHILOX_M0)
        p1 = c[2] * np.uint64(PHILOX_M1)
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(_U32)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(_U32)
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
        k0 = (k0 + PHILOX_W0) & _U32
        k1 = (k1 + PHILOX_W1) & _U32
    return np.stack(c).astype(np.uint32)


def group_size(dist, dtype):
    """Values per group of 16 Philox blocks: 32 for uniform float64, else 64."""
    return 32 if (dist == "uniform" and np.dtype(dtype) == np.float64) else 64


def blocks_used(dist, dtype, n):
    """Counter blocks a fill of ``n`` values uses: 16 * ceil(n / group_size)."""
    g = group_size(dist, dtype)
    return 16 * (-(-int(n) // g))


def spawn_seed(seed, stream, index):
    """Seed of child number ``index`` of Generator(seed, stream=stream).spawn."""
    w = philox4x32(
        (index & _U32, (index >> 32) & _U32, stream & _U32, (stream >> 32) & _U32),
        ((seed & _U32) ^ _SPAWN_TWEAK[0], (seed >> 32) ^ _SPAWN_TWEAK[1]),
    )
    return int(w[0]) | (int(w[1]) << 32)


def _phi(x):
    # erfc keeps relative precision in the lower tail, where we evaluate it.
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def truncated_normal_params(mean, std, lower, upper):
    """Kernel parameters (mean, scale, Phi(lo), Phi(hi) - Phi(lo), lo, hi) for a
    normal(mean, std) truncated to [mean + lower*std, mean + upper*std].

    When the interval leans right (lower + upper > 0) it is mirrored
    (scale = -std) so the quantile is taken in the lower tail, where Phi and
    its inverse keep their relative precision.
    """
    lo, hi, scale = float(lower), float(upper), float(std)
    if lo + hi > 0:
        lo, hi, scale = -hi, -lo, -scale
    pa = _phi(lo)
    pspan = _phi(hi) - pa
    return (float(mean), scale, pa, pspan, lo, hi)


def _words(n_groups, seed, stream, counter):
    """(4, n_groups * 16) words: column 16 g + j is block counter + 16 g + j."""
    block = (np.uint64(counter) + np.arange(16 * n_groups, dtype=np.uint64)) if n_groups else (
        np.zeros(0, np.uint64))
    ctr = (block & np.uint64(_U32), block >> np.uint64(32), stream & _U32, stream >> 32)
    return philox4x32(ctr, (seed & _U32, seed >> 32))


def _grouped(words, n_groups):
    """words (4, 16 g) -> (g, 4, 16): [group, word k, block j]."""
    return words.reshape(4, n_groups, 16).transpose(1, 0, 2)


def random_bits(n, seed, stream=0, counter=0):
    """The uint32 words of a fill of n: value 16 k + j of group g is word k of
    block counter + 16 g + j."""
    ng = -(-n // 64)
    return np.ascontiguousarray(_grouped(_words(ng, seed, stream, counter), ng)).reshape(-1)[:n]


F32 = np.float32


def log_f32(x):
    """Natural log as the float32 kernel computes it (x positive, normal)."""
    x = np.asarray(x, dtype=np.float32)
    b = x.view(np.uint32)
    e = ((b >> np.uint32(23)) & np.uint32(0xFF)).astype(np.float32) - F32(127.0)
    m = ((b & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)).view(np.float32)
    big = m > F32(1.41421356)
    m = np.where(big, m * F32(0.5), m)
    e = e + big.astype(np.float32)
    s = (m - F32(1.0)) / (m + F32(1.0))
    z = s * s
    p = np.full_like(s, F32(1.0 / 11.0))
    for c in (1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0):
        p = p * z + F32(c)
    t = s * p
    t = t + t
    t = t + e * F32(-2.12194440e-4)
    return e * F32(0.693359375) + t


# float64 polynomials (highest degree first): Chebyshev fits by
# mpmath.chebyfit at 50 digits, rounded to double.
# log: (atanh(s)/s - 1)/s^2 on s^2 in [0, ((sqrt2-1)/(sqrt2+1))^2], error 1.6e-16
# (times s^2 <= 0.03 in the result), then the leading 1.
_LOG_F64 = (0.07308224842521703, 0.07665860800278021, 0.09091444562630861,
            0.1111110556739754, 0.14285714312987743, 0.19999999999949752,
            0.3333333333333335, 1.0)
# sin: (sin(p)/p - 1)/p^2 and cos: (cos(p) - 1)/p^2 on p^2 in [0, (pi/4)^2].
_SIN_F64 = (1.5918129294866608e-10, -2.5051131845003624e-08, 2.755731610255244e-06,
            -0.00019841269836758574, 0.008333333333330948, -0.16666666666666666)
_COS_F64 = (-1.1367998654022494e-11, 2.0875886738047052e-09, -2.7557315566341895e-07,
            2.480158729369346e-05, -0.0013888888888880775, 0.04166666666666664, -0.5)


def log_f64(x):
    """Natural log as the float64 kernel computes it (x positive, normal)."""
    x = np.asarray(x, dtype=np.float64)
    b = x.view(np.uint64)
    e = ((b >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.float64) - 1023.0
    m = ((b & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000)).view(np.float64)
    big = m > 1.4142135623730951
    m = np.where(big, m * 0.5, m)
    e = e + big.astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    p = np.full_like(s, _LOG_F64[0])
    for c in _LOG_F64[1:]:
        p = p * z + c
    t = s * p
    t = t + t
    t = t + e * 1.90821492927058770002e-10
    return e * 6.93147180369123816490e-01 + t


def _quadrant(c, s, q, utype, shift):
    swap = (q & utype(1)) != 0
    cb, sb = c.view(utype), s.view(utype)
    rc = np.where(swap, sb, cb) ^ (((q + utype(1)) & utype(2)) << utype(shift))
    rs = np.where(swap, cb, sb) ^ ((q & utype(2)) << utype(shift))
    return rc.view(c.dtype), rs.view(s.dtype)


def sincos_turns_f32(t):
    """(cos 2 pi t, sin 2 pi t) as the float32 kernel computes them, t in
    [0, 1) a multiple of 2^-24."""
    t = np.asarray(t, dtype=np.float32)
    y = t * F32(4.0) + F32(8388608.0)
    q = y.view(np.uint32) & np.uint32(3)
    f = t - (y - F32(8388608.0)) * F32(0.25)
    ph = f * F32(6.283185307179586476925)
    z = ph * ph
    sp = np.full_like(z, F32(1.0 / 362880.0))
    for c in (-1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0):
        sp = sp * z + F32(c)
    s = ph + ph * (z * sp)
    cp = np.full_like(z, F32(-1.0 / 3628800.0))
    for c in (1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0, -0.5):
        cp = cp * z + F32(c)
    c = F32(1.0) + z * cp
    return _quadrant(c, s, q, np.uint32, 30)


def sincos_turns_f64(t):
    """(cos 2 pi t, sin 2 pi t) as the float64 kernel computes them, t in
    [0, 1) a multiple of 2^-32."""
    t = np.asarray(t, dtype=np.float64)
    y = t * 4.0 + 4503599627370496.0
    q = y.view(np.uint64) & np.uint64(3)
    f = t - (y - 4503599627370496.0) * 0.25
    ph = f * 6.283185307179586476925
    z = ph * ph
    sp = np.full_like(z, _SIN_F64[0])
    for c in _SIN_F64[1:]:
        sp = sp * z + c
    s = ph + ph * (z * sp)
    cp = np.full_like(z, _COS_F64[0])
    for c in _COS_F64[1:]:
        cp = cp * z + c
    c = 1.0 + z * cp
    return _quadrant(c, s, q, np.uint64, 62)


_GILES_CENTRAL = (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def normal_quantile(p):
    """Phi^-1(p) as the kernels compute it: sqrt(2) erfinv(2p - 1) with Giles'
    single-precision erfinv coefficients, in float64. Relative error below
    1.3e-7 for |z| <= 5, 5e-7 at 5.5, 6e-5 at 6, 5e-3 at 7; wrong sign past
    about 9.5 sd."""
    p = np.asarray(p, dtype=np.float64)
    x = p * 2.0 - 1.0
    q = p * (1.0 - p)
    w = -log_f64(q * 4.0)
    w1 = w - 2.5
    a = np.full_like(w, 2.81022636e-08)
    for c in _GILES_CENTRAL:
        a = a * w1 + c
    w2 = np.sqrt(w) - 3.0
    b = np.full_like(w, -0.000200214257)
    for c in _GILES_TAIL:
        b = b * w2 + c
    r = np.where(w < 5.0, a, b)
    return (r * x) * 1.4142135623730950488


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def uniform(n, dtype, seed, stream=0, counter=0, low=0.0, high=1.0):
    """Values of Generator.uniform_ on an array of n values:
    min(low + (high - low) u, high), low, high - low and high each rounded to
    the dtype (the rounded low and span alone can overshoot high); the min is
    the kernels' select ``v > high ? high : v`` (which keeps +0.0 for high =
    -0.0, where np.minimum may not)."""
    dtype = _check_dtype(dtype)
    g = group_size("uniform", dtype)
    ng = -(-n // g)
    w = _grouped(_words(ng, seed, stream, counter), ng)  # (ng, 4, 16)
    if dtype == np.float32:
        u = (w >> np.uint32(8)).astype(np.float32) * F32(5.9604644775390625e-08)
        out = F32(low) + F32(high - low) * u
        out = np.where(out > F32(high), F32(high), out)
    else:
        a = (w[:, 0::2] >> np.uint32(5)).astype(np.float64)
        b = (w[:, 1::2] >> np.uint32(6)).astype(np.float64)
        u = (a * 67108864.0 + b) * 1.1102230246251565e-16
        out = float(low) + float(high - low) * u
        out = np.where(out > float(high), float(high), out)
    return np.ascontiguousarray(out).reshape(-1)[:n]


def normal(n, dtype, seed, stream=0, counter=0, mean=0.0, std=1.0):
    """Values of Generator.normal_ on an array of n values (Box-Muller)."""
    dtype = _check_dtype(dtype)
    ng = -(-n // 64)
    w = _grouped(_words(ng, seed, stream, counter), ng)
    out = np.empty((ng, 4, 16), dtype=dtype)
    for k in range(2):
        x, y = w[:, 2 * k], w[:, 2 * k + 1]
        m: Any
        sd: Any
        if dtype == np.float32:
            u1 = ((x >> np.uint32(8)) + np.uint32(1)).astype(np.float32) * F32(2.0**-24)
            u2 = (y >> np.uint32(8)).astype(np.float32) * F32(2.0**-24)
            r = np.sqrt(log_f32(u1) * F32(-2.0))
            c, s = sincos_turns_f32(u2)
            m, sd = F32(mean), F32(std)
        else:
            u1 = (x.astype(np.float64) + 1.0) * 2.3283064365386963e-10
            u2 = y.astype(np.float64) * 2.3283064365386963e-10
            r = np.sqrt(log_f64(u1) * -2.0)
            c, s = sincos_turns_f64(u2)
            m, sd = float(mean), float(std)
        out[:, 2 * k] = m + sd * (r * c)
        out[:, 2 * k + 1] = m + sd * (r * s)
    return out.reshape(-1)[:n]


def truncated_normal(n, dtype, seed, stream=0, counter=0, mean=0.0, std=1.0, lower=-2.0,
                     upper=2.0):
    """Values of Generator.truncated_normal_ (bounds in units of std)."""
    dtype = _check_dtype(dtype)
    mean, scale, pa, pspan, zlo, zhi = truncated_normal_params(mean, std, lower, upper)
    ng = -(-n // 64)
    w = _grouped(_words(ng, seed, stream, counter), ng)
    u = (w.astype(np.float64) + 0.5) * 2.3283064365386963e-10
    z = normal_quantile(pa + u * pspan)
    z = np.where(z < zlo, zlo, z)
    z = np.where(z > zhi, zhi, z)
    out = (mean + scale * z).astype(dtype)
    return np.ascontiguousarray(out).reshape(-1)[:n]
