"""Misuse that must not corrupt memory or state: arrays changed after binding,
grads dropped mid-step, concurrent snapshots, bad checkpoints of unbound
optimizers, hyperparameters edited in place."""

import threading
import time
import warnings

import numpy as np
import pytest

import fastoptim as fo


def test_a_resized_param_is_refused_not_written():
    W = np.zeros(1 << 20)
    opt = fo.SGD([W])
    W.resize(4, refcheck=False)  # the bound buffer is gone
    with pytest.raises(ValueError, match=r"params\[0\] was resized or reshaped"):
        opt.step([np.ones(4)])


def test_a_param_reshaped_in_place_is_refused():
    W = np.zeros((4, 3))
    opt = fo.SGD({"W": W})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy >= 2.5 deprecates this
        W.shape = (3, 4)
    with pytest.raises(ValueError, match=r"params\['W'\] was resized or reshaped"):
        opt.step({"W": np.ones((3, 4))})


def test_a_state_buffer_made_read_only_is_refused_before_any_write():
    p = [np.zeros(3), np.zeros(5)]
    opt = fo.Adam(p)
    opt.step([np.ones(3), np.ones(5)])
    before = [x.copy() for x in p]
    m = opt.state[1]["exp_avg"]
    m.flags.writeable = False
    frozen = m.copy()
    with pytest.raises(ValueError, match=r"state\[1\]\['exp_avg'\] has become read-only"):
        opt.step([np.ones(3), np.ones(5)])
    np.testing.assert_array_equal(m, frozen)
    for a, b in zip(p, before):
        np.testing.assert_array_equal(a, b)
    assert opt.state[0]["step"] == 1


def test_grads_dropped_from_the_list_during_a_step_stay_alive():
    n = 8 << 20
    p = np.zeros(n, np.float32)
    opt = fo.Adam([p], lr=1e-3)
    grads = [np.ones(n, np.float32)]

    def drop():
        time.sleep(0.002)
        grads[0] = None

    t = threading.Thread(target=drop)
    t.start()
    opt.step(grads)
    t.join()
    assert np.all(p == p[0]) and p[0] < 0


def test_state_dict_during_a_step_sees_the_step_whole_or_not_at_all():
    n = 4 << 20
    p = np.zeros(n, np.float32)
    opt = fo.Adam([p], lr=1e-3)
    g = [np.ones(n, np.float32)]
    snapshots = []
    stop = threading.Event()

    def snap():
        while not stop.is_set() and len(snapshots) < 20:
            snapshots.append(opt.state_dict())

    t = threading.Thread(target=snap)
    t.start()
    for _ in range(5):
        opt.step(g)
    stop.set()
    t.join()
    assert snapshots
    for sd in snapshots:
        st = sd["state"][0]
        m = st["exp_avg"]
        assert m.min() == m.max(), "a snapshot holds half a step"
        expected = 1.0 - 0.9 ** st["step"] if st["step"] else 0.0
        assert m[0] == pytest.approx(expected, rel=1e-6)


def test_load_state_dict_rejects_a_step_count_beyond_int64_and_changes_nothing():
    p = [np.zeros(3)]
    opt = fo.Adam(p, lr=0.1)
    opt.step([np.ones(3)])
    sd = opt.state_dict()
    exp_avg = sd["state"][0]["exp_avg"].copy()
    sd["param_groups"][0]["lr"] = 0.5
    sd["state"][0]["exp_avg"][:] = 7.0
    sd["state"][0]["step"] = 2**63
    with pytest.raises(ValueError, match=r"\['step'\] must be an integer in \[0, 2\*\*62\]"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[0]["exp_avg"], exp_avg)


def test_a_pending_state_that_does_not_fit_is_kept_for_the_right_params():
    src = fo.Adam([np.zeros(3)])
    src.step([np.ones(3)])
    opt = fo.Adam(lr=1e-3)  # course style: no params yet
    opt.load_state_dict(src.state_dict())
    for _ in range(2):  # a wrong model is refused, every time
        with pytest.raises(ValueError, match="has shape"):
            opt.update([np.zeros(4)], [np.ones(4)])
    params = [np.zeros(3)]
    opt.update(params, [np.ones(3)])
    assert opt.state[0]["step"] == 2  # continued from the loaded state


def test_hyperparameter_sequences_edited_in_place_are_revalidated():
    p = [np.zeros(3)]
    opt = fo.Adam(p)
    opt.param_groups[0]["betas"] = np.array([0.9, 0.999])
    opt.step([np.ones(3)])
    opt.param_groups[0]["betas"][1] = 5.0
    with pytest.raises(ValueError, match=r"betas\[1\] must be < 1.0"):
        opt.step([np.ones(3)])
    opt.param_groups[0]["betas"][1] = 0.99  # a valid in-place edit is used
    before = p[0].copy()
    opt.step([np.ones(3)])
    assert not np.array_equal(p[0], before)


def test_hyperparameter_edits_after_many_unchanged_steps_are_seen():
    # Unchanged immutable values skip revalidation (same objects); any
    # replacement, an equal-looking one of another type included, and any
    # in-place edit of a mutable sequence must still be checked.
    p = [np.zeros(3)]
    opt = fo.Adam(p)
    g = [np.ones(3)]
    for _ in range(5):
        opt.step(g)
    group = opt.param_groups[0]
    group["betas"] = (0.9, 1.5)
    with pytest.raises(ValueError, match=r"betas\[1\] must be < 1.0"):
        opt.step(g)
    group["betas"] = [0.9, 0.999]  # a list: mutable, compared by value every step
    opt.step(g)
    group["betas"][0] = -0.5
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        opt.step(g)
    group["betas"] = (0.9, 0.999)
    group["amsgrad"] = 1  # 1 == True, but not a bool
    with pytest.raises(TypeError, match="amsgrad"):
        opt.step(g)
    group["amsgrad"] = False
    group["lr"] = float("nan")
    with pytest.raises(ValueError, match="lr"):
        opt.step(g)
    group["lr"] = 0.5  # a real change of value takes effect
    before = p[0].copy()
    opt.step(g)
    assert np.abs(p[0] - before).max() > 0.1
    assert opt.state[0]["step"] == 7


@pytest.mark.parametrize("init", [fo.init.he_normal_, fo.init.xavier_uniform_,
                                  fo.init.lecun_normal_])
def test_initializing_an_empty_array_is_a_no_op(init):
    a = np.empty((0, 10), np.float32)
    assert init(a, seed=0) is a
    assert fo.init.he_normal((0, 10), seed=0).shape == (0, 10)


def test_the_one_call_step_sees_every_structural_change():
    # While param_groups, its dicts and their immutable values stay the very
    # same objects, a step is one call into C++ (Plan.step_if_unchanged);
    # any change of the list, a dict or a value takes the checked path.
    p = [np.zeros(3), np.zeros(2)]
    opt = fo.SGD([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.5}], lr=0.1)
    g = [np.ones(3), np.ones(2)]

    def moved(k):
        before = [x.copy() for x in p]
        opt.step(g)
        return [float(b[0] - x[0]) for b, x in zip(before, p)][k]

    for _ in range(3):
        assert moved(0) == pytest.approx(0.1) and moved(1) == pytest.approx(0.5)
    opt.param_groups = list(opt.param_groups)  # a new list with the same dicts
    assert moved(0) == pytest.approx(0.1)
    opt.param_groups[1] = {**opt.param_groups[1], "lr": 0.25}  # a new dict
    assert moved(1) == pytest.approx(0.25)
    assert moved(1) == pytest.approx(0.25)
    opt.param_groups[0]["lr"] = 0.125  # a new value in the same dict
    assert moved(0) == pytest.approx(0.125)

    class Group(dict):
        pass

    opt.param_groups[0] = Group(opt.param_groups[0])  # not a plain dict: checked path
    assert moved(0) == pytest.approx(0.125)
    opt.param_groups = tuple(opt.param_groups)  # not a list: checked path
    assert moved(0) == pytest.approx(0.125)
    opt.param_groups = list(opt.param_groups)
    del opt.param_groups[1]["lr"]
    with pytest.raises(ValueError, match=r"param_groups\[1\] has lost its 'lr' entry"):
        opt.step(g)
    opt.param_groups[1]["lr"] = 0.5
    assert moved(1) == pytest.approx(0.5)
    assert opt.state[0]["step"] == opt.state[1]["step"] == 13  # the refused step is not counted


def _count_checked_steps(opt):
    calls = []
    checked = opt._hypers

    def counting():
        calls.append(1)
        return checked()

    opt._hypers = counting
    return calls


def test_grads_by_name_take_the_one_call_step():
    # The README's style (params and grads as dicts) steps in one call into
    # C++ as a list does: the full check runs once, not every step.
    from collections import OrderedDict

    p = {"W": np.zeros(3), "b": np.zeros(2)}
    opt = fo.SGD(p, lr=0.1)
    calls = _count_checked_steps(opt)
    g = {"b": np.ones(2), "W": np.ones(3)}  # any order
    for _ in range(10):
        opt.step(g)
    assert len(calls) == 1
    np.testing.assert_allclose(p["W"], -1.0)
    np.testing.assert_allclose(p["b"], -1.0)
    # Anything but exactly the names takes the checked path, and its errors.
    before = {k: v.copy() for k, v in p.items()}
    with pytest.raises(ValueError, match=r"grads is missing 'b'"):
        opt.step({"W": np.ones(3)})
    with pytest.raises(ValueError, match=r"grads is missing 'b'"):
        opt.step({"W": np.ones(3), "c": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads has 'c', which is not a parameter"):
        opt.step({**g, "c": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(2,\)"):
        opt.step({"W": np.ones(2), "b": np.ones(2)})
    for k in p:
        np.testing.assert_array_equal(p[k], before[k])
    n = len(calls)
    opt.step(OrderedDict(g))  # a dict subclass: checked path, same result
    assert len(calls) == n + 1
    np.testing.assert_allclose(p["W"], -1.1)
    opt.step(g)  # a plain dict again: one call
    assert len(calls) == n + 1
    assert opt.state[0]["step"] == 12


def test_replacing_a_groups_params_is_refused():
    # Arrays are bound once: a group whose "params" no longer lists them
    # (replaced, edited in place, grown) is refused, not silently ignored.
    p = [np.zeros(3), np.zeros(2)]
    opt = fo.SGD([{"params": [p[0]]}, {"params": [p[1]]}], lr=0.1)
    g = [np.ones(3), np.ones(2)]
    opt.step(g)
    mine = opt.param_groups[1]["params"]
    edits = [lambda: opt.param_groups[1].__setitem__("params", [np.zeros(2)]),
             lambda: mine.__setitem__(0, np.zeros(2)),
             lambda: mine.append(np.zeros(2)),
             lambda: opt.param_groups[1].__setitem__("params", tuple(mine)),
             lambda: opt.param_groups[1].pop("params")]
    for edit in edits:
        opt.param_groups[1]["params"] = mine
        del mine[1:]
        mine[0] = p[1]
        opt.step(g)  # the one-call step, memo in place
        edit()
        with pytest.raises(ValueError, match=r"param_groups\[1\]\['params'\] no longer lists"):
            opt.step(g)
        np.testing.assert_allclose(p[1], -0.1 * opt.state[1]["step"])
    assert opt.state[0]["step"] == opt.state[1]["step"] == 6


def test_the_one_call_step_skips_nonfinite_grads():
    p = [np.zeros(3)]
    opt = fo.Adam(p, skip_nonfinite=True)
    for _ in range(3):
        assert opt.step([np.ones(3)]) is True
    before = p[0].copy()
    assert opt.step([np.array([1.0, np.nan, 1.0])]) is False
    np.testing.assert_array_equal(p[0], before)
    assert opt.skipped_steps == 1 and opt.state[0]["step"] == 3
    assert opt.step([np.ones(3)]) is True and opt.state[0]["step"] == 4


def test_adding_or_removing_a_group_is_refused_by_name():
    p = [np.zeros(3), np.zeros(2)]
    opt = fo.SGD([{"params": [p[0]]}, {"params": [p[1]]}], lr=0.1)
    g = [np.ones(3), np.ones(2)]
    opt.step(g)
    extra = {**opt.param_groups[0], "params": [np.zeros(4)]}
    opt.param_groups.append(extra)
    with pytest.raises(ValueError, match=r"param_groups has 3 groups but this optimizer was "
                                         r"built with 2: add a group with add_param_group"):
        opt.step(g)
    with pytest.raises(ValueError, match=r"add groups with add_param_group, not by editing"):
        opt.add_param_group({"params": [np.zeros(5)]})
    opt.param_groups.pop()
    removed = opt.param_groups.pop()
    with pytest.raises(ValueError, match=r"param_groups has 1 groups"):
        opt.step(g)
    opt.param_groups.append(removed)
    opt.step(g)
    np.testing.assert_allclose(p[0], -0.2)


def test_an_optimizer_in_a_reference_cycle_through_its_groups_is_collected():
    # The one-call step's memo (the groups, dicts and values) is held by the
    # optimizer, where the garbage collector sees it, not inside the plan.
    import gc
    import weakref

    p = np.zeros(1000)
    opt = fo.Adam([p])
    opt.param_groups[0]["owner"] = opt  # a cycle through a group dict
    opt.step([np.ones(1000)])
    opt.step([np.ones(1000)])
    ref = weakref.ref(opt)
    del opt
    gc.collect()
    assert ref() is None


def _state_keys(opt):
    return [sorted(d) for d in opt.state_dict()["state"].values()]


@pytest.mark.parametrize("cls,switch,slot", [(fo.Adam, {"amsgrad": True}, "max_exp_avg_sq"),
                                             (fo.RMSProp, {"centered": True}, "grad_avg"),
                                             (fo.RMSProp, {"momentum": 0.9}, "momentum_buffer")])
def test_a_refused_step_adds_no_buffer_and_the_next_one_takes_the_switch(cls, switch, slot):
    # Turning on a setting that needs a buffer, then a step refused for a bad
    # grad, a bad setting in another group, or a param made read-only since:
    # the buffer is not added, and once the input is fixed the step takes the
    # switch as if the refused steps had never been tried.
    def make():
        ps = [np.linspace(-1, 1, 7), np.linspace(0, 2, 5)]
        return ps, cls([{"params": [ps[0]]}, {"params": [ps[1]]}], lr=0.1)

    grads = [np.full(7, 0.5), np.full(5, -0.25)]
    ps, opt = make()
    ref_ps, ref = make()
    for o in (opt, ref):
        o.step(grads)
        o.param_groups[0].update(switch)
    keys = _state_keys(opt)
    assert slot not in keys[0]
    with pytest.raises(ValueError, match="grads"):
        opt.step([grads[0], np.ones(4)])
    opt.param_groups[1]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\]"):
        opt.step(grads)
    opt.param_groups[1]["lr"] = 0.1
    ps[1].flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step(grads)
    assert _state_keys(opt) == keys
    ps[1].flags.writeable = True
    for _ in range(2):
        opt.step(grads)
        ref.step(grads)
    assert slot in _state_keys(opt)[0]
    for a, b in zip(ps, ref_ps):
        np.testing.assert_array_equal(a, b)
    for i, d in ref.state.items():
        for k, v in d.items():
            np.testing.assert_array_equal(opt.state[i][k], v)


def test_load_state_dict_refused_for_a_read_only_param_changes_nothing():
    ps = [np.linspace(-1, 1, 6), np.ones(3)]
    src = fo.Adam([np.linspace(-1, 1, 6), np.ones(3)], lr=0.5, amsgrad=True)
    src.step([np.full(6, 0.3), np.full(3, 0.1)])
    opt = fo.Adam(ps, lr=0.1)
    opt.step([np.full(6, 0.2), np.full(3, 0.2)])
    before = opt.state_dict()
    ps[1].flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[1\] is read-only"):
        opt.load_state_dict(src.state_dict())
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]     # lr still 0.1, amsgrad off
    assert _state_keys(opt) == [sorted(d) for d in before["state"].values()]
    for i, d in before["state"].items():
        for k, v in d.items():
            np.testing.assert_array_equal(after["state"][i][k], v)
    ps[1].flags.writeable = True
    opt.load_state_dict(src.state_dict())                       # and it is not stuck
    opt.step([np.full(6, 0.3), np.full(3, 0.1)])
    assert opt.state[0]["step"] == 2 and "max_exp_avg_sq" in opt.state[0]


def test_save_while_another_thread_steps_writes_one_moment(tmp_path):
    # SGD with lr 1 and grad 1: after k steps the param is -k everywhere.
    p = np.zeros(1 << 20)
    opt = fo.SGD([p], lr=1.0)
    g = [np.ones_like(p)]
    stop = threading.Event()

    def train():
        while not stop.is_set():
            opt.step(g)

    t = threading.Thread(target=train)
    t.start()
    try:
        for i in range(12):
            path = tmp_path / f"c{i}.npz"
            fo.save(path, None, opt)
            ck = fo.load(path)
            step = ck.optimizer_state["state"][0]["step"]
            q = ck.params[0]
            assert q.min() == q.max() == -step, f"checkpoint {i}: params of another step"
    finally:
        stop.set()
        t.join()
