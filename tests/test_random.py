"""fastoptim.random: Philox4x32-10 known answers, the C++ fills against the
NumPy reference bit for bit (every ISA level, 1 and 2 threads, odd sizes,
misaligned views, counter wrap-around), the Generator's counter / state /
spawn policy, statistics of the streams, and the error table."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from fastoptim import _core
from fastoptim.random import Generator, as_generator
from fastoptim.reference import random as ref
from _stats import ks_bound, ks_statistic

ISAS = list(_core.supported_isas())
DISTS = ("uniform", "normal", "truncated_normal")
DTYPES = (np.float32, np.float64)
U64 = (1 << 64) - 1


@pytest.fixture(autouse=True)
def _restore_random_threshold():
    old = _core.get_random_parallel_threshold()
    yield
    _core.set_random_parallel_threshold(old)


# Random123 kat_vectors, philox4x32_10: (counter, key, expected).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr,key,want", KAT)
def test_reference_philox_known_answers(ctr, key, want):
    assert [int(v) for v in ref.philox4x32(ctr, key)] == list(want)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("ctr,key,want", KAT)
def test_kernel_philox_known_answers(isa, ctr, key, want):
    _core.set_isa(isa)
    out = np.zeros(64, np.uint32)
    _core.random_bits(out, key[0] | key[1] << 32, ctr[2] | ctr[3] << 32, ctr[0] | ctr[1] << 32)
    # Block j of the group is at positions j, 16 + j, 32 + j, 48 + j.
    assert [int(out[16 * k]) for k in range(4)] == list(want)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("counter", [0, 5, U64 - 20])
def test_kernel_bits_match_reference_layout(isa, counter):
    _core.set_isa(isa)
    n = 64 * 3 + 17
    out = np.zeros(n, np.uint32)
    used = _core.random_bits(out, 0x0123456789ABCDEF, 99, counter)
    assert used == 16 * 4
    np.testing.assert_array_equal(out, ref.random_bits(n, 0x0123456789ABCDEF, 99, counter))


def _fill(gen, dist, out, **kw):
    return getattr(gen, dist + "_")(out, **kw)


PARAMS = {
    "uniform": dict(low=-1.5, high=2.25),
    "normal": dict(mean=0.25, std=3.0),
    "truncated_normal": dict(mean=-1.0, std=2.0, a=-1.5, b=2.5),
}


def _reference(dist, n, dtype, seed, stream, counter):
    kw = dict(PARAMS[dist])
    if dist == "truncated_normal":
        kw["lower"], kw["upper"] = kw.pop("a"), kw.pop("b")
    return getattr(ref, dist)(n, dtype, seed, stream, counter, **kw)


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    if not np.array_equal(a.view(np.uint8), b.view(np.uint8)):
        bad = np.flatnonzero(a != b)
        raise AssertionError(f"{bad.size} of {a.size} values differ, first at {bad[:5]}: "
                             f"{a[bad[:5]]} vs {b[bad[:5]]}")


SIZES = [0, 1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 1000, 4097]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", DISTS)
def test_fill_matches_reference_bit_for_bit(isa, dtype, dist):
    _core.set_isa(isa)
    seed, stream = 0xDEADBEEF12345678, 3
    for n in SIZES:
        for offset in (0, 1):  # offset 1: a view not aligned to 16/32/64 bytes
            counter = 7 * n + offset
            buf = np.full(n + 2, 12345.0, dtype)
            out = buf[offset:offset + n]
            g = Generator(seed, stream=stream)
            g.state = dict(g.state, counter=counter)
            assert _fill(g, dist, out, **PARAMS[dist]) is out
            _same_bits(out, _reference(dist, n, dtype, seed, stream, counter))
            # Nothing outside the array was written.
            assert np.all(np.delete(buf, np.arange(offset, offset + n)) == 12345.0)
            assert g.counter == counter + ref.blocks_used(dist, dtype, n)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", DISTS)
def test_fill_wraps_counter_modulo_2_64(dtype, dist):
    g = Generator(5, stream=U64)
    g.state = dict(g.state, counter=U64 - 16)
    out = _fill(g, dist, np.empty(300, dtype), **PARAMS[dist])
    _same_bits(out, _reference(dist, 300, dtype, 5, U64, U64 - 16))
    assert g.counter == (U64 - 16 + ref.blocks_used(dist, dtype, 300)) & U64


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", DISTS)
def test_same_values_for_every_isa_and_thread_count(dtype, dist):
    n = 300_001  # odd, several threads' worth once the threshold is lowered
    results = []
    for isa in ISAS:
        _core.set_isa(isa)
        for threads, threshold in ((1, 1 << 30), (2, 1000)):
            _core.set_num_threads(threads)
            _core.set_random_parallel_threshold(threshold)
            results.append(_fill(Generator(77), dist, np.empty(n, dtype), **PARAMS[dist]))
    for r in results[1:]:
        _same_bits(r, results[0])
    # and the reference agrees on a slice of it (the far end included)
    _same_bits(results[0][-5000:], _reference(dist, n, dtype, 77, 0, 0)[-5000:])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", ["uniform", "normal"])
def test_large_fill_with_streaming_stores_matches_reference(dtype, dist):
    # >= 4 MiB takes the non-temporal store path; offset 1 misaligns it.
    n = (1 << 20) + 37
    buf = np.full(n + 2, -7.0, dtype)
    out = buf[1:n + 1]
    for threads in (1, 2):
        _core.set_num_threads(threads)
        _core.set_random_parallel_threshold(1 << 16)
        _fill(Generator(5, stream=2), dist, out, **PARAMS[dist])
        _same_bits(out, _reference(dist, n, dtype, 5, 2, 0))
        assert buf[0] == -7.0 and buf[-1] == -7.0


def test_generator_pickles_and_copies_with_its_state():
    import copy
    import pickle

    g = Generator(17, stream=3)
    g.normal_(np.empty(100))
    for h in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert h.state == g.state
        _same_bits(h.uniform_(np.empty(50)), ref.uniform(50, np.float64, 17, 3, g.counter))


def test_zero_d_and_multi_d_arrays_fill_in_c_order():
    a = Generator(4).normal_(np.empty((), np.float32))
    _same_bits(a.reshape(1), ref.normal(1, np.float32, 4))
    b = Generator(4).uniform_(np.empty((3, 5, 7)))
    _same_bits(b.ravel(), ref.uniform(105, np.float64, 4))


def test_successive_fills_continue_the_stream():
    g = Generator(11)
    a = g.normal_(np.empty(100, np.float32))
    b = g.normal_(np.empty(100, np.float32))
    assert not np.any(a == b)
    _same_bits(b, ref.normal(100, np.float32, 11, 0, ref.blocks_used("normal", np.float32, 100)))
    assert g.counter == 2 * 32


def test_state_restores_the_stream():
    g = Generator(2024, stream=9)
    g.uniform_(np.empty(10))
    saved = g.state
    a = g.normal_(np.empty(1000))
    h = Generator(0)
    h.state = saved
    assert (h.seed, h.stream, h.counter) == (2024, 9, saved["counter"])
    _same_bits(h.normal_(np.empty(1000)), a)


def test_seed_and_stream_select_different_streams():
    base = Generator(1).uniform_(np.empty(1000, np.float32))
    for other in (Generator(2), Generator(1, stream=1), Generator(1 << 32)):
        assert np.mean(other.uniform_(np.empty(1000, np.float32)) == base) < 0.01


def test_none_seed_draws_fresh_entropy():
    seeds = {Generator().seed for _ in range(8)}
    assert len(seeds) == 8
    assert all(0 <= s <= U64 for s in seeds)


def test_spawn_children_are_distinct_reproducible_and_follow_policy():
    g = Generator(123, stream=4)
    kids = g.spawn(3) + g.spawn(2)
    assert [k.seed for k in kids] == [ref.spawn_seed(123, 4, i) for i in range(5)]
    assert len({k.seed for k in kids}) == 5
    assert all(k.stream == 0 and k.counter == 0 for k in kids)
    again = Generator(123, stream=4).spawn(5)
    assert [k.seed for k in again] == [k.seed for k in kids]
    # The parent's own stream is untouched by spawning.
    _same_bits(g.normal_(np.empty(64)), Generator(123, stream=4).normal_(np.empty(64)))


def test_as_generator_accepts_each_seed_kind():
    g = Generator(3)
    assert as_generator(g) is g
    assert as_generator(42).seed == 42
    assert as_generator(np.uint64(U64)).seed == U64
    a = as_generator(np.random.default_rng(5)).seed
    b = as_generator(np.random.default_rng(5)).seed
    assert a == b == int(np.random.default_rng(5).integers(0, 1 << 64, dtype=np.uint64))
    assert isinstance(as_generator(None), Generator)


@pytest.mark.parametrize("bad", [1.5, "1", [1], True, object()])
def test_as_generator_rejects_other_types(bad):
    with pytest.raises(TypeError, match="seed"):
        as_generator(bad)


def _ro():
    a = np.zeros(8, np.float32)
    a.flags.writeable = False
    return a


ERRORS = [
    (lambda g: g.normal_([0.0, 1.0]), TypeError, r"out must be a numpy.ndarray"),
    (lambda g: g.normal_(np.zeros(8, np.int32)), TypeError, r"out has dtype int32"),
    (lambda g: g.uniform_(np.zeros(8, np.float16)), TypeError, r"out has dtype float16"),
    (lambda g: g.uniform_(np.zeros(8, ">f8")), TypeError, r"out has dtype"),
    (lambda g: g.normal_(_ro()), ValueError, r"out is read-only"),
    (lambda g: g.normal_(np.zeros((4, 4))[:, 1]), ValueError, r"out is not C-contiguous"),
    (lambda g: g.normal_(np.zeros(8), std=-1.0), ValueError, r"std must be >= 0"),
    (lambda g: g.normal_(np.zeros(8), mean=float("nan")), ValueError, r"mean must not be NaN"),
    (lambda g: g.normal_(np.zeros(8), std=float("inf")), ValueError, r"std must be finite"),
    (lambda g: g.normal_(np.zeros(8), std="1"), TypeError, r"std must be a real number"),
    (lambda g: g.uniform_(np.zeros(8), 2.0, 1.0), ValueError, r"low must be <= high"),
    (lambda g: g.uniform_(np.zeros(8), -1e308, 1e308), ValueError, r"high - low overflows"),
    (lambda g: g.truncated_normal_(np.zeros(8), a=1.0, b=1.0), ValueError, r"a must be < b"),
    (lambda g: g.truncated_normal_(np.zeros(8), a=40.0, b=50.0), ValueError,
     r"no probability mass"),
    (lambda g: g.truncated_normal_(np.zeros(8), std=-2.0), ValueError, r"std must be >= 0"),
    # Tail intervals the quantile cannot sample (more than 10% of the mass beyond 5.5 sd).
    (lambda g: g.truncated_normal_(np.zeros(8), a=6.0, b=float("inf")), ValueError,
     r"\[a, b\] = \[6.0, inf\] has 100.0% of its probability mass beyond 5.5 sd; the sampler "
     r"is accurate only within about 5.5 sd"),
    (lambda g: g.truncated_normal_(np.zeros(8, np.float32), a=-8.0, b=-7.0), ValueError,
     r"\[a, b\] = \[-8.0, -7.0\].*accurate only within about 5.5 sd.*move the interval"),
    # Parameters or values beyond the output dtype (float32 here unless said).
    (lambda g: g.uniform_(np.zeros(8, np.float32), -3e38, 3e38), ValueError,
     r"high - low overflows float32"),
    (lambda g: g.uniform_(np.zeros(8, np.float32), 0.0, 1e39), ValueError,
     r"high=1e\+39 overflows float32"),
    (lambda g: g.uniform_(np.zeros(8, np.float32), -1e39, 0.0), ValueError,
     r"low=-1e\+39 overflows float32"),
    (lambda g: g.normal_(np.zeros(8, np.float32), std=1e39), ValueError,
     r"std=1e\+39 overflows float32"),
    (lambda g: g.normal_(np.zeros(8, np.float32), mean=-1e39), ValueError,
     r"mean=-1e\+39 overflows float32"),
    (lambda g: g.normal_(np.zeros(8, np.float32), std=6e37), ValueError,
     r"mean=0.0, std=6e\+37 would overflow float32: .*5.77"),
    (lambda g: g.normal_(np.zeros(8, np.float32), mean=3e38, std=1e37), ValueError,
     r"would overflow float32"),
    (lambda g: g.normal_(np.zeros(8), std=3e307), ValueError,
     r"std=3e\+307 would overflow float64: .*6.661"),
    (lambda g: g.truncated_normal_(np.zeros(8, np.float32), std=2e38), ValueError,
     r"std=2e\+38 would overflow float32"),
    (lambda g: g.truncated_normal_(np.zeros(8, np.float32), mean=1e39), ValueError,
     r"mean=1e\+39 overflows float32"),
    (lambda g: g.truncated_normal_(np.zeros(8), std=1e308, a=-5.0, b=5.0), ValueError,
     r"would overflow float64"),
    (lambda g: g.truncated_normal_(np.zeros(8), std=1e308, a=-np.inf, b=np.inf), ValueError,
     r"would overflow float64"),
    # Python ints beyond float64: a ValueError naming the argument, not OverflowError.
    (lambda g: g.normal_(np.zeros(8), mean=10**400), ValueError,
     r"mean is too large for a float, got an int of 1329 bits"),
    (lambda g: g.uniform_(np.zeros(8), high=-(10**400)), ValueError, r"high is too large"),
    (lambda g: g.truncated_normal_(np.zeros(8), b=10**400), ValueError, r"b is too large"),
    (lambda g: g.spawn(-1), ValueError, r"n must be in"),
    (lambda g: Generator(-1), ValueError, r"seed must be in \[0, 2\*\*64 - 1\]"),
    (lambda g: Generator(1 << 64), ValueError, r"seed must be in"),
    (lambda g: Generator(1.0), TypeError, r"seed must be an int"),
    (lambda g: Generator(1, stream=-2), ValueError, r"stream must be in"),
    (lambda g: setattr(g, "state", {"stream": 1}), ValueError, r"state must contain 'seed'"),
    (lambda g: setattr(g, "state", {"bit_generator": "PCG64", "seed": 1}), ValueError,
     r"not 'Philox4x32-10'"),
]


@pytest.mark.parametrize("call,exc,msg", ERRORS, ids=[e[2] for e in ERRORS])
def test_errors_name_the_argument_and_change_nothing(call, exc, msg):
    g = Generator(8)
    before = g.state
    with pytest.raises(exc, match=msg):
        call(g)
    assert g.state == before


def test_refused_fill_writes_nothing():
    a = np.full(100, 7.0)
    with pytest.raises(ValueError, match=re.escape("std must be >= 0")):
        Generator(1).normal_(a, std=-1)
    assert np.all(a == 7.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("call", [
    lambda g, a: g.uniform_(a, -1.7e308, 1.7e308),
    lambda g, a: g.normal_(a, std=1e308),
    lambda g, a: g.truncated_normal_(a, std=1e308, a=-3.0, b=3.0),
    lambda g, a: g.truncated_normal_(a, a=6.5, b=float("inf")),
    lambda g, a: g.normal_(a, mean=10**400),
], ids=["uniform-span", "normal-std", "trunc-std", "trunc-tail", "huge-int"])
def test_refusals_write_nothing_and_keep_the_counter(dtype, call):
    g = Generator(12)
    g.uniform_(np.empty(10))
    before = g.state
    a = np.full(100, 7.0, dtype)
    with pytest.raises(ValueError):
        call(g, a)
    assert np.all(a == 7.0) and g.state == before


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_largest_parameters_within_the_dtype_are_accepted_and_finite(dtype):
    big = 3.4e38 if dtype == np.float32 else 1.7e308
    zmax = 5.77 if dtype == np.float32 else 6.661
    g = Generator(13)
    for call in (lambda a: g.uniform_(a, -big / 2, big / 2),
                 lambda a: g.uniform_(a, big * 0.999, big),
                 lambda a: g.normal_(a, std=big / zmax * 0.999),
                 lambda a: g.normal_(a, mean=-big, std=0.0),
                 lambda a: g.truncated_normal_(a, std=big / 2.001),
                 lambda a: g.truncated_normal_(a, mean=big / 2, std=big / 16, a=-np.inf, b=np.inf)):
        assert np.all(np.isfinite(call(np.empty(4096, dtype))))


# The float32 uniform clamp ------------------------------------------------


def test_random_fill_wants_each_distributions_parameters():
    # A short tuple would leave the rest 0: uniform's high = 0 would clamp to 0.
    for dist, n in (("uniform", 3), ("normal", 2), ("truncated_normal", 6)):
        with pytest.raises(ValueError, match=f"dist '{dist}' takes {n} parameters, got 1"):
            _core.random_fill(np.empty(4), dist, 0, 0, 0, (0.0,))


def _unclamped_uniform_f32(words, low, high):
    """The float32 uniform before values were clamped to high."""
    u = (words >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-24)
    return np.float32(low) + np.float32(high - low) * u


def test_uniform_f32_never_exceeds_high_on_the_reviewed_case():
    # init.uniform((2**24,), low=-4.99, high=-4.98, seed=0) gave 16 values above
    # float32(high): float32(low) and float32(high - low) round on their own.
    low, high, n = -4.99, -4.98, 1 << 24
    out = Generator(0).uniform_(np.empty(n, np.float32), low, high)
    hi32 = np.float32(high)
    assert out.max() == hi32 and out.min() >= np.float32(low)
    words = np.empty(n, np.uint32)
    _core.random_bits(words, 0, 0, 0)
    old = _unclamped_uniform_f32(words, low, high)
    assert np.count_nonzero(old > hi32) == 16
    # Every value that was <= high is bit for bit what it was.
    _same_bits(out, np.minimum(old, hi32))


# low and high one float32 step apart: 1554 of the first 4096 unclamped values
# exceeded float32(high).
NARROW = (-38.1, -38.0999969)


@pytest.mark.parametrize("isa", ISAS)
def test_uniform_clamp_matches_reference_on_every_isa(isa):
    _core.set_isa(isa)
    words = ref.random_bits(4096, 0)
    assert np.count_nonzero(_unclamped_uniform_f32(words, *NARROW) > np.float32(NARROW[1])) == 1554
    # and signed zeros: low = high = -0.0 (or rounding to it) gives +0.0, as before
    for low, high in (NARROW, (-0.0, -0.0), (-1e-250, -1e-250), (-0.0, 0.0), (-1e-300, 1e-300)):
        for dtype in DTYPES:
            for threads, threshold in ((1, 1 << 30), (2, 64)):
                _core.set_num_threads(threads)
                _core.set_random_parallel_threshold(threshold)
                out = Generator(0).uniform_(np.empty(4096, dtype), low, high)
                _same_bits(out, ref.uniform(4096, dtype, 0, 0, 0, low, high))
                assert dtype(low) <= out.min() and out.max() <= dtype(high)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_uniform_random_bounds_stay_within_the_rounded_bounds(dtype):
    # Bounds of every magnitude and width down to a fraction of an ulp, both
    # signs: C++ (every ISA) == reference, and dtype(low) <= x <= dtype(high).
    rng = np.random.default_rng(2024)
    for i in range(40):
        low = float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-6, 6))
        high = low + abs(low) * 10.0 ** rng.uniform(-8.5, 0.5)
        if i % 4 == 0:
            high = abs(low) * rng.uniform(0, 2)  # across 0
        low, high = min(low, high), max(low, high)
        want = ref.uniform(2048, dtype, i, 0, 0, low, high)
        assert dtype(low) <= want.min() and want.max() <= dtype(high), (low, high)
        for isa in ISAS:
            _core.set_isa(isa)
            _same_bits(Generator(i).uniform_(np.empty(2048, dtype), low, high), want)


# Truncated normal: which intervals the quantile can sample -----------------

TAIL_REFUSED = [(6.0, math.inf), (-math.inf, -6.0), (5.1, math.inf), (-math.inf, -5.2),
                (5.45, 5.6), (7.0, 8.0), (-40.0, -30.0), (12.0, math.inf)]
# [5.07, inf) has 9.8% of its mass beyond 5.5 sd, [5.1, inf) 11.2%.
TAIL_ACCEPTED = [(5.0, math.inf), (-math.inf, -5.0), (5.07, math.inf), (4.0, 6.0), (5.4, 5.5),
                 (-9.0, -4.0), (3.0, math.inf), (-math.inf, math.inf), (-10.0, 10.0),
                 (-1.0, 30.0), (-30.0, 1.0), (-1e300, 1e300)]


@pytest.mark.parametrize("a,b", TAIL_REFUSED)
def test_truncated_normal_refuses_intervals_beyond_its_accurate_range(a, b):
    for dtype in DTYPES:
        g = Generator(3)
        before = g.state
        out = np.full(64, 7.0, dtype)
        with pytest.raises(ValueError, match=re.escape(f"[a, b] = [{a}, {b}]") +
                           r" has .*% of its probability mass beyond 5.5 sd; the sampler is "
                           r"accurate only within about 5.5 sd .*move the interval closer to 0"):
            g.truncated_normal_(out, a=a, b=b)
        assert g.state == before and np.all(out == 7.0)


@pytest.mark.parametrize("a,b", TAIL_ACCEPTED)
def test_truncated_normal_accepted_intervals_match_scipy(a, b):
    n = 200_000
    z = Generator(5).truncated_normal_(np.empty(n), a=a, b=b)
    assert z.min() >= a and z.max() <= b
    # float32 fills are the float64 values rounded.
    z32 = Generator(5).truncated_normal_(np.empty(n, np.float32), a=a, b=b)
    _same_bits(z32, z.astype(np.float32))
    stats = pytest.importorskip("scipy.stats")
    assert ks_statistic(z, stats.truncnorm(a, b).cdf) < ks_bound(n)


def test_refused_tail_intervals_would_be_wrong():
    # What the refusal guards against, on the reference (which has no check):
    # [6.3, inf) is far off the exact law, [5, inf) is not.
    stats = pytest.importorskip("scipy.stats")
    n = 200_000
    bad = ref.truncated_normal(n, np.float64, 5, lower=6.3, upper=math.inf)
    assert ks_statistic(bad, stats.truncnorm(6.3, math.inf).cdf) > 2 * ks_bound(n)
    good = ref.truncated_normal(n, np.float64, 5, lower=5.0, upper=math.inf)
    assert ks_statistic(good, stats.truncnorm(5.0, math.inf).cdf) < ks_bound(n)


# Statistics ----------------------------------------------------------------

N = 1_000_000


def _normal_cdf(x):
    return 0.5 * (1.0 + np.frompyfunc(math.erf, 1, 1)(np.asarray(x, np.float64) /
                                                      math.sqrt(2.0)).astype(np.float64))


def test_ks_statistic_detects_a_wrong_distribution():
    x = Generator(1).normal_(np.empty(N))
    assert ks_statistic(x, _normal_cdf) < ks_bound(x.size)
    assert ks_statistic(x * 1.02, _normal_cdf) > ks_bound(x.size)
    assert ks_statistic(x + 0.02, _normal_cdf) > ks_bound(x.size)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_uniform_statistics(dtype):
    u = Generator(20).uniform_(np.empty(N, dtype))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert ks_statistic(u, lambda x: x) < ks_bound(N)
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)
    # Every value is an exact multiple of 2^-24 (float32) / 2^-53 (float64).
    bits = 24 if dtype == np.float32 else 53
    scaled = u.astype(np.float64) * 2.0**bits
    assert np.all(scaled == np.floor(scaled))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_normal_statistics(dtype):
    z = Generator(21).normal_(np.empty(N, dtype)).astype(np.float64)
    se = 1 / math.sqrt(N)
    assert abs(z.mean()) < 5 * se
    assert abs(z.std() - 1.0) < 5 * se / math.sqrt(2)
    assert ks_statistic(z, _normal_cdf) < ks_bound(N)
    tail = 2 * (1 - _normal_cdf(np.array([4.0]))[0])
    count = np.count_nonzero(np.abs(z) > 4.0)
    sd = math.sqrt(N * tail * (1 - tail))
    assert abs(count - N * tail) < 5 * sd, (count, N * tail)
    # Largest |z| the (u1 resolution of the) transform allows.
    zmax = math.sqrt(-2 * math.log(2.0**-24 if dtype == np.float32 else 2.0**-32))
    assert np.abs(z).max() <= zmax * (1 + 1e-6)


def test_truncated_normal_statistics():
    a, b = -1.0, 2.5
    z = Generator(22).truncated_normal_(np.empty(N), a=a, b=b)
    assert z.min() >= a and z.max() <= b
    fa, fb = _normal_cdf(np.array([a, b]))
    assert ks_statistic(z, lambda x: (_normal_cdf(x) - fa) / (fb - fa)) < ks_bound(N)


@pytest.mark.parametrize("dist", ["uniform", "normal"])
@pytest.mark.parametrize("lag", [1, 2, 4, 16, 32, 48, 64])
def test_no_correlation_between_neighbours(dist, lag):
    # Lags 16 / 32 / 48 are the Box-Muller partners and the other words of a
    # block in the group layout.
    x = _fill(Generator(30), dist, np.empty(N))
    x = x - x.mean()
    r = np.dot(x[:-lag], x[lag:]) / np.dot(x, x)
    assert abs(r) < 5 / math.sqrt(N)


@pytest.mark.parametrize("dist", ["uniform", "normal"])
def test_no_correlation_between_streams_seeds_and_children(dist):
    g = Generator(31)
    others = [Generator(31, stream=1), Generator(32), *g.spawn(2)]
    x = _fill(g, dist, np.empty(N))
    x = x - x.mean()
    for o in others:
        y = _fill(o, dist, np.empty(N))
        y = y - y.mean()
        r = np.dot(x, y) / math.sqrt(np.dot(x, x) * np.dot(y, y))
        assert abs(r) < 5 / math.sqrt(N)


def test_uniform_bytes_are_balanced():
    # Each bit of the raw words is set half the time (a broken round or a
    # lost carry shows here long before in a moment test).
    w = np.empty(1 << 20, np.uint32)
    _core.random_bits(w, 99, 0, 0)
    ones = np.unpackbits(w.view(np.uint8)).reshape(-1, 32).mean(axis=0)
    assert np.all(np.abs(ones - 0.5) < 5 * 0.5 / math.sqrt(w.size))


# The kernels' own math (what the reference pins, bit for bit) is accurate:


def test_log_accuracy():
    x32 = (np.arange(1, 1 << 24, 61, dtype=np.uint32) + 1).astype(np.float32) * np.float32(2**-24)
    exact = np.log(x32.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(ref.log_f32(x32) - exact) / ulp) <= 3
    x64 = (np.random.default_rng(0).integers(0, 1 << 32, 200_000) + 1.0) * 2.0**-32
    exact = np.log(x64)
    assert np.max(np.abs(ref.log_f64(x64) - exact) / np.spacing(np.abs(exact))) <= 3


def test_sincos_accuracy():
    t32 = np.arange(0, 1 << 24, 7).astype(np.float32) * np.float32(2**-24)
    c, s = ref.sincos_turns_f32(t32)
    a = 2 * np.pi * t32.astype(np.float64)
    assert np.max(np.abs(c - np.cos(a))) < 1.5e-7 and np.max(np.abs(s - np.sin(a))) < 1.5e-7
    t64 = np.random.default_rng(1).integers(0, 1 << 32, 200_000) * 2.0**-32
    c, s = ref.sincos_turns_f64(t64)
    a = 2 * np.pi * t64
    # np.cos/np.sin of the rounded 2 pi t carry ~4e-16 themselves
    assert np.max(np.abs(c - np.cos(a))) < 1.5e-15 and np.max(np.abs(s - np.sin(a))) < 1.5e-15


def test_normal_quantile_accuracy():
    from statistics import NormalDist

    p = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 2001), np.logspace(-7, -1, 200)])
    want = np.array([NormalDist().inv_cdf(float(v)) for v in p])
    got = ref.normal_quantile(p)
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-3)) < 2e-7


def test_docstring_examples_run():
    import doctest

    import fastoptim.init
    import fastoptim.random

    for mod in (fastoptim.random, fastoptim.init):
        res = doctest.testmod(mod)
        assert res.attempted > 0 and res.failed == 0


def test_float32_fills_at_the_edge_of_the_range_are_accepted_and_finite():
    # The float32 overflow checks must not refuse what the kernels compute
    # finitely: the normal's margin covers only its float32 product, and the
    # truncated normal is computed in float64 and cast.
    big = float(np.finfo(np.float32).max)
    for mean, std in [(big, 1.0), (-big, 1.0), (0.9999999 * big, 1e30)]:
        out = Generator(1).normal_(np.empty(4096, np.float32), mean, std)
        assert np.isfinite(out).all()
    for mean, std in [(big, 1.0), (big - 2.0**103, 1e31)]:
        out = Generator(1).truncated_normal_(np.empty(4096, np.float32), mean, std)
        assert np.isfinite(out).all()
    with pytest.raises(ValueError, match="would overflow float32"):
        Generator(1).normal_(np.empty(8, np.float32), big, 1e33)


def test_truncated_normal_with_std_zero_is_the_mean_on_any_interval():
    # The accuracy rule is about the quantile's tail; with std 0 there is none.
    out = Generator(1).truncated_normal_(np.empty(64), 1.5, 0.0, 5.2, np.inf)
    np.testing.assert_array_equal(out, 1.5)
    with pytest.raises(ValueError, match="beyond 5.5 sd"):
        Generator(1).truncated_normal_(np.empty(64), 1.5, 1.0, 5.2, np.inf)
