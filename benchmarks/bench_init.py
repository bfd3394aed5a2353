"""Microbenchmarks of the random fills: fastoptim vs NumPy vs torch.

Not collected by the test suite. Run with

    PYTHONPATH=python python -m pytest benchmarks/bench_init.py --benchmark-only
    PYTHONPATH=python python -m pytest benchmarks/bench_init.py --benchmark-only -m "not big"

The fills are first checked against the NumPy reference, bit for bit, so a
broken kernel fails instead of being timed. ``extra_info["ns_per_element"]``
holds the mean per element. The side-by-side table with ratios is
benchmarks/init_report.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastoptim import _core, init
from fastoptim.random import Generator
from init_report import TORCH, check_correct

SIZES = [1_000, 100_000, 1_000_000, 16_777_216]
BIG = 10_000_000
DTYPES = [np.float32, np.float64]


def _size_params(sizes):
    return [pytest.param(n, id=f"{n // 1000}K" if n < 10**6 else f"{n // 10**6}M",
                         marks=[pytest.mark.big] if n >= BIG else []) for n in sizes]


def _record(benchmark, n):
    if benchmark.stats is not None:
        benchmark.extra_info["ns_per_element"] = benchmark.stats.stats.mean * 1e9 / n


@pytest.fixture(scope="module", autouse=True)
def _correct_first():
    check_correct()


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """torch's thread count; conftest.py restores fastoptim's."""
    old_torch = TORCH.get_num_threads() if TORCH is not None else None
    yield
    if TORCH is not None:
        TORCH.set_num_threads(old_torch)


@pytest.mark.parametrize("threads", [1, 2], ids=lambda t: f"{t}t")
@pytest.mark.parametrize("n", _size_params(SIZES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", ["normal", "uniform", "truncated_normal"])
def test_fastoptim(benchmark, dist, dtype, n, threads):
    _core.set_num_threads(threads)
    a = np.zeros(n, dtype)
    benchmark(getattr(Generator(0), dist + "_"), a)
    _record(benchmark, n)


@pytest.mark.parametrize("n", _size_params(SIZES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_numpy(benchmark, dist, dtype, n):
    a = np.zeros(n, dtype)
    rng = np.random.default_rng(0)
    if dist == "normal":
        benchmark(lambda: rng.standard_normal(out=a, dtype=dtype))
    else:
        benchmark(lambda: rng.random(out=a, dtype=dtype))
    _record(benchmark, n)


@pytest.mark.skipif(TORCH is None, reason="torch is not installed (optional comparison)")
@pytest.mark.parametrize("threads", [1, 2], ids=lambda t: f"{t}t")
@pytest.mark.parametrize("n", _size_params(SIZES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_torch(benchmark, dist, dtype, n, threads):
    TORCH.set_num_threads(threads)
    t = TORCH.from_numpy(np.zeros(n, dtype))
    benchmark(t.normal_ if dist == "normal" else t.uniform_)
    _record(benchmark, n)


@pytest.mark.parametrize("shape", [(784, 1000), (256, 128, 3, 3)], ids=["dense", "conv"])
def test_he_normal_allocating(benchmark, shape):
    benchmark(init.he_normal, shape, seed=0)
    _record(benchmark, int(np.prod(shape)))
