"""Compiled kernels vs the NumPy reference, bit for bit.

Every rule x option variant x dtype x execution mode (each ISA level on one
thread, and the threaded split) runs 20 steps on one optimizer holding a
tensor of every size that matters to a vector loop (0, 1, lanes-1, lanes,
lanes+1 for 8 and 16 lanes, 1000, a large odd count, and a 0-d array).
Every param and grad is a view that starts one element into a larger buffer
(so it is misaligned for the vector loads), with guard values before and
after it that must survive. After every step the params, every state buffer
and every step count are compared with the reference.

Tolerance: none. Every kernel operation is +, -, *, /, sqrt or max in the
parameter's dtype, each correctly rounded, with no contraction into FMA
(-ffp-contract=off) and per-step scalars rounded from double once; the
reference does the same operations in the same order. So float32 and
float64 results must be identical to the last bit (measured: 0 ulp on every
rule, option, dtype, ISA and thread setting), and any difference is a bug.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import fastoptim as fo
from _refopt import CASES, RefOptimizer, assert_matches, assert_same_bits, case_id

STEPS = 20
SIZES = [0, 1, 15, 16, 17, 31, 33, 1000, 100003]
SHAPES = [(n,) for n in SIZES] + [()]
SHAPES[SIZES.index(1000)] = (8, 125)  # a 2-D tensor: the kernels see it flat
BEFORE, AFTER = 1, 3  # guard elements around every view: it starts one element in

class GuardedTensors:
    """Arrays that start one element into a buffer, with guard values around them."""

    def __init__(self, shapes, dtype, fill):
        self.bufs, self.views = [], []
        for shape in shapes:
            n = int(np.prod(shape))
            buf = np.empty(BEFORE + n + AFTER, dtype)
            buf[:BEFORE] = -7.25
            buf[BEFORE + n:] = [np.nan, np.inf, -3.5]
            view = buf[BEFORE:BEFORE + n].reshape(shape)
            assert view.flags.c_contiguous and not view.flags.owndata
            view[...] = fill(shape)
            self.bufs.append(buf)
            self.views.append(view)
        self._guards = [self._guard_bits(b) for b in self.bufs]

    @staticmethod
    def _guard_bits(buf):
        return np.concatenate([buf[:BEFORE], buf[-AFTER:]])

    def check_guards(self, what):
        for i, (buf, want) in enumerate(zip(self.bufs, self._guards)):
            assert_same_bits(self._guard_bits(buf), want, f"guard values around {what} {i}")


def _grad_scales(rng, n):
    # Realistic, tensor-dependent gradient magnitudes across four decades.
    return 10.0 ** rng.uniform(-4, 0, n)


def _draw_grads(rng, shapes, scales, dtype):
    out = []
    for shape, s in zip(shapes, scales):
        g = rng.standard_normal(shape) * s
        if g.ndim:
            g.reshape(-1)[::7] = 0.0  # exact zeros: AdaGrad/RMSProp/Adam denominators at eps
        out.append(g.astype(dtype))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_reference(case, dtype, mode):
    name, kw = case
    rng = np.random.default_rng(zlib.crc32(case_id(case).encode()))
    pscales = 10.0 ** rng.uniform(-2, 0.5, len(SHAPES))
    params = GuardedTensors(
        SHAPES, dtype, lambda shape, it=iter(pscales): rng.standard_normal(shape) * next(it))
    ref = RefOptimizer(name, [{"params": [p.copy() for p in params.views], **kw}])
    opt = getattr(fo, name)(params.views, **kw)
    scales = _grad_scales(rng, len(SHAPES))
    for t in range(1, STEPS + 1):
        grads = GuardedTensors(SHAPES, dtype, lambda shape: 0.0)
        for g, v in zip(grads.views, _draw_grads(rng, SHAPES, scales, dtype)):
            g[...] = v
        before = [g.copy() for g in grads.views]
        opt.step(grads.views)
        ref.step(before)
        assert_matches(opt, ref, f"step {t}: ")
        for i, (g, b) in enumerate(zip(grads.views, before)):
            assert_same_bits(g, b, f"step {t}: grad {i} (must not be written)")
        grads.check_guards("grad")
    params.check_guards("param")
    # The optimizer updated the caller's arrays themselves.
    for p, v in zip(opt.param_groups[0]["params"], params.views):
        assert p is v


# The kernels run a short head until the param reaches a 64-byte boundary,
# then the vector loop (cpp/fastoptim/kernels/isa_common.hpp, align_head).
# Every start offset within a cache line, for param and grad independently,
# with lengths around the head and the vector width, must still equal the
# reference bit for bit and leave the neighbours alone.
LINE = 64


def _at_offset(n, dtype, offset_bytes, fill):
    """A length-n view whose first element sits `offset_bytes` into a cache line."""
    itemsize = np.dtype(dtype).itemsize
    buf = np.full(n + 3 * LINE // itemsize, -7.25, dtype)
    start = ((offset_bytes - buf.ctypes.data) % LINE) // itemsize
    view = buf[start:start + n]
    assert n == 0 or view.ctypes.data % LINE == offset_bytes
    view[...] = fill
    return buf, view


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name, kw", [("Adam", {"amsgrad": True, "weight_decay": 0.1}),
                                      ("Momentum", {"momentum": 0.9, "nesterov": True}),
                                      ("RMSProp", {"centered": True, "momentum": 0.5}),
                                      ("AdaGrad", {})], ids=["adam", "momentum", "rmsprop",
                                                             "adagrad"])
def test_every_alignment(name, kw, dtype, mode):
    itemsize = np.dtype(dtype).itemsize
    rng = np.random.default_rng(7)
    offsets = range(0, LINE, itemsize)
    sizes = [1, 5, 15, 16, 17, 40, 333]
    for n in sizes:
        pbufs, params, gbufs, grads = [], [], [], []
        for k, off in enumerate(offsets):
            pb, p = _at_offset(n, dtype, off, rng.standard_normal(n))
            gb, g = _at_offset(n, dtype, (off + 3 * itemsize * (k % 3)) % LINE,
                               rng.standard_normal(n) * 0.1)
            pbufs.append(pb), params.append(p), gbufs.append(gb), grads.append(g)
        guards = [b.copy() for b in pbufs + gbufs]
        ref = RefOptimizer(name, [{"params": [p.copy() for p in params], **kw}])
        opt = getattr(fo, name)(params, **kw)
        for t in range(3):
            opt.step(grads)
            ref.step([g.copy() for g in grads])
            assert_matches(opt, ref, f"n={n} step {t + 1}: ")
        for b, before, v in zip(pbufs + gbufs, guards, params + grads):
            outside = np.ones(b.shape, bool)
            start = (v.ctypes.data - b.ctypes.data) // itemsize
            outside[start:start + n] = False
            assert_same_bits(b[outside], before[outside], f"n={n}: neighbours of a view")


def test_state_buffers_share_the_param_offset_in_a_cache_line():
    # So the head that aligns the param aligns every state buffer too.
    for dtype in (np.float32, np.float64):
        itemsize = np.dtype(dtype).itemsize
        params = [_at_offset(n, dtype, off, 1.0)[1]
                  for off in range(0, LINE, itemsize) for n in (0, 1, 100, 5000)]
        params.append(np.ones((3, 4), dtype))
        params.append(np.array(2.0, dtype))
        opt = fo.Adam(params, amsgrad=True)
        opt.step([np.ones_like(p) for p in params])
        for i, p in enumerate(params):
            st = opt.state[i]
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                buf = st[key]
                assert buf.shape == p.shape and buf.dtype == p.dtype
                assert buf.flags.c_contiguous and buf.flags.writeable and buf.flags.aligned
                if p.size:  # an empty array's address means nothing
                    assert buf.ctypes.data % LINE == p.ctypes.data % LINE, (i, key)
        # Buffers created by load_state_dict keep the rule as well.
        fresh = fo.Adam(params, amsgrad=True)
        fresh.load_state_dict(opt.state_dict())
        for i, p in enumerate(params):
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                if p.size:
                    assert fresh.state[i][key].ctypes.data % LINE == p.ctypes.data % LINE, (i, key)
