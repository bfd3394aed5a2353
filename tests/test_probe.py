"""The benchmarks' roofline probes (``_core.probe``) compute the loops they stand for.

A probe is the plainest fused loop over a rule's bytes, with the same
divides and square roots, timed beside the kernels in benchmarks/compare.py.
A probe that did less (or other) work would make every fastoptim/probe
ratio meaningless, so each is checked here bit for bit against its formula
in NumPy, at start offsets that exercise the aligned head, and shared
between threads in chunks.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastoptim import _core


def _expected(kind, p, g, a, b):
    T = p.dtype.type
    lr, mom, b1, b2, eps = T(1e-3), T(0.9), T(0.9), T(0.999), T(1e-8)
    step, bc2 = T(1e-3) / T(0.1), T(0.0316)
    p, a, b = p.copy(), None if a is None else a.copy(), None if b is None else b.copy()
    gi = g * T(1)
    if kind == "sgd":
        p = p - lr * gi
    elif kind == "momentum":
        a = mom * a + gi
        p = p - lr * a
    elif kind == "adagrad":
        a = a + gi * gi
        p = p - lr * gi / (np.sqrt(a) + eps)
    elif kind == "rmsprop":
        a = b2 * a + (T(1) - b2) * gi * gi
        p = p - lr * gi / (np.sqrt(a) + eps)
    elif kind in ("adam", "adamw"):
        if kind == "adamw":
            p = p * (T(1) - T(1e-5))
        a = b1 * a + (T(1) - b1) * gi
        b = b2 * b + (T(1) - b2) * gi * gi
        p = p - step * a / (np.sqrt(b) / bc2 + eps)
    else:
        buffers = int(kind[-1]) - 1
        if buffers >= 1:
            a = a + g
        if buffers >= 2:
            b = b + g
        p = p + g
    return p, a, b


BUFFERS = {"sgd": 0, "momentum": 1, "adagrad": 1, "rmsprop": 1, "adam": 2, "adamw": 2,
           "stream1": 0, "stream2": 1, "stream3": 2}


def _at(rng, n, dtype, offset):
    """n random positive values starting ``offset`` elements into a fresh buffer."""
    base = np.abs(rng.standard_normal(n + offset)).astype(dtype) + dtype(0.1)
    return base[offset:]


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kind", list(BUFFERS))
def test_probe_computes_its_formula(kind, dtype, nthreads, request):
    if nthreads > 1:
        # A probe takes threads as a step does: a low threshold makes it share.
        request.getfixturevalue("threaded")
    rng = np.random.default_rng(len(kind))
    for n, offsets in [(1037, (0, 0, 0, 0)), (1037, (1, 3, 1, 1)), (100_003, (3, 0, 5, 2)),
                       (7, (2, 1, 0, 0))]:
        p, g, a, b = (_at(rng, n, dtype, o) for o in offsets)
        nb = BUFFERS[kind]
        a = a if nb >= 1 else None
        b = b if nb >= 2 else None
        want = _expected(kind, p, g, a, b)
        _core.probe(kind, p, g, a, b, nthreads)
        for got, exp, what in zip((p, a, b), want, "pab"):
            if exp is None:
                continue
            assert np.array_equal(got.view(np.uint8), exp.view(np.uint8)), (kind, n, what)


def test_probe_refuses_bad_arguments_by_name():
    p, g = np.zeros(8), np.zeros(8)
    with pytest.raises(ValueError, match="kind must be"):
        _core.probe("lamb", p, g)
    with pytest.raises(ValueError, match="a must match p"):
        _core.probe("adam", p, g, np.zeros(7), np.zeros(8))
    with pytest.raises(ValueError, match="g must be"):
        _core.probe("sgd", p, np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="nthreads"):
        _core.probe("sgd", p, g, nthreads=0)
