"""Shared fixtures: ISA level and threading, always restored after a test."""

from __future__ import annotations

import pytest

from fastoptim import _core

ISAS = list(_core.supported_isas())
BEST_ISA = ISAS[-1]

# Kernel-test execution modes: every ISA level on one thread, plus the
# threaded split (2 threads, threshold lowered so every step is split at
# 64-element boundaries across tensors) on the best level and the lowest.
MODES = [(isa, 1) for isa in ISAS] + [(BEST_ISA, 2)]
if ISAS[0] != BEST_ISA:
    MODES.append((ISAS[0], 2))
THREADED_THRESHOLD = 64


@pytest.fixture(autouse=True)
def _restore_core_settings():
    """Whatever a test does to the ISA, thread count or threshold is undone."""
    isa = _core.active_isa()
    threads = _core.get_num_threads()
    threshold = _core.get_parallel_threshold()
    yield
    _core.set_isa(isa)
    _core.set_num_threads(threads)
    _core.set_parallel_threshold(threshold)


@pytest.fixture(params=MODES, ids=[f"{isa}-{n}t" for isa, n in MODES])
def mode(request):
    """Run the test body on one ISA level and thread setting."""
    isa, threads = request.param
    _core.set_isa(isa)
    assert _core.active_isa() == isa
    _core.set_num_threads(threads)
    if threads > 1:
        _core.set_parallel_threshold(THREADED_THRESHOLD)
    return request.param


@pytest.fixture(params=ISAS)
def isa(request):
    _core.set_isa(request.param)
    assert _core.active_isa() == request.param
    return request.param


@pytest.fixture
def threaded():
    """Two threads and a low threshold: every step but the tiniest is split."""
    _core.set_num_threads(2)
    _core.set_parallel_threshold(THREADED_THRESHOLD)
