"""The optimizer classes' API against the NumPy reference: param groups,
hyperparameter changes between steps, odd shapes, state_dict round trips,
the course's update() style and the functional layer. All comparisons are
bit for bit (see test_kernels.py for why no tolerance is needed)."""

from __future__ import annotations

import copy
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fastoptim as fo
from fastoptim import _core
from fastoptim import functional as F
from fastoptim import reference as R
from _refopt import (DEFAULTS, SLOTS, RefOptimizer, assert_matches, assert_same_bits,
                     needed_slots, reference_step)

NAMES = list(DEFAULTS)

# Options that make every state slot of a rule live.
FULL = {
    "SGD": {"weight_decay": 0.01},
    "Momentum": {"nesterov": True, "weight_decay": 0.01},
    "AdaGrad": {"lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSProp": {"momentum": 0.9, "centered": True},
    "Adam": {"amsgrad": True, "weight_decay": 0.01},
    "AdamW": {"amsgrad": True},
}


def _params(rng, dtype=np.float64, shapes=((4, 3), (3,), (5,), ())):
    return [np.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes]


def _grads_like(rng, params, scale=0.1):
    return [np.asarray(rng.standard_normal(p.shape) * scale, dtype=p.dtype) for p in params]


def _snapshot(opt):
    """Copies of every param and the whole state_dict."""
    params = [p.copy() for g in opt.param_groups for p in g["params"]]
    return params, opt.state_dict()


def _assert_same_snapshot(a, b, what=""):
    (pa, sa), (pb, sb) = a, b
    assert len(pa) == len(pb)
    for i, (x, y) in enumerate(zip(pa, pb)):
        assert_same_bits(x, y, f"{what}param {i}")
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        assert sa["state"][i].keys() == sb["state"][i].keys(), f"{what}state {i}"
        for k, v in sa["state"][i].items():
            if isinstance(v, np.ndarray):
                assert_same_bits(v, sb["state"][i][k], f"{what}state[{i}][{k!r}]")
            else:
                assert v == sb["state"][i][k], f"{what}state[{i}][{k!r}]"
    assert sa["param_groups"] == sb["param_groups"], f"{what}param_groups"


# -- hyperparameters changed between steps ---------------------------------

# A schedule per rule: step -> changes applied to param_groups[0] before it.
SCHEDULES = {
    "SGD": {3: {"lr": 0.05}, 6: {"weight_decay": 0.1}, 9: {"maximize": True}},
    "Momentum": {3: {"lr": 0.05}, 5: {"momentum": 0.5}, 7: {"dampening": 0.2},
                 11: {"dampening": 0.0, "nesterov": True}, 13: {"weight_decay": 0.01}},
    "AdaGrad": {3: {"lr": 0.05}, 5: {"lr_decay": 0.1}, 8: {"eps": 1e-4},
                11: {"weight_decay": 0.02, "maximize": True}},
    "RMSProp": {3: {"lr": 0.002}, 5: {"alpha": 0.9}, 12: {"eps": 1e-3, "alpha": 0.4},
                15: {"weight_decay": 0.01}},
    "Adam": {3: {"lr": 0.01}, 5: {"betas": (0.8, 0.99)}, 9: {"eps": 1e-4},
             12: {"weight_decay": 0.05, "betas": (0.3, 0.9)}, 15: {"maximize": True}},
    "AdamW": {3: {"lr": 0.01}, 5: {"weight_decay": 0.2}, 8: {"betas": (0.5, 0.95)}},
}

# Changes that need a state buffer the optimizer did not keep so far (it
# starts at zero, as on a fresh optimizer). torch raises KeyError here.
NEW_BUFFER_SCHEDULES = {
    "RMSProp": {7: {"momentum": 0.9}, 9: {"centered": True}},
    "Adam": {7: {"amsgrad": True}},
    "AdamW": {11: {"amsgrad": True}},
}


def _run_schedule(name, dtype, schedule):
    rng = np.random.default_rng(11)
    params = _params(rng, dtype, shapes=((7, 5), (33,), ()))
    opt = getattr(fo, name)(params)
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params]}])
    for t in range(1, 21):
        for k, v in schedule.get(t, {}).items():
            opt.param_groups[0][k] = v
            ref.param_groups[0][k] = v
        # A decaying lr every step as well, as a scheduler would.
        lr = ref.param_groups[0]["lr"] * 0.93
        opt.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = lr
        grads = _grads_like(rng, params)
        opt.step(grads)
        ref.step(grads)
        assert_matches(opt, ref, f"step {t}: ")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_hyperparameters_changed_between_steps(name, dtype):
    _run_schedule(name, dtype, SCHEDULES[name])


@pytest.mark.parametrize("name", list(NEW_BUFFER_SCHEDULES))
def test_hyperparameter_change_that_needs_a_new_state_buffer(name):
    _run_schedule(name, np.float64, NEW_BUFFER_SCHEDULES[name])


def test_lr_as_numpy_scalar_and_int():
    rng = np.random.default_rng(1)
    params = _params(rng)
    opt = fo.Adam(params, lr=np.float32(0.01))
    ref = RefOptimizer("Adam", [{"params": [p.copy() for p in params],
                                 "lr": float(np.float32(0.01))}])
    grads = _grads_like(rng, params)
    opt.step(grads)
    ref.step(grads)
    opt.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = 1
    opt.step(grads)
    ref.step(grads)
    assert_matches(opt, ref)


# -- shapes ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_zero_d_and_empty_arrays(name, dtype):
    rng = np.random.default_rng(2)
    shapes = [(), (0,), (3, 0), (0, 4, 2), (1,), (1, 1, 1)]
    params = _params(rng, dtype, shapes)
    opt = getattr(fo, name)(params, **FULL[name])
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params], **FULL[name]}])
    for t in range(5):
        grads = _grads_like(rng, params)
        opt.step(grads)
        ref.step(grads)
        assert_matches(opt, ref, f"step {t}: ")
    st = opt.state_dict()["state"]
    for i, p in enumerate(params):
        for k in SLOTS[name]:
            if k in st[i]:
                assert st[i][k].shape == p.shape and st[i][k].dtype == p.dtype


@pytest.mark.parametrize("name", NAMES)
def test_only_empty_arrays(name):
    params = {"a": np.zeros((0,), np.float32), "b": np.zeros((2, 0))}
    opt = getattr(fo, name)(params, **FULL[name])
    for _ in range(3):
        opt.step({"a": np.zeros((0,), np.float32), "b": np.zeros((2, 0))})
    assert all(s["step"] == 3 for s in opt.state_dict()["state"].values())


# -- groups and dtypes -------------------------------------------------------------

GROUP_HYPERS = {
    "SGD": [{"lr": 0.1}, {"weight_decay": 0.1, "maximize": True}, {}],
    "Momentum": [{"nesterov": True}, {"momentum": 0.5, "dampening": 0.5, "lr": 0.1}, {}],
    "AdaGrad": [{"lr_decay": 0.1}, {"initial_accumulator_value": 1.0, "eps": 1e-3}, {}],
    "RMSProp": [{"centered": True}, {"momentum": 0.9, "alpha": 0.3}, {}],
    "Adam": [{"amsgrad": True}, {"betas": (0.3, 0.5), "weight_decay": 0.1}, {}],
    "AdamW": [{"amsgrad": True, "weight_decay": 0.5}, {"betas": (0.3, 0.5), "lr": 0.1}, {}],
}


@pytest.mark.parametrize("threads", ["serial", "threaded"])
@pytest.mark.parametrize("name", NAMES)
def test_groups_with_own_hyperparameters_and_mixed_dtypes(name, threads, request):
    if threads == "threaded":
        request.getfixturevalue("threaded")
    rng = np.random.default_rng(3)
    mk = lambda shape, dt: np.asarray(rng.standard_normal(shape), dtype=dt)  # noqa: E731
    groups = [
        {"params": {"W1": mk((40, 30), np.float32), "b1": mk((30,), np.float64)}},
        {"params": {"W2": mk((30, 7), np.float64), "b2": mk((7,), np.float32)}},
        {"params": {"s": mk((), np.float32), "e": mk((0,), np.float64)}},
    ]
    for g, h in zip(groups, GROUP_HYPERS[name]):
        g.update(h)
    ref = RefOptimizer(name, [{**g, "params": {k: v.copy() for k, v in g["params"].items()}}
                              for g in groups])
    opt = getattr(fo, name)(groups)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2, 2]
    for gi, h in enumerate(GROUP_HYPERS[name]):
        for k, v in {**DEFAULTS[name], **h}.items():
            assert opt.param_groups[gi][k] == v, (gi, k)
    keys = [k for g in groups for k in g["params"]]
    for t in range(10):
        grads = {k: np.asarray(rng.standard_normal(p.shape) * 0.1, dtype=p.dtype)
                 for g in groups for k, p in g["params"].items()}
        opt.step(grads)
        ref.step([grads[k] for k in keys])
        assert_matches(opt, ref, f"step {t}: ")


def _assert_matches_parts(opt, refs, where=""):
    """``opt``'s params and state, in order, equal those of ``refs`` laid end to end."""
    params = [p for g in opt.param_groups for p in g["params"]]
    state = opt.state_dict()["state"]
    i = 0
    for ref in refs:
        for j, rp in enumerate(ref.params):
            assert_same_bits(params[i], rp, f"{where}param {i}")
            st, rst = state.get(i, {"step": 0}), ref.state[j]
            assert st["step"] == rst["step"], f"{where}state[{i}]['step']"
            for k in (set(rst) - {"step"} if rst["step"] else ()):
                assert_same_bits(st[k], rst[k], f"{where}state[{i}][{k!r}]")
            i += 1
    assert i == len(params)


@pytest.mark.parametrize("threads", ["serial", "threaded"])
@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_after_steps(name, threads, request):
    # A group added after some steps starts at step 0 with its own settings
    # and fresh state; the first group goes on as if nothing was added.
    if threads == "threaded":
        request.getfixturevalue("threaded")
    rng = np.random.default_rng(8)
    first = {"W": rng.standard_normal((40, 30)).astype(np.float32), "b": rng.standard_normal(30)}
    added = {"V": rng.standard_normal((30, 7)), "c": rng.standard_normal(()).astype(np.float32)}
    h0, h1 = GROUP_HYPERS[name][0], GROUP_HYPERS[name][1]
    opt = getattr(fo, name)([{"params": first, **h0}])
    ref0 = RefOptimizer(name, [{"params": {k: v.copy() for k, v in first.items()}, **h0}])
    grads = lambda d: {k: np.asarray(rng.standard_normal(v.shape) * 0.1, v.dtype)  # noqa: E731
                       for k, v in d.items()}
    for t in range(3):
        g = grads(first)
        opt.step(g)
        ref0.step(list(g.values()))
    opt.add_param_group({"params": added, **h1})
    ref1 = RefOptimizer(name, [{"params": {k: v.copy() for k, v in added.items()}, **h1}])
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["params"][0] is added["V"]
    for k, v in {**DEFAULTS[name], **h1}.items():
        assert opt.param_groups[1][k] == v, k
    _assert_matches_parts(opt, [ref0, ref1], "after add: ")
    for t in range(4):
        g0, g1 = grads(first), grads(added)
        opt.step({**g1, **g0})  # by name: the order of the dict does not matter
        ref0.step(list(g0.values()))
        ref1.step(list(g1.values()))
        _assert_matches_parts(opt, [ref0, ref1], f"step {t}: ")
    # The saved state loads into an optimizer built with both groups at once.
    fresh = {k: v.copy() for k, v in {**first, **added}.items()}
    other = getattr(fo, name)([{"params": {k: fresh[k] for k in first}, **h0},
                               {"params": {k: fresh[k] for k in added}, **h1}])
    other.load_state_dict(opt.state_dict())
    for k in fresh:
        fresh[k][...] = {**first, **added}[k]
    g = grads({**first, **added})
    opt.step(g)
    other.step(g)
    _assert_same_snapshot(_snapshot(opt), _snapshot(other))


def test_add_param_group_by_list_and_to_an_unbound_optimizer():
    a, b = np.ones(3), np.ones(2, np.float32)
    opt = fo.SGD([a], lr=0.5)
    opt.add_param_group({"params": [b], "lr": 0.25})
    opt.step([np.ones(3), np.ones(2, np.float32)])
    np.testing.assert_array_equal(a, 0.5)
    np.testing.assert_array_equal(b, 0.75)
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
    # Built without params, the group is the first one (course style after that).
    c = np.ones(4)
    late = fo.SGD(lr=0.5)
    late.add_param_group({"params": {"c": c}, "lr": 0.125})
    late.update({"c": c}, {"c": np.ones(4)})
    np.testing.assert_array_equal(c, 0.875)


def _refused_add(opt, group, exc, match):
    before = _snapshot(opt)
    n = len(opt.param_groups)
    with pytest.raises(exc, match=match):
        opt.add_param_group(group)
    assert len(opt.param_groups) == n
    _assert_same_snapshot(before, _snapshot(opt))


def test_add_param_group_refusals_change_nothing():
    W, b = np.ones((3, 2)), np.ones(2)
    opt = fo.Adam({"W": W, "b": b}, lr=0.1, amsgrad=True)
    opt.step({"W": np.ones((3, 2)), "b": np.ones(2)})
    _refused_add(opt, [np.ones(3)], TypeError, r"param_group must be a dict")
    _refused_add(opt, {"lr": 0.1}, ValueError, r"param_groups\[1\] has no 'params' entry")
    _refused_add(opt, {"params": {}}, ValueError, r"param_groups\[1\]\['params'\] is empty")
    _refused_add(opt, {"params": [np.ones(3)]}, TypeError,
                 r"param_group\['params'\] must be a dict by name")
    _refused_add(opt, {"params": {"b": np.ones(2)}}, ValueError, r"'b', which is already a parameter")
    _refused_add(opt, {"params": {"c": np.ones(2)}, "momentum": 0.9}, ValueError,
                 r"unknown hyperparameter 'momentum'")
    _refused_add(opt, {"params": {"c": np.ones(2)}, "lr": -1.0}, ValueError,
                 r"param_groups\[1\].*lr")
    # The same array under another name, and a view that overlaps a bound one.
    _refused_add(opt, {"params": {"c": W}}, ValueError, r"overlap|share|same memory")
    _refused_add(opt, {"params": {"c": np.ones(4), "d": W[1]}}, ValueError,
                 r"overlap|share|same memory")
    _refused_add(opt, {"params": {"c": np.ones(2, np.int64)}}, TypeError, r"'c'")
    # A bound state buffer (or a view of one) as a new parameter.
    _refused_add(opt, {"params": {"c": opt.state[0]["exp_avg"]}}, ValueError, r"share memory")
    _refused_add(opt, {"params": {"c": opt.state[1]["max_exp_avg_sq"][:1]}}, ValueError,
                 r"share memory")
    listed = fo.SGD([np.ones(2)])
    _refused_add(listed, {"params": {"c": np.ones(2)}}, TypeError,
                 r"param_group\['params'\] must be a list of arrays")
    # After all that, the optimizer still steps, and a good group can be added.
    c = np.ones(2)
    opt.add_param_group({"params": {"c": c}, "lr": 0.5})
    opt.step({"W": np.ones((3, 2)), "b": np.ones(2), "c": np.ones(2)})
    assert np.all(c < 1)


@pytest.mark.parametrize("name", NAMES)
def test_many_small_tensors_threaded_split(name, threaded):
    # The threaded split cuts at 64-element boundaries of the concatenation
    # of all tensors, so here cuts fall inside and between tensors.
    rng = np.random.default_rng(4)
    sizes = rng.integers(0, 90, 120)
    params = [rng.standard_normal(int(n)) for n in sizes]
    opt = getattr(fo, name)(params, **FULL[name])
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params], **FULL[name]}])
    for t in range(5):
        grads = _grads_like(rng, params)
        opt.step(tuple(grads))
        ref.step(grads)
        assert_matches(opt, ref, f"step {t}: ")


# -- in place ---------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_updates_the_callers_arrays(name):
    rng = np.random.default_rng(5)
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4).astype(np.float32)}
    held = dict(params)  # what a layer would keep a reference to
    before = {k: v.copy() for k, v in params.items()}
    opt = getattr(fo, name)(params, lr=0.1, **FULL[name])
    opt.step({k: np.ones_like(v) for k, v in params.items()})
    for k in params:
        assert held[k] is params[k]
        assert not np.array_equal(held[k], before[k]), k
    assert [p for g in opt.param_groups for p in g["params"]][0] is params["W"]


@pytest.mark.parametrize("name", NAMES)
def test_reference_updates_in_place(name):
    rng = np.random.default_rng(6)
    h = {**DEFAULTS[name], **FULL[name], "lr": 0.1}
    for dtype in (np.float32, np.float64):
        p = rng.standard_normal(10).astype(dtype)
        g = rng.standard_normal(10).astype(dtype)
        st = {"step": 1, **{k: np.full_like(p, 0.5) for k in needed_slots(name, h)}}
        ids = {k: id(v) for k, v in st.items() if k != "step"}
        p0, st0 = p.copy(), {k: v.copy() for k, v in st.items() if k != "step"}
        reference_step(name, p, g, st, h)
        assert not np.array_equal(p, p0)
        for k, v in st0.items():
            assert id(st[k]) == ids[k]
            assert not np.array_equal(st[k], v), k
        assert p.dtype == dtype and all(st[k].dtype == dtype for k in ids)


def test_reference_returns_param_and_handles_0d():
    p = np.array(1.0, np.float32)
    s = np.array(0.0, np.float32)
    out = R.adagrad_(p, np.array(2.0, np.float32), s, step=1, lr=0.5)
    assert out is p and p.shape == () and p.dtype == np.float32
    assert s == 4.0 and p == np.float32(1.0) + (np.float32(-0.5) * np.float32(2.0)) / (
        np.float32(2.0) + np.float32(1e-10))


# -- state_dict ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_is_bit_identical(name, dtype):
    rng = np.random.default_rng(7)
    params = {f"p{i}": p for i, p in enumerate(_params(rng, dtype, ((6, 5), (17,), ())))}
    grads = [{k: np.asarray(rng.standard_normal(p.shape) * 0.1, dtype=dtype)
              for k, p in params.items()}
             for _ in range(20)]
    hyper = {**FULL[name], "lr": 0.05}

    uninterrupted = getattr(fo, name)({k: v.copy() for k, v in params.items()}, **hyper)
    for g in grads:
        uninterrupted.step(g)

    first = getattr(fo, name)({k: v.copy() for k, v in params.items()}, **hyper)
    for g in grads[:7]:
        first.step(g)
    first.param_groups[0]["lr"] = 0.05  # unchanged value, still a write
    sd = first.state_dict()
    sd_copy = copy.deepcopy(sd)
    # state_dict() holds copies: stepping the source does not change it.
    first.step(grads[7])
    _assert_same_snapshot(([], sd), ([], sd_copy))
    for i, st in sd["state"].items():
        assert st["step"] == 7 and isinstance(st["step"], int)

    # The params as they were when sd was saved (first has moved on): replay.
    replay = getattr(fo, name)({k: v.copy() for k, v in params.items()}, **hyper)
    for g in grads[:7]:
        replay.step(g)
    resumed_params = {k: p.copy() for k, p in
                      zip(params, (p for g in replay.param_groups for p in g["params"]))}

    fresh = getattr(fo, name)(resumed_params, lr=0.5)  # hyperparameters come from sd
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.05
    for g in grads[7:]:
        fresh.step(g)
    _assert_same_snapshot(_snapshot(fresh), _snapshot(uninterrupted))
    # The loaded optimizer does not share buffers with the dict it was loaded from.
    _assert_same_snapshot(([], sd), ([], sd_copy))


def test_load_state_dict_restores_other_group_keys():
    # A schedule keeps its own entries in a group (torch's "initial_lr");
    # they travel with the state_dict, as in torch.
    opt = fo.Adam([np.ones(3)], lr=0.1)
    opt.param_groups[0]["initial_lr"] = 0.1
    opt.param_groups[0]["lr"] = 0.05
    opt.step([np.ones(3)])
    sd = opt.state_dict()
    assert sd["param_groups"][0]["initial_lr"] == 0.1
    fresh = fo.Adam([np.ones(3)], lr=0.3)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["initial_lr"] == 0.1
    assert fresh.param_groups[0]["lr"] == 0.05
    assert "param_names" not in fresh.param_groups[0]
    fresh.step([np.ones(3)])  # an extra key does not disturb stepping
    # A value that cannot be copied is refused before anything changes.
    import threading
    bad = copy.deepcopy(sd)
    bad["param_groups"][0]["lr"] = 0.5
    bad["param_groups"][0]["hook"] = threading.Lock()
    before = _snapshot(fresh)
    with pytest.raises(TypeError, match=r"state_dict\['param_groups'\]\[0\] holds a value"):
        fresh.load_state_dict(bad)
    _assert_same_snapshot(before, _snapshot(fresh))


MALFORMED_STATE_DICTS = [
    ("state is a list", lambda sd: sd.__setitem__("state", [sd["state"][0]]),
     r"state_dict\['state'\] must be a dict .*got list"),
    ("a state entry is a list", lambda sd: sd["state"].__setitem__(0, [1]),
     r"state_dict\['state'\]\[0\] must be a dict .*got list"),
    ("param_groups is a dict", lambda sd: sd.__setitem__("param_groups", {0: {}}),
     r"state_dict\['param_groups'\] must be a list of dicts.*got dict"),
    ("a group is a list", lambda sd: sd["param_groups"].__setitem__(0, [0.1]),
     r"state_dict\['param_groups'\] must be a list of dicts"),
]


@pytest.mark.parametrize("mutate, match", [r[1:] for r in MALFORMED_STATE_DICTS],
                         ids=[r[0] for r in MALFORMED_STATE_DICTS])
def test_load_state_dict_refuses_malformed_containers_with_a_type_error(mutate, match):
    opt = fo.Adam([np.ones(3)], lr=0.1)
    opt.step([np.ones(3)])
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.5  # would change if anything were applied
    sd["state"][0]["exp_avg"][:] = 7.0
    mutate(sd)
    before = _snapshot(opt)
    with pytest.raises(TypeError, match=match):
        opt.load_state_dict(sd)
    _assert_same_snapshot(before, _snapshot(opt))
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("name", NAMES)
def test_load_state_dict_before_binding_course_style(name):
    rng = np.random.default_rng(8)
    params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    grads = [{k: rng.standard_normal(v.shape) * 0.1 for k, v in params.items()}
             for _ in range(10)]
    a = getattr(fo, name)({k: v.copy() for k, v in params.items()}, **FULL[name])
    for g in grads[:4]:
        a.step(g)
    sd = a.state_dict()
    live = {k: p.copy() for k, p in zip(params, (p for g in a.param_groups for p in g["params"]))}
    b = getattr(fo, name)()
    b.load_state_dict(pickle.loads(pickle.dumps(sd)))  # as if saved to disk
    for g in grads[4:]:
        a.step(g)
        b.update(live, g)
    _assert_same_snapshot(_snapshot(b), _snapshot(a))


# -- course style -------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_update_equals_step(name):
    rng = np.random.default_rng(9)
    p1 = {"W1": rng.standard_normal((5, 4)).astype(np.float32), "b1": np.zeros(4, np.float32)}
    p2 = {k: v.copy() for k, v in p1.items()}
    layer_view = p1["W1"]  # the course's layers hold the arrays themselves
    course = getattr(fo, name)(lr=0.02, **FULL[name])
    bound = getattr(fo, name)(p2, lr=0.02, **FULL[name])
    for t in range(8):
        grads = {k: (rng.standard_normal(v.shape) * 0.1).astype(np.float32)
                 for k, v in p1.items()}
        course.update(p1, grads)
        bound.step(grads)
        _assert_same_snapshot(_snapshot(course), _snapshot(bound), f"step {t}: ")
    assert layer_view is p1["W1"]
    assert_same_bits(layer_view, p2["W1"], "the layer's W1")


def test_step_before_binding_is_refused():
    opt = fo.Adam(lr=1e-3)
    with pytest.raises(ValueError, match=r"update\(params, grads\)"):
        opt.step({"W": np.zeros(3)})


def test_update_with_other_arrays_is_refused():
    W = np.zeros(3)
    opt = fo.SGD()
    opt.update({"W": W}, {"W": np.ones(3)})
    with pytest.raises(ValueError, match="in place"):
        opt.update({"W": W.copy()}, {"W": np.ones(3)})


# -- functional layer ----------------------------------------------------------------

def _functional_call(name, params, grads, st, step, h):
    bufs = lambda k: [s[k] for s in st] if k in st[0] else None  # noqa: E731
    common = dict(lr=h["lr"], weight_decay=h["weight_decay"], maximize=h["maximize"])
    if name == "SGD":
        F.sgd_(params, grads, **common)
    elif name == "Momentum":
        F.momentum_(params, grads, bufs("momentum_buffer"), step=step, momentum=h["momentum"],
                    dampening=h["dampening"], nesterov=h["nesterov"], **common)
    elif name == "AdaGrad":
        F.adagrad_(params, grads, bufs("sum"), step=step, lr_decay=h["lr_decay"], eps=h["eps"],
                   **common)
    elif name == "RMSProp":
        F.rmsprop_(params, grads, bufs("square_avg"), bufs("momentum_buffer"), bufs("grad_avg"),
                   alpha=h["alpha"], eps=h["eps"], momentum=h["momentum"],
                   centered=h["centered"], **common)
    else:
        fn = F.adamw_ if name == "AdamW" else F.adam_
        fn(params, grads, bufs("exp_avg"), bufs("exp_avg_sq"), bufs("max_exp_avg_sq"),
           step=step, betas=h["betas"], eps=h["eps"], amsgrad=h["amsgrad"], **common)

def test_functional_errors_name_the_arguments():
    p = [np.zeros(3), np.zeros(3)]
    g = [np.ones(3), np.ones(3)]
    sq = [np.zeros(3), np.zeros(3)]
    cases = [([np.zeros(3), np.zeros(4)], ValueError,
              r"^exp_avgs\[1\] has shape \(4,\) but params\[1\]"),
             ([np.zeros(3, np.float32), np.zeros(3)], TypeError,
              r"^exp_avgs\[0\] has dtype float32"),
             ([p[0], np.zeros(3)], ValueError, r"exp_avgs\[0\] share memory")]
    for m, exc, match in cases:
        with pytest.raises(exc, match=match):
            fo.functional.adam_(p, g, m, sq, step=1)
    assert all((x == 0).all() for x in p)
    with pytest.raises(ValueError, match=r"momentum_buffers\[1\] has shape"):
        fo.functional.momentum_(p, g, [np.zeros(3), np.zeros(2)], step=1)


@pytest.mark.parametrize("name", NAMES)
def test_functional_matches_reference(name):
    rng = np.random.default_rng(10)
    h = {**DEFAULTS[name], **FULL[name]}
    params = _params(rng, np.float32, ((9, 2), (17,)))
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params], **FULL[name]}])
    init = h.get("initial_accumulator_value", 0.0)
    st = [{k: np.full_like(p, init if k == "sum" else 0.0) for k in needed_slots(name, h)}
          for p in params]
    for t in range(1, 6):
        grads = _grads_like(rng, params)
        _functional_call(name, params, grads, st, t, h)
        ref.step(grads)
        for i, p in enumerate(params):
            assert_same_bits(p, ref.params[i], f"step {t}: param {i}")
            for k, v in st[i].items():
                assert_same_bits(v, ref.state[i][k], f"step {t}: state[{i}][{k!r}]")


# -- skipping non-finite steps ---------------------------------------------------------

def test_skip_nonfinite_leaves_everything_untouched():
    rng = np.random.default_rng(12)
    params = _params(rng)
    opt = fo.Adam(params, amsgrad=True, skip_nonfinite=True)
    assert opt.step(_grads_like(rng, params)) is True
    before = _snapshot(opt)
    grads = _grads_like(rng, params)
    grads[1][0] = np.nan
    assert opt.step(grads) is False
    assert opt.skipped_steps == 1
    _assert_same_snapshot(_snapshot(opt), before)


# -- ISA selection -------------------------------------------------------------------------

def test_every_supported_isa_can_be_selected(isa):
    assert _core.active_isa() == isa
    assert isa in _core.supported_isas()


@pytest.mark.parametrize("forced", _core.supported_isas()[:1])
def test_fastoptim_isa_environment_lowers_the_level(forced):
    env = {**os.environ, "FASTOPTIM_ISA": forced}
    out = subprocess.run(
        [sys.executable, "-c", "from fastoptim import _core; print(_core.active_isa())"],
        env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == forced


# -- non-finite gradients ----------------------------------------------------------------

def _assert_same_with_nans(a, b, what):
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    assert np.array_equal(nan_a, nan_b), f"{what}: NaNs at different places"
    assert_same_bits(np.where(nan_a, 0, a).astype(a.dtype), np.where(nan_b, 0, b).astype(b.dtype),
                     what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_nonfinite_grads_propagate_like_the_reference(name, dtype):
    # NaN and Inf flow through as in torch.optim (and the NaN-propagating
    # maximum of AMSGrad keeps a NaN once it is in max_exp_avg_sq).
    rng = np.random.default_rng(13)
    params = _params(rng, dtype, ((40,),))
    kw = {**FULL[name], "maximize": True}
    opt = getattr(fo, name)(params, **kw)
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params], **kw}])
    for t in range(4):
        g = _grads_like(rng, params)
        g[0][[3, 11]] = np.nan
        g[0][[5]] = np.inf
        g[0][[7]] = -np.inf
        if t == 2:
            g[0][[3, 11]] = 0.5
        with np.errstate(invalid="ignore", over="ignore"):
            opt.step(g)
            ref.step(g)
        st = opt.state_dict()["state"][0]
        _assert_same_with_nans(params[0], ref.params[0], f"step {t}: param")
        for k in needed_slots(name, ref.param_groups[0]):
            _assert_same_with_nans(st[k], ref.state[0][k], f"step {t}: {k}")


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("lr", [0.0, 0.01])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_signed_zeros_like_the_reference(name, dtype, maximize, lr, weight_decay, mode):
    # Kernels may compute torch's p + (-lr) * x as p - lr * x (AdaGrad does):
    # the same bits by IEEE 754, signed zeros included, which this checks on
    # +0 and -0 params and grads through the vector loop and its tail, on
    # every ISA level and thread setting, with and without weight decay.
    n = 75
    p0 = np.where(np.arange(n) % 3 == 0, 0.0, -0.0).astype(dtype)
    p0[1::7] = 0.25
    g = np.where(np.arange(n) % 2 == 0, -0.0, 0.0).astype(dtype)
    g[::5] = 1e-3
    kw = {"lr": lr, "maximize": maximize, "weight_decay": weight_decay}
    params = [p0.copy()]
    opt = getattr(fo, name)(params, **kw)
    ref = RefOptimizer(name, [{"params": [p0.copy()], **kw}])
    for t in range(3):
        opt.step([g])
        ref.step([g])
        assert_same_bits(params[0], ref.params[0], f"{name} step {t}: param")
        st = opt.state_dict()["state"][0]
        for k in needed_slots(name, ref.param_groups[0]):
            assert_same_bits(st[k], ref.state[0][k], f"{name} step {t}: {k}")


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("dtype, start, skipped", [
    (np.float32, 16_627, True), (np.float32, 16_626, False), (np.float64, 37_411, True),
    (np.float64, 37_410, False), (np.float32, 100, False)],
    ids=["f32-first", "f32-last-before", "f64-first", "f64-last-before", "f32-early"])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_late_steps_equal_the_reference(name, dtype, start, skipped, amsgrad, mode):
    # Once sqrt(1 - beta2^step) rounds to exactly 1 in the param's dtype, the
    # kernel skips dividing by it; x / 1 == x, so the bits must not change.
    beta2 = 0.999
    bc2_sqrt = np.dtype(dtype).type(math.sqrt(1.0 - beta2 ** (start + 1)))
    assert (bc2_sqrt == 1) == skipped  # the case tests what it says: the first
    # step that skips, the last that divides by the largest value below 1
    rng = np.random.default_rng(29)
    params = _params(rng, dtype, ((67,), (3, 5)))
    kw = {"amsgrad": amsgrad, "weight_decay": 0.01}
    opt = getattr(fo, name)(params, **kw)
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params], **kw}])
    g = _grads_like(rng, params)
    opt.step(g)
    ref.step(g)
    sd = opt.state_dict()
    for st in sd["state"].values():
        st["step"] = start
    opt.load_state_dict(sd)
    for st in ref.state.values():
        st["step"] = start
    for t in range(3):
        g = _grads_like(rng, params)
        g[0][:6] = [0.0, -0.0, 0.0, -0.0, 1e-30, -1e-30]
        opt.step(g)
        ref.step(g)
        st = opt.state_dict()["state"]
        for i, p in enumerate(params):
            assert st[i]["step"] == start + t + 1
            assert_same_bits(p, ref.params[i], f"step {start + t + 1}: param {i}")
            for k in needed_slots(name, ref.param_groups[0]):
                assert_same_bits(st[i][k], ref.state[i][k], f"step {start + t + 1}: {k} {i}")


def test_reference_imports_nothing_compiled():
    path = os.path.join(os.path.dirname(R.__file__), "optim.py")
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('ref_optim', {path!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "bad = [k for k in sys.modules if k.startswith('fastoptim')]\n"
        "assert not bad, bad\n"
        "print(sorted(m.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "adam_" in out.stdout
