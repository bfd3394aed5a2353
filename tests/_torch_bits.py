"""Run as a script by test_torch.py (which also uses side_by_side), in a process started with
ATEN_CPU_CAPABILITY=default: every rule torch fuses on the CPU (SGD with and
without momentum, Adagrad, Adam, AdamW), every option variant of _refopt,
float32 and float64, a decaying lr, on every ISA level of ours and on 2
threads. Prints one JSON line: the cases run and, for each case whose params
or state differ from torch's fused=True in any bit, its first difference.

torch's vectorized CPU kernels (AVX2, AVX-512) contract multiply-adds into
FMAs, which our kernels never do (the same bits on every level, baseline
x86-64 included); with its vector kernels off, torch's fused optimizers must
give our numbers exactly.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

import numpy as np
import torch

import fastoptim as fo
from fastoptim import _core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _refopt import CASES, case_id  # noqa: E402

FUSED = {
    "SGD": lambda p, kw: torch.optim.SGD(p, **{"lr": 0.01, **kw}, fused=True),
    "Momentum": lambda p, kw: torch.optim.SGD(p, **{"lr": 0.01, "momentum": 0.9, **kw},
                                              fused=True),
    "AdaGrad": lambda p, kw: torch.optim.Adagrad(p, **{"lr": 0.01, **kw}, fused=True),
    "Adam": lambda p, kw: torch.optim.Adam(p, **kw, fused=True),
    "AdamW": lambda p, kw: torch.optim.AdamW(p, **kw, fused=True),
}
SHAPES = [(64, 33), (17,), (1000,), ()]
STEPS = 20


def first_difference(ours: np.ndarray, theirs) -> str | None:
    theirs = theirs.detach().numpy()
    if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
        return f"{ours.dtype}{ours.shape} vs {theirs.dtype}{theirs.shape}"
    u = f"u{ours.itemsize}"  # compare bits: NaN payloads and signed zeros too
    bad = np.flatnonzero(ours.reshape(-1).view(u) != theirs.reshape(-1).view(u))
    if bad.size == 0:
        return None
    i = int(bad[0])
    return (f"{bad.size} of {ours.size} differ, first at {i}: "
            f"{ours.reshape(-1)[i]!r} vs {theirs.reshape(-1)[i]!r}")


def side_by_side(name: str, kw: dict, make_torch, dtype, shapes, steps: int, rng,
                 decay_lr: bool):
    """fastoptim's `name` and the torch optimizer `make_torch(tparams, kw)` stepped
    `steps` times on the same random grads (lr times 0.9 before every step but
    the first when decay_lr). Returns (params, opt, tparams, topt)."""
    params = [np.asarray(rng.standard_normal(s) * 0.5, dtype) for s in shapes]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = getattr(fo, name)(params, **kw)
    topt = make_torch(tparams, kw)
    scales = 10.0 ** rng.uniform(-4, 0, len(shapes))
    for t in range(1, steps + 1):
        if decay_lr and t > 1:
            lr = opt.param_groups[0]["lr"] * 0.9
            opt.param_groups[0]["lr"] = lr
            topt.param_groups[0]["lr"] = lr
        grads = [np.asarray(rng.standard_normal(s) * c, dtype) for s, c in zip(shapes, scales)]
        opt.step(grads)
        for tp, g in zip(tparams, grads):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    return params, opt, tparams, topt


def run_case(name: str, kw: dict, dtype, seed: int) -> str | None:
    params, opt, tparams, topt = side_by_side(name, kw, FUSED[name], dtype, SHAPES, STEPS,
                                              np.random.default_rng(seed), decay_lr=True)
    state = opt.state_dict()["state"]
    for i, (p, tp) in enumerate(zip(params, tparams)):
        diff = first_difference(p, tp)
        if diff:
            return f"param {i}: {diff}"
        for k, v in topt.state[tp].items():
            if k == "step":
                continue
            diff = first_difference(state[i][k], v)
            if diff:
                return f"state[{i}][{k!r}]: {diff}"
    return None


def main() -> None:
    assert os.environ.get("ATEN_CPU_CAPABILITY") == "default"
    ran, failures = 0, {}
    modes = [(isa, 1) for isa in _core.supported_isas()] + [(_core.best_isa(), 2)]
    for isa, threads in modes:
        _core.set_isa(isa)
        fo.set_num_threads(threads)
        # Small tensors stay on one thread unless the split threshold is low.
        old = _core.get_parallel_threshold() if threads > 1 else None
        if threads > 1:
            _core.set_parallel_threshold(64)
        for name, kw in CASES:
            if name not in FUSED:
                continue
            for dtype in (np.float32, np.float64):
                key = f"{isa}-{threads}t/{case_id((name, kw))}/{np.dtype(dtype).name}"
                diff = run_case(name, kw, dtype, zlib.crc32(key.split("/", 1)[1].encode()))
                ran += 1
                if diff:
                    failures[key] = diff
        if old is not None:
            _core.set_parallel_threshold(old)
    print(json.dumps({"ran": ran, "failures": failures}))


if __name__ == "__main__":
    main()
