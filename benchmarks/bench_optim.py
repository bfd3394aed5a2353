"""Microbenchmarks: every optimizer x size x threads, fastoptim vs the NumPy reference.

Not collected by the test suite (pyproject's testpaths is tests/). Run with

    PYTHONPATH=python python -m pytest benchmarks/bench_optim.py --benchmark-only
    PYTHONPATH=python python -m pytest benchmarks/bench_optim.py --benchmark-only -m "not big"

Each benchmark first checks one fastoptim step against the NumPy reference
(parameter and state, bit for bit) so a wrong kernel fails loudly instead of
being timed. ``extra_info["ns_per_element"]`` holds the mean per element.
The side-by-side report with ratios, torch and roofline probes is
benchmarks/compare.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastoptim as fo
from _workloads import RULES, RefStepper, check_all_rules, make_arrays, small_model

SIZES = [1_000, 100_000, 1_000_000, 10_000_000, 50_000_000]
BIG = 10_000_000
THREADS = [1, 2]


def _size_params(sizes):
    return [pytest.param(n, id=_label(n), marks=[pytest.mark.big] if n >= BIG else [])
            for n in sizes]


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}K"


def _record(benchmark, n_elements: int) -> None:
    stats = benchmark.stats
    if stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["ns_per_element"] = stats.stats.mean * 1e9 / n_elements


@pytest.fixture(scope="module", autouse=True)
def _correct_first():
    # A broken kernel must not produce a timing: check every rule and dtype once.
    check_all_rules()


@pytest.mark.parametrize("threads", THREADS, ids=lambda t: f"{t}t")
@pytest.mark.parametrize("n", _size_params(SIZES))
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_fastoptim(benchmark, rule, n, threads):
    fo.set_num_threads(threads)
    p, g = make_arrays(n, np.float32)
    opt = rule.fo_cls([p], **rule.fo_kwargs)
    grads = [g]
    benchmark.group = f"{rule.name}-{_label(n)}"
    benchmark(opt.step, grads)
    _record(benchmark, n)


@pytest.mark.parametrize("n", _size_params([1_000_000]))
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_fastoptim_float64(benchmark, rule, n):
    fo.set_num_threads(1)
    p, g = make_arrays(n, np.float64)
    opt = rule.fo_cls([p], **rule.fo_kwargs)
    grads = [g]
    benchmark.group = f"{rule.name}-{_label(n)}-float64"
    benchmark(opt.step, grads)
    _record(benchmark, n)


# NumPy is single-threaded for these elementwise operations: one thread only.
@pytest.mark.parametrize("n", _size_params(SIZES))
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_numpy_reference(benchmark, rule, n):
    p, g = make_arrays(n, np.float32)
    ref = RefStepper(rule, [p])
    grads = [g]
    benchmark.group = f"{rule.name}-{_label(n)}"
    if n >= BIG:  # ~1 s per step at 50M: a few rounds are enough
        benchmark.pedantic(ref.step, args=(grads,), rounds=3, iterations=1, warmup_rounds=1)
    else:
        benchmark(ref.step, grads)
    _record(benchmark, n)


# The small model: 100 tensors of 1,000 float32, a whole opt.step, Python included.
@pytest.mark.parametrize("threads", THREADS, ids=lambda t: f"{t}t")
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_small_model_fastoptim(benchmark, rule, threads):
    fo.set_num_threads(threads)
    params, grads = small_model()
    opt = rule.fo_cls(params, **rule.fo_kwargs)
    benchmark.group = f"{rule.name}-100x1K"
    benchmark(opt.step, grads)
    _record(benchmark, 100_000)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_small_model_numpy_reference(benchmark, rule):
    params, grads = small_model()
    ref = RefStepper(rule, params)
    benchmark.group = f"{rule.name}-100x1K"
    benchmark(ref.step, grads)
    _record(benchmark, 100_000)
