"""Optimizers stepped from several Python threads at once.

The kernels run with the GIL released and may themselves split a step
across the pool, so concurrent steps of distinct optimizers really overlap;
one optimizer's plan holds a mutex, so concurrent steps of it are serialized.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fastoptim as fo
from fastoptim import _core

THRESHOLD = 2048  # lowered so the "large" tensors below take the pool's parallel path
SMALL, LARGE = 700, 100_003

# One optimizer per thread, each of a different kind, with state to compare.
WORKERS = [
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.01)),
    ("RMSProp", dict(lr=1e-2, momentum=0.9, centered=True)),
    ("Momentum", dict(lr=1e-2, momentum=0.9, nesterov=True)),
    ("AdamW", dict(lr=1e-2)),
]


def _model(seed, n):
    rng = np.random.default_rng(seed)
    params = {"w32": rng.standard_normal(n).astype(np.float32), "w64": rng.standard_normal(n // 3 + 1),
              "small": rng.standard_normal(5).astype(np.float32)}
    grads = [{k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in params.items()}
             for _ in range(8)]
    return params, grads


def _run(worker, n, steps, barrier=None):
    cls, kwargs = WORKERS[worker]
    params, grads = _model(worker, n)
    opt = getattr(fo, cls)(params, **kwargs)
    if barrier is not None:
        barrier.wait()
    for t in range(steps):
        opt.step(grads[t % len(grads)])
    return params, opt.state_dict()


def _run_threads(target, n_threads):
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _assert_identical(a_params, a_state, b_params, b_state):
    for k in a_params:
        assert a_params[k].tobytes() == b_params[k].tobytes(), k
    assert a_state["param_groups"] == b_state["param_groups"]
    for i, d in a_state["state"].items():
        for name, v in d.items():
            if isinstance(v, np.ndarray):
                assert v.tobytes() == b_state["state"][i][name].tobytes(), (i, name)
            else:
                assert v == b_state["state"][i][name], (i, name)


@pytest.mark.parametrize("threads", [1, 2], ids=["pool-1", "pool-2"])
@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["below-threshold", "above-threshold"])
def test_distinct_optimizers_concurrently_equal_serial(n, threads):
    _core.set_num_threads(threads)
    _core.set_parallel_threshold(THRESHOLD)
    steps = 200
    serial = [_run(w, n, steps) for w in range(len(WORKERS))]

    results: list = [None] * len(WORKERS)
    barrier = threading.Barrier(len(WORKERS))

    def work(i):
        results[i] = _run(i, n, steps, barrier)

    _run_threads(work, len(WORKERS))
    for (p, s), (q, r) in zip(results, serial):
        _assert_identical(p, s, q, r)


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["below-threshold", "above-threshold"])
def test_one_sgd_from_two_threads_applies_every_step(n):
    """With lr=1 and a grad of ones every step subtracts exactly 1: a lost or torn update shows."""
    _core.set_num_threads(2)
    _core.set_parallel_threshold(THRESHOLD)
    per_thread, n_threads = 400, 2
    params = {"a": np.zeros(n, np.float32), "b": np.zeros(n // 2 + 3)}
    grads = {k: np.ones_like(v) for k, v in params.items()}
    opt = fo.SGD(params, lr=1.0)
    barrier = threading.Barrier(n_threads)

    def work(i):
        barrier.wait()
        for _ in range(per_thread):
            opt.step(grads)

    _run_threads(work, n_threads)
    total = per_thread * n_threads
    for k, v in params.items():
        assert (v == -total).all(), (k, np.unique(v))
    assert all(d["step"] == total for d in opt.state.values())


@pytest.mark.parametrize("cls,kwargs", [("Adam", dict(lr=1e-2, amsgrad=True)),
                                        ("RMSProp", dict(lr=1e-2, momentum=0.5, centered=True))])
@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["below-threshold", "above-threshold"])
def test_one_stateful_optimizer_from_two_threads_equals_serial(n, cls, kwargs):
    """Equal grads make the order of the calls irrelevant: the result is N serial steps."""
    _core.set_num_threads(2)
    _core.set_parallel_threshold(THRESHOLD)
    per_thread, n_threads = 150, 2
    rng = np.random.default_rng(3)
    init = {"a": rng.standard_normal(n).astype(np.float32), "b": rng.standard_normal(n // 2 + 3)}
    grads = {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in init.items()}

    serial = {k: v.copy() for k, v in init.items()}
    serial_opt = getattr(fo, cls)(serial, **kwargs)
    for _ in range(per_thread * n_threads):
        serial_opt.step(grads)

    shared = {k: v.copy() for k, v in init.items()}
    opt = getattr(fo, cls)(shared, **kwargs)
    barrier = threading.Barrier(n_threads)

    def work(i):
        barrier.wait()
        for _ in range(per_thread):
            opt.step(grads)

    _run_threads(work, n_threads)
    assert all(d["step"] == per_thread * n_threads for d in opt.state.values())
    _assert_identical(shared, opt.state_dict(), serial, serial_opt.state_dict())


def test_functional_calls_from_threads_equal_serial():
    """The functional layer builds a plan per call; concurrent calls must not interfere."""
    _core.set_num_threads(2)
    _core.set_parallel_threshold(THRESHOLD)
    steps, n_threads = 100, 4
    rng = np.random.default_rng(5)
    inits = [rng.standard_normal(LARGE) for _ in range(n_threads)]
    grads = [rng.standard_normal(LARGE) for _ in range(n_threads)]

    def run(i, barrier=None):
        p, m, v = inits[i].copy(), np.zeros(LARGE), np.zeros(LARGE)
        if barrier is not None:
            barrier.wait()
        for t in range(1, steps + 1):
            fo.functional.adam_([p], [grads[i]], [m], [v], step=t, lr=1e-2)
        return p, m, v

    serial = [run(i) for i in range(n_threads)]
    out: list = [None] * n_threads
    barrier = threading.Barrier(n_threads)

    def work(i):
        out[i] = run(i, barrier)

    _run_threads(work, n_threads)
    for got, want in zip(out, serial):
        for a, b in zip(got, want):
            assert a.tobytes() == b.tobytes()


# How a threaded step shares its work (cpp/fastoptim/optim.cpp, for_each_piece):
# each thread takes its own share in chunks, then what is left of the others';
# a worker that wakes after the caller has taken every chunk skips the step.
# Whatever subset of threads ends up doing the work, the result is the same.


def _share_delta(before):
    after = _core._share_stats()
    return {k: after[k] - before[k] for k in after}


def _big_model(seed, n=300_000):
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal(n).astype(np.float32), "v": rng.standard_normal(n // 3),
              "tiny": rng.standard_normal(7).astype(np.float32)}
    grads = [{k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in params.items()}
             for _ in range(4)]
    return params, grads


def _steps(params, grads, steps):
    opt = fo.Adam(params, lr=1e-2, amsgrad=True)
    for t in range(steps):
        opt.step(grads[t % len(grads)])
    return opt


def test_pool_worker_takes_part_and_results_equal_one_thread():
    steps = 30
    _core.set_num_threads(1)
    p1, grads = _big_model(11)
    o1 = _steps(p1, grads, steps)

    _core.set_num_threads(2)
    _core.set_parallel_threshold(THRESHOLD)
    p2, _ = _big_model(11)
    before = _core._share_stats()
    o2 = _steps(p2, grads, steps)
    d = _share_delta(before)
    assert d["regions"] == steps
    # ~50 chunks per step: over 30 steps the worker must have taken some.
    assert d["worker_chunks"] > 0, d
    _assert_identical(p2, o2.state_dict(), p1, o1.state_dict())


def test_step_while_pool_is_busy_runs_every_share_on_the_caller():
    """A step that finds the pool taken runs alone and must take every share itself."""
    _core.set_parallel_threshold(THRESHOLD)
    steps = 20
    _core.set_num_threads(1)
    ps, grads = _big_model(12)
    serial = _steps(ps, grads, steps)
    _core.set_num_threads(2)

    # A long step keeps the pool busy while the other thread steps.
    hog = np.zeros(20_000_000, np.float32)
    hog_opt = fo.Adam([hog], lr=1e-3)
    hog_grads = [np.ones_like(hog)]
    stop = threading.Event()

    def keep_pool_busy():
        while not stop.is_set():
            hog_opt.step(hog_grads)

    busy = threading.Thread(target=keep_pool_busy)
    busy.start()
    try:
        params, _ = _big_model(12)
        before = _core._share_stats()
        opt = _steps(params, grads, steps)
        d = _share_delta(before)
    finally:
        stop.set()
        busy.join()
    # The caller of a region that got no worker walks both shares itself.
    assert d["taken_from_others"] > 0, d
    _assert_identical(params, opt.state_dict(), ps, serial.state_dict())
