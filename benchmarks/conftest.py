"""pytest-benchmark setup for benchmarks/ (not part of the test suite: testpaths is tests/).

Run:  PYTHONPATH=python python -m pytest benchmarks/bench_optim.py --benchmark-only
Quick (no 10M/50M arrays):  add  -m "not big"
"""

from __future__ import annotations

import pytest

from fastoptim import _core

from _workloads import fix_malloc_thresholds


def pytest_configure(config):
    config.addinivalue_line("markers", "big: 10M+ element arrays (deselect with -m 'not big')")
    # The NumPy reference's temporaries reused, not page-faulted per call
    # (see fix_malloc_thresholds).
    fix_malloc_thresholds()


@pytest.fixture(autouse=True)
def _restore_core_settings():
    """Thread count, ISA and parallel threshold are restored after every benchmark."""
    isa = _core.active_isa()
    threads = _core.get_num_threads()
    threshold = _core.get_parallel_threshold()
    yield
    _core.set_isa(isa)
    _core.set_num_threads(threads)
    _core.set_parallel_threshold(threshold)
