"""Bad input is refused at the boundary, naming the argument, before any write.

Each row: (how to provoke it, error type, regex the message must match).
After every refused call, every param, state buffer, step count and
hyperparameter is bit-identical to before, and the optimizer's next good
step equals that of a twin that never saw the bad call. Bad grads sit
after a good one in parameter order, so an update that wrote the first
tensor before checking the second would be caught.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import fastoptim as fo
from _refopt import DEFAULTS, assert_same_bits

NAMES = list(DEFAULTS)
OPTIONS = {  # every state slot live
    "SGD": {"weight_decay": 0.01},
    "Momentum": {"nesterov": True},
    "AdaGrad": {"lr_decay": 0.01},
    "RMSProp": {"momentum": 0.9, "centered": True},
    "Adam": {"amsgrad": True},
    "AdamW": {"amsgrad": True},
}


def _make_params():
    rng = np.random.default_rng(0)
    return {
        "W1": rng.standard_normal((4, 3)),
        "b1": rng.standard_normal(3),
        "W2": rng.standard_normal((3, 2)).astype(np.float32),
    }


def _good_grads(seed):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((4, 3)) * 0.1,
        "b1": rng.standard_normal(3) * 0.1,
        "W2": (rng.standard_normal((3, 2)) * 0.1).astype(np.float32),
    }


def _healthy(name):
    """A named-params optimizer two steps in (so its state is not all zeros)."""
    params = _make_params()
    opt = getattr(fo, name)(params, lr=0.01, **OPTIONS[name])
    for s in (1, 2):
        opt.step(_good_grads(s))
    return opt, params


def _snapshot(opt):
    params = [p.copy() for g in opt.param_groups for p in g["params"]]
    groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
              for g in opt.param_groups]
    return params, opt.state_dict(), groups


def _assert_unchanged(opt, before):
    params, sd, groups = _snapshot(opt)
    assert len(params) == len(before[0])
    for i, (a, b) in enumerate(zip(params, before[0])):
        assert_same_bits(a, b, f"param {i} after the refused call")
    assert sd["state"].keys() == before[1]["state"].keys()
    for i, st in sd["state"].items():
        old = before[1]["state"][i]
        assert st.keys() == old.keys()
        assert st["step"] == old["step"], f"state[{i}]['step'] changed"
        for k, v in st.items():
            if k != "step":
                assert_same_bits(v, old[k], f"state[{i}][{k!r}] after the refused call")
    return groups


def _with(grads, **changes):
    out = dict(grads)
    out.update(changes)
    return out


def _strided(shape, dtype):
    big = np.ones(shape[:-1] + (shape[-1] * 2,), dtype)
    return big[..., ::2]


def _byteswapped(a):
    return a.astype(a.dtype.newbyteorder())


# (id, grads from good grads, error, regex). W1 is first in order; the bad
# grad is b1 or W2 unless the row is about W1 itself.
GRAD_ROWS = [
    ("wrong dtype", lambda g: _with(g, b1=g["b1"].astype(np.float32)),
     TypeError, r"grads\['b1'\].*float32"),
    ("wrong dtype f32 param", lambda g: _with(g, W2=g["W2"].astype(np.float64)),
     TypeError, r"grads\['W2'\].*float64"),
    ("integer array", lambda g: _with(g, b1=np.ones(3, np.int64)),
     TypeError, r"grads\['b1'\].*int64"),
    ("float16 array", lambda g: _with(g, W2=g["W2"].astype(np.float16)),
     TypeError, r"grads\['W2'\].*float16"),
    ("byte-swapped", lambda g: _with(g, b1=_byteswapped(g["b1"])),
     TypeError, r"grads\['b1'\]"),
    ("wrong shape", lambda g: _with(g, b1=np.zeros(4)),
     ValueError, r"grads\['b1'\].*shape"),
    ("transposed shape", lambda g: _with(g, W2=np.zeros((2, 3), np.float32)),
     ValueError, r"grads\['W2'\].*shape"),
    ("same size other shape", lambda g: _with(g, W1=g["W1"].reshape(12)),
     ValueError, r"grads\['W1'\].*shape"),
    ("non-contiguous", lambda g: _with(g, W2=_strided((3, 2), np.float32)),
     ValueError, r"grads\['W2'\].*contiguous"),
    ("fortran order", lambda g: _with(g, W2=np.asfortranarray(g["W2"])),
     ValueError, r"grads\['W2'\].*contiguous"),
    ("python list", lambda g: _with(g, b1=[0.1, 0.2, 0.3]),
     TypeError, r"grads\['b1'\].*list"),
    ("python float", lambda g: _with(g, b1=0.1),
     TypeError, r"grads\['b1'\]"),
    ("None", lambda g: _with(g, W2=None),
     TypeError, r"grads\['W2'\]"),
    ("missing key", lambda g: {k: v for k, v in g.items() if k != "W2"},
     ValueError, r"grads.*'W2'"),
    ("extra key", lambda g: _with(g, W3=np.zeros(2)),
     ValueError, r"grads.*'W3'"),
    ("renamed key", lambda g: {("b2" if k == "b1" else k): v for k, v in g.items()},
     ValueError, r"grads.*'b1'"),
    ("list too short", lambda g: [g["W1"], g["b1"]],
     ValueError, r"grads.*2.*3|grads.*3.*2"),
    ("list too long", lambda g: [g["W1"], g["b1"], g["W2"], g["W2"]],
     ValueError, r"grads.*4.*3|grads.*3.*4"),
    ("list with a bad second grad", lambda g: [g["W1"], g["b1"][:2], g["W2"]],
     ValueError, r"grads\[.?b1.?\].*shape"),
    ("single array", lambda g: g["W1"],
     TypeError, r"grads"),
    ("None grads", lambda g: None,
     TypeError, r"grads"),
]


@pytest.mark.parametrize("row", GRAD_ROWS, ids=[r[0] for r in GRAD_ROWS])
@pytest.mark.parametrize("name", NAMES)
def test_bad_grads_refused_before_any_write(name, row):
    _, make, exc, regex = row
    opt, _ = _healthy(name)
    twin, _ = _healthy(name)
    before = _snapshot(opt)
    with pytest.raises(exc, match=regex):
        opt.step(make(_good_grads(3)))
    _assert_unchanged(opt, before)
    # Nothing hidden changed either (step counts, cached hyperparameters).
    opt.step(_good_grads(4))
    twin.step(_good_grads(4))
    after, twin_after = _snapshot(opt), _snapshot(twin)
    _assert_unchanged(twin, after)
    assert after[2] == twin_after[2]


@pytest.mark.parametrize("name", NAMES)
def test_grad_aliasing_a_param_is_refused(name):
    opt, params = _healthy(name)
    before = _snapshot(opt)
    with pytest.raises(ValueError, match=r"grads\['b1'\].*(share|alias)"):
        opt.step(_with(_good_grads(3), b1=params["b1"]))
    _assert_unchanged(opt, before)


@pytest.mark.parametrize("name", NAMES)
def test_grad_aliasing_is_refused_after_steps_with_other_grads(name):
    # The plan skips the overlap search for a grad at an address that passed
    # before; a grad at a new address is searched again.
    opt, params = _healthy(name)
    grads = _good_grads(3)
    opt.step(grads)
    opt.step(grads)
    before = _snapshot(opt)
    with pytest.raises(ValueError, match=r"grads\['b1'\].*(share|alias)"):
        opt.step(_with(grads, b1=params["b1"]))
    _assert_unchanged(opt, before)
    w1 = list(params).index("W1")
    state = next((b for b in opt.state[w1].values() if isinstance(b, np.ndarray)), None)
    if state is not None:
        with pytest.raises(ValueError, match=r"grads\['W1'\] shares memory with state"):
            opt.step(_with(grads, W1=state))
        _assert_unchanged(opt, before)


@pytest.mark.parametrize("missing,hypers", [(1, {}), (2, {"amsgrad": True})])
def test_plan_refuses_a_state_slot_the_settings_need(missing, hypers):
    # Only direct _core.Plan use can get here (the optimizers allocate what
    # their settings need): the first missing slot is named, nothing written.
    from fastoptim import _core
    p = np.ones(8, np.float32)
    opt = fo.Adam([np.ones(8, np.float32)], **hypers)
    packed, _ = opt._hypers()
    slots = [np.zeros(8, np.float32) for _ in range(3)]
    slots[missing] = None
    if missing == 1:
        slots[2] = None
    steps = np.zeros(1, np.int64)
    plan = _core.Plan("adam", [p], [slots], [0], steps, ["w"])
    name = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"][missing]
    with pytest.raises(ValueError, match=rf"state\[w\]\['{name}'\] is missing"):
        plan.step([np.ones(8, np.float32)], packed)
    assert np.all(p == 1) and steps[0] == 0


@pytest.mark.parametrize("index,value,kind", [(0, 1, "a float, got int"),
                                               (5, "1e-8", "a float, got str"),
                                               (9, 1, "a bool, got int"),
                                               (12, None, "a bool, got NoneType")])
def test_plan_takes_packed_floats_and_bools_only(index, value, kind):
    # Reading them runs no Python code (no __float__ or __bool__ that could
    # re-enter a step on this thread); the optimizers always pack these.
    from fastoptim import _core
    p = np.ones(8, np.float32)
    packed = list(fo.Adam([np.ones(8, np.float32)])._hypers()[0][0])
    packed[index] = value
    steps = np.zeros(1, np.int64)
    plan = _core.Plan("adam", [p], [[np.zeros(8, np.float32), np.zeros(8, np.float32)]], [0],
                      steps, ["w"])
    with pytest.raises(TypeError, match=rf"hypers\[0\]\[{index}\] must be {kind}"):
        plan.step([np.ones(8, np.float32)], [tuple(packed)])
    assert np.all(p == 1) and steps[0] == 0


def test_plan_steps_by_itself_only_on_a_matching_memo():
    # Plan.step_if_unchanged(grads, groups, memo): anything but the memo of
    # these very groups steps nothing and returns None.
    p = np.ones(4)
    opt = fo.SGD([p], lr=0.1)
    opt.step([np.zeros(4)])
    plan, groups, memo = opt._plan, opt.param_groups, opt._memo
    g = [np.ones(4)]
    bad = [None, (), memo[:4], memo[:5], (list(groups),) + memo[1:], (groups, ()) + memo[2:],
           memo[:3] + ((),) + memo[4:], memo[:3] + ((memo[3][0][:-1],),) + memo[4:]]
    for m in bad:
        assert plan.step_if_unchanged(g, groups, m) is None
    assert np.all(p == 1) and opt.state[0]["step"] == 1
    assert plan.step_if_unchanged(g, groups, memo) is True
    np.testing.assert_allclose(p, 0.9)


@pytest.mark.parametrize("name", NAMES)
def test_read_only_and_offset_grads_are_accepted(name):
    opt, _ = _healthy(name)
    twin, _ = _healthy(name)
    g = _good_grads(3)
    ro = {k: v.copy() for k, v in g.items()}
    for v in ro.values():
        v.flags.writeable = False
    opt.step(ro)
    twin.step(g)
    _assert_unchanged(opt, _snapshot(twin))


@pytest.mark.parametrize("name", NAMES)
def test_param_made_read_only_after_binding_is_refused(name):
    opt, params = _healthy(name)
    before = _snapshot(opt)
    params["W2"].flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['W2'\].*read-only"):
        opt.step(_good_grads(3))
    params["W2"].flags.writeable = True
    _assert_unchanged(opt, before)


# -- hyperparameters ------------------------------------------------------------------

COMMON_HYPER_ROWS = [
    ({"lr": -0.1}, ValueError, r"\blr\b.*>= 0"),
    ({"lr": float("nan")}, ValueError, r"\blr\b"),
    ({"lr": float("inf")}, ValueError, r"\blr\b"),
    ({"lr": "0.1"}, TypeError, r"\blr\b"),
    ({"lr": None}, TypeError, r"\blr\b"),
    ({"weight_decay": -1e-3}, ValueError, r"weight_decay"),
    ({"weight_decay": float("nan")}, ValueError, r"weight_decay"),
    ({"maximize": "yes"}, TypeError, r"maximize"),
]
HYPER_ROWS = {
    "SGD": [],
    "Momentum": [
        ({"momentum": -0.1}, ValueError, r"\bmomentum\b"),
        ({"momentum": float("nan")}, ValueError, r"\bmomentum\b"),
        # torch's SGD(momentum=0) keeps no buffer: plain SGD, which is fo.SGD.
        ({"momentum": 0.0}, ValueError, r"\bmomentum\b must be > 0.*SGD"),
        ({"momentum": 0.0, "nesterov": True}, ValueError, r"\bmomentum\b must be > 0"),
        ({"nesterov": True, "dampening": 0.1}, ValueError, r"nesterov.*dampening"),
        ({"dampening": -0.5}, ValueError, r"dampening"),
        ({"nesterov": 1}, TypeError, r"nesterov"),
    ],
    "AdaGrad": [
        ({"eps": -1e-10}, ValueError, r"\beps\b"),
        ({"lr_decay": -0.1}, ValueError, r"lr_decay"),
        ({"initial_accumulator_value": -1.0}, ValueError, r"initial_accumulator_value"),
    ],
    "RMSProp": [
        ({"eps": -1e-8}, ValueError, r"\beps\b"),
        ({"momentum": -0.9}, ValueError, r"\bmomentum\b"),
        ({"alpha": -0.1}, ValueError, r"\balpha\b"),
        ({"alpha": float("nan")}, ValueError, r"\balpha\b"),
        ({"centered": None}, TypeError, r"centered"),
    ],
    "Adam": [
        ({"betas": (1.0, 0.999)}, ValueError, r"betas"),
        ({"betas": (0.9, 1.0)}, ValueError, r"betas"),
        ({"betas": (-0.1, 0.999)}, ValueError, r"betas"),
        ({"betas": (0.9, 1.5)}, ValueError, r"betas"),
        ({"betas": (0.9, float("nan"))}, ValueError, r"betas"),
        ({"betas": (0.9,)}, TypeError, r"betas"),
        ({"betas": 0.9}, TypeError, r"betas"),
        ({"eps": -1e-8}, ValueError, r"\beps\b"),
        ({"amsgrad": "no"}, TypeError, r"amsgrad"),
    ],
}
HYPER_ROWS["AdamW"] = HYPER_ROWS["Adam"]
ALL_HYPER_ROWS = [(n, *row) for n in NAMES for row in COMMON_HYPER_ROWS + HYPER_ROWS[n]]


def _hyper_id(row):
    name, changes, exc, _ = row
    return f"{name}-" + ",".join(f"{k}={v!r}" for k, v in changes.items())


@pytest.mark.parametrize("row", ALL_HYPER_ROWS, ids=[_hyper_id(r) for r in ALL_HYPER_ROWS])
def test_bad_hyperparameter_in_constructor(row):
    name, changes, exc, regex = row
    params = _make_params()
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(exc, match=regex):
        getattr(fo, name)(params, **{**OPTIONS[name], **changes})
    with pytest.raises(exc, match=regex):
        getattr(fo, name)(**{**OPTIONS[name], **changes})  # course style: no params yet
    for k in params:
        assert_same_bits(params[k], before[k], k)


@pytest.mark.parametrize("row", ALL_HYPER_ROWS, ids=[_hyper_id(r) for r in ALL_HYPER_ROWS])
def test_bad_hyperparameter_in_param_groups_refused_at_step(row):
    name, changes, exc, regex = row
    _check_refused_edit(name, changes, exc, regex)


def _check_refused_edit(name, changes, exc, regex, attempts=1):
    """An edit of param_groups[0] refused by step() (`attempts` times: the
    first through Python's check, the next through the one-call step), with
    nothing changed; undone, the optimizer steps as a twin never edited."""
    opt, _ = _healthy(name)
    twin, _ = _healthy(name)
    before = _snapshot(opt)
    saved = {k: opt.param_groups[0][k] for k in changes}
    opt.param_groups[0].update(changes)
    for _ in range(attempts):
        with pytest.raises(exc, match=regex):
            opt.step(_good_grads(3))
        _assert_unchanged(opt, before)
    opt.param_groups[0].update(saved)
    opt.step(_good_grads(4))
    twin.step(_good_grads(4))
    _assert_unchanged(opt, _snapshot(twin)[:2] + (None,))


@pytest.mark.parametrize("name", NAMES)
def test_bad_hyperparameter_in_a_second_group_names_it(name):
    p = _make_params()
    groups = [{"params": {"W1": p["W1"]}}, {"params": {"b1": p["b1"]}, "lr": -1.0}]
    with pytest.raises(ValueError, match=r"param_groups\[1\].*lr"):
        getattr(fo, name)(groups, **OPTIONS[name])


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_in_a_group(name):
    p = _make_params()
    with pytest.raises((TypeError, ValueError), match=r"param_groups\[0\].*'betaz'"):
        getattr(fo, name)([{"params": [p["W1"]], "betaz": 0.1}])


# -- params ---------------------------------------------------------------------------

def _ro(a):
    a.flags.writeable = False
    return a


PARAM_ROWS = [
    ("integer array", lambda: {"W": np.ones(3), "n": np.ones(3, np.int32)},
     TypeError, r"params\['n'\].*int32"),
    ("float16 array", lambda: [np.ones(3), np.ones(3, np.float16)],
     TypeError, r"params\[1\].*float16"),
    ("complex array", lambda: [np.ones(3, np.complex128)],
     TypeError, r"params\[0\].*complex"),
    ("byte-swapped", lambda: [np.ones(3, ">f8")],
     TypeError, r"params\[0\]"),
    ("non-contiguous", lambda: {"W": np.ones(3), "S": _strided((4, 3), np.float64)},
     ValueError, r"params\['S'\].*contiguous"),
    ("fortran order", lambda: [np.asfortranarray(np.ones((3, 4)))],
     ValueError, r"params\[0\].*contiguous"),
    ("read-only", lambda: {"W": np.ones(3), "R": _ro(np.ones(3))},
     ValueError, r"params\['R'\].*read-only"),
    ("python list", lambda: [np.ones(3), [1.0, 2.0]],
     TypeError, r"params\[1\].*list"),
    ("python float", lambda: {"x": 1.0},
     TypeError, r"params\['x'\]"),
    ("empty list", lambda: [],
     ValueError, r"params.*empty"),
    ("empty dict", lambda: {},
     ValueError, r"params.*empty"),
    ("empty group", lambda: [{"params": [np.ones(2)]}, {"params": []}],
     ValueError, r"param_groups\[1\].*empty"),
    ("single array", lambda: np.ones(3),
     TypeError, r"params"),
    ("same array twice", lambda: (lambda a: [a, a])(np.ones(3)),
     ValueError, r"params\[0\].*params\[1\].*share memory"),
    ("overlapping views", lambda: (lambda a: {"a": a[:3], "b": a[2:]})(np.ones(6)),
     ValueError, r"params\['a'\].*params\['b'\].*share memory"),
    ("string", lambda: "W",
     TypeError, r"params"),
]


@pytest.mark.parametrize("row", PARAM_ROWS, ids=[r[0] for r in PARAM_ROWS])
@pytest.mark.parametrize("name", NAMES)
def test_bad_params_refused(name, row):
    _, make, exc, regex = row
    params = make()
    arrays = [v for v in (params.values() if isinstance(params, dict) else
                          params if isinstance(params, list) else [])
              if isinstance(v, np.ndarray)]
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=regex):
        getattr(fo, name)(params)
    # Course style: the same check when update() binds.
    opt = getattr(fo, name)()
    grads = {k: np.zeros(np.shape(v)) for k, v in params.items()} if isinstance(params, dict) \
        else [np.zeros(np.shape(v)) for v in params] if isinstance(params, list) and \
        not any(isinstance(v, dict) for v in params) else None
    if grads is not None:
        with pytest.raises(exc, match=regex):
            opt.update(params, grads)
    for a, b in zip(arrays, before):
        assert_same_bits(a, b, "a param of the refused optimizer")


def test_update_with_replaced_arrays_is_refused_before_any_write():
    opt, params = _healthy("Adam")
    before = _snapshot(opt)
    other = dict(params, b1=params["b1"].copy())
    with pytest.raises(ValueError, match="in place"):
        opt.update(other, _good_grads(3))
    _assert_unchanged(opt, before)


OVERFLOWING = [(name, {"lr": 1e39}) for name in NAMES] + [
    (name, {"eps": 1e39}) for name in ("AdaGrad", "RMSProp", "Adam", "AdamW")] + [
    ("AdamW", {"lr": 1e20, "weight_decay": 1e20}),  # 1 - lr * weight_decay
    ("Adam", {"lr": 1e38, "betas": (0.9, 0.999)}),  # lr / (1 - 0.9**3) at step 3
]


@pytest.mark.parametrize("name, changes", OVERFLOWING,
                         ids=[f"{n}-{','.join(c)}" for n, c in OVERFLOWING])
def test_hyperparameters_overflowing_float32_are_refused_for_float32_params(name, changes):
    # As torch.optim does ("value cannot be converted to type float without
    # overflow"), rather than writing inf into the params.
    _check_refused_edit(name, changes, ValueError, r"params\['W2'\] is float32 and its "
                        r"hyperparameters overflow float32 in its step 3", attempts=2)


def test_overflow_is_judged_by_each_params_type_and_step():
    p64 = [np.ones(3)]
    fo.SGD(p64, lr=1e39).step([np.ones(3)])  # fits float64
    assert p64[0][0] == -1e39
    with pytest.raises(ValueError, match=r"params\[0\] is float64 .* step 1"):
        fo.Adam([np.ones(3)], lr=1e308).step([np.ones(3)])  # lr / 0.1 overflows double
    # lr / (1 - beta1**step) shrinks as steps go: 1e38 / 0.1 overflows float32, 1e38 / 1 not.
    fo.Adam([np.ones(3, np.float32)], lr=1e38, betas=(0.0, 0.999)).step([np.ones(3, np.float32)])
    ps = [np.ones(2), np.ones(2, np.float32)]
    with pytest.raises(ValueError, match=r"params\[1\] is float32"):
        fo.functional.sgd_(ps, [np.ones(2), np.ones(2, np.float32)], lr=1e39)
    assert all((p == 1).all() for p in ps)  # float64 params[0] untouched too


@pytest.mark.parametrize("make", [
    lambda: fo.Adam([np.zeros(3)], lr=10**400),
    lambda: fo.Adam([np.zeros(3)], betas=(10**400, 0.9)),
    lambda: fo.functional.sgd_([np.zeros(3)], [np.ones(3)], lr=10**400),
])
def test_an_int_beyond_any_float_is_a_value_error_naming_it(make):
    with pytest.raises(ValueError, match=r"(lr|betas\[0\]) must be finite, got an int too large"):
        make()


@pytest.mark.parametrize("step", [2**62 + 1, 2**63, 2**64])
def test_functional_step_beyond_the_int64_counter_is_refused(step):
    p = np.zeros(3)
    with pytest.raises(ValueError, match=r"step must be in \[1, 2\*\*62\]"):
        fo.functional.adam_([p], [np.ones(3)], [np.zeros(3)], [np.zeros(3)], step=step)
    with pytest.raises(ValueError, match=r"step must be in \[1, 2\*\*62\]"):
        fo.functional.momentum_([p], [np.ones(3)], [np.zeros(3)], step=step, lr=0.1,
                                momentum=0.9)
    assert np.all(p == 0)


@pytest.mark.parametrize("n", [0, 4097, 2**31, 2**64])
def test_set_num_threads_out_of_range(n):
    before = fo.get_num_threads()
    with pytest.raises(ValueError, match=f"n must be between 1 and 4096, got {n}"):
        fo.set_num_threads(n)
    assert fo.get_num_threads() == before


@pytest.mark.parametrize("key,value", [("params", 5), ("param_names", 5)])
def test_load_state_dict_group_lists_of_the_wrong_type(key, value):
    opt = fo.Adam({"w": np.zeros(3)})
    sd = opt.state_dict()
    sd["param_groups"][0][key] = value
    with pytest.raises(TypeError, match=rf"state_dict\['param_groups'\]\[0\]\['{key}'\] must be "
                                        "a list"):
        opt.load_state_dict(sd)
