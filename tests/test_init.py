"""fastoptim.init: every initializer's sd / bounds against its formula at
~1e6 samples for 2-D and conv shapes, KS against the target distribution,
4-sd tail mass, fans, gains, the stream it draws from, allocating forms and
the error table (each error names its argument and writes nothing)."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from fastoptim import init
from fastoptim.random import Generator
from fastoptim.reference import random as ref
from _stats import ks_bound, ks_statistic

SHAPE_2D = (1000, 1000)          # (fan_in, fan_out) = (1000, 1000)
SHAPE_CONV = (128, 64, 11, 11)   # (out, in, kh, kw): fan_in 7744, fan_out 15488
SHAPES = [SHAPE_2D, (784, 1280), SHAPE_CONV]


def _erf(x):
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(np.asarray(x, np.float64)), np.float64)


def normal_cdf(x, sd=1.0):
    return 0.5 * (1.0 + _erf(np.asarray(x) / (sd * math.sqrt(2.0))))


def fans(shape):
    if len(shape) == 2:
        return shape
    k = math.prod(shape[2:])
    return shape[1] * k, shape[0] * k


# name -> (kwargs, kind, spread(fan_in, fan_out)): kind "normal" -> sd,
# "uniform" -> bound, "trunc" -> sd of the untruncated normal (cut at 2 sd).
GAIN_TANH = 5.0 / 3.0
CASES = {
    "lecun_normal_": ({}, "normal", lambda fi, fo: 1 / math.sqrt(fi)),
    "lecun_uniform_": ({}, "uniform", lambda fi, fo: math.sqrt(3 / fi)),
    "xavier_normal_": ({}, "normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    "xavier_uniform_": ({"gain": GAIN_TANH}, "uniform",
                        lambda fi, fo: GAIN_TANH * math.sqrt(6 / (fi + fo))),
    "he_normal_": ({}, "normal", lambda fi, fo: math.sqrt(2 / fi)),
    "he_uniform_": ({"mode": "fan_out"}, "uniform", lambda fi, fo: math.sqrt(6 / fo)),
    "he_normal_leaky": ({"nonlinearity": "leaky_relu", "negative_slope": 0.2}, "normal",
                        lambda fi, fo: math.sqrt(2 / (1 + 0.04)) / math.sqrt(fi)),
    "normal_": ({"std": 0.02}, "normal", lambda fi, fo: 0.02),
    "uniform_": ({"low": -0.1, "high": 0.1}, "uniform", lambda fi, fo: 0.1),
    "truncated_normal_": ({"std": 0.05}, "trunc", lambda fi, fo: 0.05),
    "variance_scaling_trunc": ({"scale": 2.0, "mode": "fan_avg"}, "trunc",
                               lambda fi, fo: math.sqrt(2.0 / ((fi + fo) / 2)) / 0.87962566103423978),
    "variance_scaling_uniform": ({"scale": 0.5, "distribution": "uniform"}, "uniform",
                                 lambda fi, fo: math.sqrt(1.5 / fi)),
}


def _call(name, a, **kw):
    fn = getattr(init, name if name.endswith("_") else name.rsplit("_", 1)[0] + "_")
    return fn(a, **kw)


@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "2d-rect", "conv"])
@pytest.mark.parametrize("name", list(CASES))
def test_initializer_matches_formula(name, shape):
    kwargs, kind, spread = CASES[name]
    a = np.empty(shape, np.float32)
    assert _call(name, a, seed=1234, **kwargs) is a
    x = a.astype(np.float64).ravel()
    n = x.size
    s = spread(*fans(shape))
    if kind == "normal":
        sd, kurt, cdf = s, 3.0, lambda v: normal_cdf(v, s)
        # Mass beyond 4 sd within 5 binomial sd of 2 (1 - Phi(4)) n.
        p = 2 * (1 - float(normal_cdf(4.0)))
        count = np.count_nonzero(np.abs(x) > 4 * s)
        assert abs(count - n * p) < 5 * math.sqrt(n * p * (1 - p)), (count, n * p)
    elif kind == "uniform":
        sd, kurt, cdf = s / math.sqrt(3), 1.8, lambda v: np.clip((v + s) / (2 * s), 0, 1)
        assert x.min() >= -s and x.max() <= s
        assert x.max() > s * (1 - 1e-4) and x.min() < -s * (1 - 1e-4)
    else:
        zc = 2.0
        mass = normal_cdf(zc) - normal_cdf(-zc)
        # sd of the standard normal truncated at +-2, times s
        var = 1 - 2 * zc * math.exp(-zc * zc / 2) / math.sqrt(2 * math.pi) / mass
        sd, kurt = s * math.sqrt(var), 2.36
        cdf = lambda v: np.clip((normal_cdf(v, s) - normal_cdf(-zc)) / mass, 0, 1)  # noqa: E731
        assert np.abs(x).max() <= zc * s * (1 + 1e-6)
        assert np.abs(x).max() > zc * s * 0.999
    # sample sd: standard error sd * sqrt((kurtosis - 1) / (4 n))
    se_sd = sd * math.sqrt((kurt - 1) / (4 * n))
    assert abs(x.std() - sd) < 5 * se_sd, (x.std(), sd)
    assert abs(x.mean()) < 5 * sd / math.sqrt(n)
    assert ks_statistic(x, cdf) < ks_bound(n)


def test_formula_test_fails_on_a_wrong_scale():
    # The sd check above must be able to fail: sqrt(2/fan_in) vs 1/sqrt(fan_in).
    a = init.lecun_normal(SHAPE_2D, seed=1)
    n = a.size
    sd = math.sqrt(2 / 1000)
    assert abs(a.std() - sd) > 5 * sd * math.sqrt(2 / (4 * n))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_he_normal_is_the_normal_stream_with_the_he_sd(dtype):
    a = init.he_normal((300, 50), dtype, seed=99)
    std = math.sqrt(init.calculate_gain("relu") ** 2 / 300)
    want = ref.normal(a.size, dtype, 99, 0, 0, 0.0, std).reshape(a.shape)
    np.testing.assert_array_equal(a, want)


def test_truncated_normal_bounds_are_in_units_of_std():
    a = init.truncated_normal((1000, 100), mean=3.0, std=0.5, lower=-1.0, upper=0.5, seed=3)
    assert a.min() >= 3.0 - 0.5 - 1e-6 and a.max() <= 3.0 + 0.25 + 1e-6
    assert a.min() < 3.0 - 0.499 and a.max() > 3.0 + 0.249


def test_normal_and_uniform_fill_with_given_parameters():
    a = init.normal((1000, 1000), mean=2.0, std=0.1, seed=4)
    assert abs(a.mean() - 2.0) < 5 * 0.1 / 1000 and abs(a.std() - 0.1) < 5 * 0.1 / 1414
    u = init.uniform((1000, 1000), low=-3.0, high=-1.0, seed=5)
    assert u.min() >= -3.0 and u.max() < -1.0


def test_zeros_ones_constant():
    a = np.empty((3, 4), np.float32)
    assert init.zeros_(a) is a and np.all(a == 0)
    assert init.ones_(a) is a and np.all(a == 1)
    assert init.constant_(a, -2.5) is a and np.all(a == -2.5)
    b = init.constant((2, 2), 7, np.float64)
    assert b.dtype == np.float64 and np.all(b == 7)
    assert init.zeros(5).shape == (5,) and init.ones((2, 3), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (8, 4, 3, 3), (4, 8, 3, 3)])
def test_orthogonal(shape):
    a = init.orthogonal(shape, np.float64, gain=2.0, seed=6)
    m = a.reshape(shape[0], -1)
    small = min(m.shape)
    g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(g, 4.0 * np.eye(small), atol=1e-12)
    np.testing.assert_array_equal(init.orthogonal(shape, np.float64, gain=2.0, seed=6), a)


def test_gains_follow_torch_table():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == 5.0 / 3.0
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("selu") == 0.75


def test_compute_fans():
    assert init.compute_fans((784, 100)) == (784, 100)
    assert init.compute_fans((16, 3, 5, 5)) == (75, 400)
    assert init.compute_fans((16, 3, 7)) == (21, 112)
    for bad in [(), (5,)]:
        with pytest.raises(ValueError, match="2 or more dimensions"):
            init.compute_fans(bad)


def test_fan_overrides_and_1d_arrays():
    b = np.empty(100_000)
    init.he_normal_(b, fan_in=50, seed=7)
    assert abs(b.std() - math.sqrt(2 / 50)) < 5 * math.sqrt(2 / 50) / math.sqrt(2e5)
    init.xavier_uniform_(b, fan_in=10, fan_out=20, seed=7)
    assert np.abs(b).max() <= math.sqrt(6 / 30)
    w = np.empty((1000, 200))
    init.he_normal_(w, mode="fan_out", fan_out=8, seed=1)  # override beats the shape
    assert abs(w.std() - 0.5) < 0.01


def test_seed_kinds_and_reproducibility():
    a = init.he_normal((64, 64), seed=10)
    np.testing.assert_array_equal(init.he_normal((64, 64), seed=10), a)
    g = Generator(10)
    np.testing.assert_array_equal(init.he_normal((64, 64), seed=g), a)
    assert not np.array_equal(init.he_normal((64, 64), seed=g), a)  # g advanced
    r1 = init.he_normal((64, 64), seed=np.random.default_rng(3))
    r2 = init.he_normal((64, 64), seed=np.random.default_rng(3))
    np.testing.assert_array_equal(r1, r2)
    assert not np.array_equal(init.he_normal((64, 64)), init.he_normal((64, 64)))


def test_allocating_forms_equal_in_place_forms():
    for name in ("normal", "uniform", "truncated_normal", "xavier_normal", "xavier_uniform",
                 "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal",
                 "variance_scaling"):
        for dtype in (np.float32, np.float64):
            got = getattr(init, name)((30, 20), dtype, seed=5)
            want = getattr(init, name + "_")(np.empty((30, 20), dtype), seed=5)
            assert got.dtype == dtype and got.shape == (30, 20)
            np.testing.assert_array_equal(got, want)


def test_empty_arrays_are_fine():
    for fn in (init.he_normal_, init.xavier_uniform_, init.orthogonal_):
        a = np.empty((0, 5), np.float32)
        try:
            assert fn(a, seed=1) is a
        except ValueError as e:  # a zero fan is refused by name
            assert "fan_" in str(e)
    assert init.normal_(np.empty(0), seed=1).size == 0


def _ro(shape=(4, 4)):
    a = np.zeros(shape, np.float32)
    a.flags.writeable = False
    return a


A = np.zeros  # shorthand in the table


def A32(shape):
    return np.zeros(shape, np.float32)


ERRORS = [
    (init.he_normal_, (A(10),), {}, ValueError, r"a has shape \(10,\).*pass fan_in= explicitly"),
    (init.xavier_normal_, (A(()),), {}, ValueError, r"pass fan_in and fan_out="),
    (init.xavier_uniform_, (A(10),), {"fan_in": 3}, ValueError, r"pass fan_out="),
    (init.lecun_normal_, (A(7),), {}, ValueError, r"fan_in="),
    (init.variance_scaling_, (A(7),), {"mode": "fan_out"}, ValueError, r"fan_out="),
    (init.orthogonal_, (A(7),), {}, ValueError, r"orthogonal_ needs 2 or more"),
    (init.he_normal_, (A((4, 4)),), {"mode": "fan_avg"}, ValueError, r"mode must be one of"),
    (init.variance_scaling_, (A((4, 4)),), {"mode": "avg"}, ValueError, r"mode must be one of"),
    (init.variance_scaling_, (A((4, 4)),), {"distribution": "gauss"}, ValueError,
     r"distribution must be one of"),
    (init.variance_scaling_, (A((4, 4)),), {"distribution": 1}, TypeError,
     r"distribution must be a str"),
    (init.variance_scaling_, (A((4, 4)),), {"scale": -1.0}, ValueError, r"scale must be > 0"),
    (init.he_normal_, (A((4, 4)),), {"nonlinearity": "swish"}, ValueError,
     r"nonlinearity must be one of"),
    (init.he_normal_, (A((4, 4)),), {"negative_slope": 0.1}, ValueError,
     r"negative_slope=0.1 is only used with nonlinearity='leaky_relu'"),
    (init.calculate_gain, ("gelu",), {}, ValueError, r"nonlinearity must be one of"),
    (init.calculate_gain, ("tanh", 0.3), {}, ValueError, r"param is only used"),
    (init.calculate_gain, (None,), {}, TypeError, r"nonlinearity must be a str"),
    (init.xavier_normal_, (A((4, 4)),), {"gain": 0.0}, ValueError, r"gain must be > 0"),
    (init.normal_, (A((4, 4)),), {"std": -0.1}, ValueError, r"std must be >= 0"),
    (init.truncated_normal_, (A((4, 4)),), {"std": -1}, ValueError, r"std must be >= 0"),
    (init.truncated_normal_, (A((4, 4)),), {"lower": 1, "upper": -1}, ValueError,
     r"lower must be < upper"),
    (init.uniform_, (A((4, 4)),), {"low": 1, "high": 0}, ValueError, r"low must be <= high"),
    (init.uniform_, (A((4, 4)),), {"low": -1e308, "high": 1e308}, ValueError,
     r"high - low overflows"),
    (init.truncated_normal_, (A((4, 4)),), {"lower": 40.0, "upper": 41.0}, ValueError,
     r"interval \[lower, upper\] = \[40.0, 41.0\] has no probability mass"),
    (init.variance_scaling_, (A((4, 4)),), {"scale": 1e308, "distribution": "uniform",
                                            "fan_in": 1}, ValueError, r"overflows"),
    (init.normal_, (np.zeros((4, 4), np.int64),), {}, TypeError, r"a has dtype int64"),
    (init.he_normal_, (np.zeros((4, 4), np.int32),), {}, TypeError, r"a has dtype int32"),
    (init.zeros_, (np.zeros((4, 4), np.int32),), {}, TypeError, r"a has dtype int32"),
    (init.normal_, ([[0.0]],), {}, TypeError, r"a must be a numpy.ndarray"),
    (init.he_uniform_, (_ro(),), {}, ValueError, r"a is read-only"),
    (init.constant_, (_ro(),), {"value": 1}, ValueError, r"a is read-only"),
    (init.constant_, (A((4, 4)), "x"), {}, TypeError, r"value must be a real number"),
    (init.lecun_uniform_, (A((4, 8))[:, ::2],), {}, ValueError, r"a is not C-contiguous"),
    (init.he_normal_, (A((4, 4)),), {"fan_in": 0}, ValueError, r"fan_in must be > 0"),
    (init.he_normal_, (A((4, 4)),), {"fan_in": 2.5}, TypeError, r"fan_in must be a positive int"),
    (init.he_normal_, (A((4, 4)),), {"seed": "abc"}, TypeError, r"seed must be an int"),
    (init.he_normal_, (A((4, 4)),), {"seed": -3}, ValueError, r"seed must be in"),
    (init.he_normal, ((4, 4), np.int32), {}, TypeError, r"dtype must be float32 or float64"),
    (init.normal, ((4, -1),), {}, ValueError, r"shape must not have negative entries"),
    # Shape entries must be ints (operator.index: no float, str or bool), >= 0.
    (init.normal, ((3.7, 2),), {}, TypeError, r"shape entries must be ints, got float 3.7"),
    (init.zeros, (("3", "4"),), {}, TypeError, r"shape entries must be ints, got str '3'"),
    (init.he_normal, ((True, 4),), {}, TypeError, r"shape entries must be ints, got a bool"),
    (init.zeros, (True,), {}, TypeError, r"shape must be an int or a sequence of ints, got bool"),
    (init.constant, ("34", 1.0), {}, TypeError, r"shape must be an int or a sequence of ints, "
                                                r"got str"),
    (init.compute_fans, ((3.9, 2.9),), {}, TypeError, r"shape entries must be ints, got float"),
    (init.compute_fans, ("34",), {}, TypeError, r"shape must be a sequence of ints, got str"),
    (init.compute_fans, ((np.bool_(True), 3),), {}, TypeError, r"shape entries must be ints"),
    (init.compute_fans, ((3, -2),), {}, ValueError, r"shape must not have negative entries, "
                                                    r"got \(3, -2\)"),
    (init.compute_fans, ((-2, 3, 5, 5),), {}, ValueError, r"shape must not have negative"),
    # Python ints too large for a float, and fans no array can have.
    (init.normal_, (A((4, 5)),), {"mean": 10**400}, ValueError,
     r"mean is too large for a float, got an int of 1329 bits"),
    (init.constant_, (A((4, 5)), 10**400), {}, ValueError, r"value is too large for a float"),
    (init.he_normal_, (A((4, 5)),), {"fan_in": 10**400}, ValueError,
     r"fan_in must be < 2\*\*63, got an int of 1329 bits"),
    (init.he_normal_, (A((4, 5)),), {"fan_in": 1 << 63}, ValueError,
     r"fan_in must be < 2\*\*63, got 9223372036854775808"),
    (init.xavier_uniform_, (A((4, 5)),), {"fan_out": 10**400}, ValueError,
     r"fan_out must be < 2\*\*63"),
    (init.variance_scaling_, (A((4, 5)),), {"scale": 10**400}, ValueError,
     r"scale is too large for a float"),
    (init.uniform_, (A((4, 5)),), {"low": -(10**400)}, ValueError, r"low is too large"),
    # Parameters or values beyond the array's dtype.
    (init.uniform, ((1000,),), {"low": -3e38, "high": 3e38}, ValueError,
     r"high - low overflows float32"),
    (init.uniform_, (A32((4, 5)),), {"high": 1e39}, ValueError, r"high=1e\+39 overflows float32"),
    (init.normal_, (A32((4, 5)),), {"std": 1e39}, ValueError, r"std=1e\+39 overflows float32"),
    (init.normal, ((1000,),), {"mean": 1e39}, ValueError, r"mean=1e\+39 overflows float32"),
    (init.normal_, (A32((4, 5)),), {"mean": 1e38, "std": 5e37}, ValueError,
     r"mean=1e\+38, std=5e\+37 would overflow float32"),
    (init.normal_, (A((4, 5)),), {"std": 1e308}, ValueError, r"would overflow float64"),
    (init.truncated_normal_, (A32((4, 5)),), {"std": 1e38, "lower": -4.0}, ValueError,
     r"std=1e\+38 would overflow float32: values within \[lower, upper\]"),
    (init.truncated_normal_, (A32((4, 5)),), {"mean": -1e39}, ValueError,
     r"mean=-1e\+39 overflows float32"),
    (init.constant_, (A32((4, 5)), 1e39), {}, ValueError, r"value=1e\+39 overflows float32"),
    (init.orthogonal_, (A32((4, 5)),), {"gain": -1e39}, ValueError,
     r"gain=-1e\+39 overflows float32"),
    (init.variance_scaling_, (A32((4, 5)),), {"scale": 1e80, "fan_in": 1}, ValueError,
     r"scale=1e\+80 is too large for n=1 and float32"),
    (init.variance_scaling_, (A32((4, 5)),), {"scale": 1e80, "fan_in": 1,
                                               "distribution": "normal"}, ValueError,
     r"scale=1e\+80 is too large for n=1 and float32"),
    (init.xavier_uniform_, (A32((4, 5)),), {"gain": 1e38, "fan_in": 1, "fan_out": 1}, ValueError,
     r"gain=1e\+38 is too large for n=1.0 and float32: high - low overflows float32"),
    (init.xavier_normal_, (A((4, 5)),), {"gain": 1e200}, ValueError,
     r"gain=1e\+200 is too large: gain\*\*2 overflows"),
    # Tail intervals the truncated normal's quantile cannot sample.
    (init.truncated_normal_, (A((4, 5)),), {"lower": 6.0, "upper": math.inf}, ValueError,
     r"\[lower, upper\] = \[6.0, inf\] has 100.0% of its probability mass beyond 5.5 sd; "
     r"the sampler is accurate only within about 5.5 sd"),
    (init.truncated_normal, ((10,),), {"lower": -math.inf, "upper": -5.2}, ValueError,
     r"\[lower, upper\] = \[-inf, -5.2\] has 19.1% of its probability mass beyond 5.5 sd"),
]


@pytest.mark.parametrize("fn,args,kwargs,exc,msg", ERRORS,
                         ids=[f"{e[0].__name__}-{e[4][:30]}" for e in ERRORS])
def test_errors_name_the_argument_and_write_nothing(fn, args, kwargs, exc, msg):
    arrays = [x for x in args if isinstance(x, np.ndarray)]
    arrays = [x for x in arrays if x.dtype.kind == "f"]
    for x in arrays:
        if x.flags.writeable:
            x[...] = 0.5
    with pytest.raises(exc, match=msg):
        fn(*args, **kwargs)
    for x in arrays:
        if x.size and x.flags.writeable:
            assert np.all(x == 0.5)


# The refusals of functions that take a seed (and are not refused for it).
SEEDED_ERRORS = [e for e in ERRORS if "seed" in inspect.signature(e[0]).parameters
                 and "seed" not in e[2]]
seeded_errors = pytest.mark.parametrize(
    "fn,args,kwargs,exc,msg", SEEDED_ERRORS,
    ids=[f"{e[0].__name__}-{e[4][:30]}" for e in SEEDED_ERRORS])


@seeded_errors
def test_refused_calls_leave_a_numpy_generator_seed_untouched(fn, args, kwargs, exc, msg):
    # Every check runs before a seed is drawn from a numpy.random.Generator.
    rng = np.random.default_rng(7)
    before = rng.bit_generator.state
    with pytest.raises(exc, match=msg):
        fn(*args, seed=rng, **kwargs)
    assert rng.bit_generator.state == before


@seeded_errors
def test_refused_calls_leave_a_fastoptim_generator_untouched(fn, args, kwargs, exc, msg):
    g = Generator(7)
    g.normal_(np.empty(3))
    before = g.state
    with pytest.raises(exc, match=msg):
        fn(*args, seed=g, **kwargs)
    assert g.state == before


def test_shapes_of_numpy_ints_and_zero_are_accepted():
    assert init.zeros((np.int64(3), np.uint8(0))).shape == (3, 0)
    assert init.normal(np.array([2, 5]), seed=1).shape == (2, 5)
    assert init.ones(np.int32(4)).shape == (4,)
    assert init.compute_fans((np.int64(16), 3, 5, 5)) == (75, 400)
    assert init.compute_fans([0, 3]) == (0, 3)


def test_parameters_at_the_edge_of_float32_are_accepted():
    a = np.empty(1000, np.float32)
    assert np.all(np.isfinite(init.uniform_(a, low=-1.7e38, high=1.7e38, seed=0)))
    assert np.all(np.isfinite(init.normal_(a, std=5e37, seed=0)))
    assert np.all(np.isfinite(init.truncated_normal_(a, std=1.5e38, seed=0)))
    assert np.all(init.constant_(a, 3.4028235e38) == np.finfo(np.float32).max)
    assert np.all(init.constant_(a, -math.inf) == -math.inf)  # explicit infinities stay allowed
    b = init.variance_scaling(1000, scale=1e70, fan_in=1, seed=0)
    assert np.all(np.isfinite(b)) and np.abs(b).max() <= 2 * 1e35 / 0.87962566103423978 * 1.0001


def test_huge_fans_below_2_63_are_fine():
    a = init.he_normal_(np.empty(10_000), fan_in=(1 << 63) - 1, seed=2)
    assert abs(a.std() / math.sqrt(2 / 2**63) - 1) < 0.05
