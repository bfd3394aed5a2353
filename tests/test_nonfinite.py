"""Non-finite gradients: skipped whole with skip_nonfinite, propagated as torch does without."""

import numpy as np
import pytest

import fastoptim as fo
from fastoptim import reference

OPTIMIZERS = [
    lambda p, **kw: fo.SGD(p, lr=0.1, **kw),
    lambda p, **kw: fo.Momentum(p, lr=0.1, **kw),
    lambda p, **kw: fo.AdaGrad(p, lr=0.1, **kw),
    lambda p, **kw: fo.RMSProp(p, lr=0.1, momentum=0.5, centered=True, **kw),
    lambda p, **kw: fo.Adam(p, lr=0.1, amsgrad=True, **kw),
    lambda p, **kw: fo.AdamW(p, lr=0.1, **kw),
]


def _snapshot(opt, params):
    sd = opt.state_dict()
    return [p.copy() for p in params], sd


def _assert_same(before, opt, params):
    old_params, old_sd = before
    for a, b in zip(old_params, params):
        np.testing.assert_array_equal(a, b)
    new_sd = opt.state_dict()
    for i, d in old_sd["state"].items():
        assert new_sd["state"][i]["step"] == d["step"]
        for k, v in d.items():
            if k != "step":
                np.testing.assert_array_equal(new_sd["state"][i][k], v)


@pytest.mark.parametrize("make", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("threads", ["serial", "threaded"])
def test_nonfinite_step_is_skipped_whole(make, dtype, bad, threads, request):
    if threads == "threaded":
        request.getfixturevalue("threaded")
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(n).astype(dtype) for n in (7, 5000, 33)]
    opt = make(params, skip_nonfinite=True)
    grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
    assert opt.step(grads) is True
    before = _snapshot(opt, params)
    for where in [(0, 0), (1, 4999), (2, 32), (1, 2500)]:
        g = [x.copy() for x in grads]
        g[where[0]][where[1]] = bad
        assert opt.step(g) is False
        _assert_same(before, opt, params)
    assert opt.skipped_steps == 4
    assert opt.step(grads) is True
    assert opt.state[0]["step"] == 2


def test_without_the_option_nan_propagates_like_the_reference():
    rng = np.random.default_rng(1)
    p = rng.standard_normal(100)
    g = rng.standard_normal(100)
    g[[3, 50]] = np.nan
    g[7] = np.inf
    ref_p, m, v = p.copy(), np.zeros(100), np.zeros(100)
    opt = fo.Adam([p], lr=0.01)
    assert opt.step([g]) is None
    with np.errstate(invalid="ignore"):
        reference.adam_(ref_p, g, m, v, step=1, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    np.testing.assert_array_equal(p, ref_p)  # NaN where the reference has NaN
    assert np.isnan(p[[3, 7, 50]]).all() and np.isfinite(np.delete(p, [3, 7, 50])).all()
    assert opt.state[0]["step"] == 1


def test_skip_nonfinite_must_be_a_bool():
    with pytest.raises(TypeError, match="skip_nonfinite"):
        fo.Adam([np.zeros(3)], skip_nonfinite="yes")


def test_update_returns_what_step_returns():
    params = {"w": np.zeros(4)}
    opt = fo.SGD(lr=0.1, skip_nonfinite=True)
    assert opt.update(params, {"w": np.ones(4)}) is True
    assert opt.update(params, {"w": np.full(4, np.nan)}) is False
    np.testing.assert_array_equal(params["w"], np.full(4, -0.1))
