"""Cross-check against torch.optim (skipped when torch is not installed).

Every rule and option variant runs 20 steps side by side with the
corresponding torch optimizer (single-tensor path, ``foreach=False``), with
a constant lr and with lr decayed before every step, comparing the params,
every state buffer and the step count.

Tolerance. torch's vectorized CPU kernels (AVX2, AVX-512) contract
multiply-adds into FMAs (``add(x, alpha=a)``, ``lerp``, ``addcmul``), and on
this build its tensor ``sqrt`` is not correctly rounded (it differs from
NumPy's in ~18% of float32 values), so results agree to rounding, not bit
for bit. Element-wise, we require

    |ours - torch| <= K * eps(T) * (|torch| + max|torch over the tensor|)

i.e. K units of roundoff at the element's own magnitude, or at the
tensor's scale for elements near zero (running averages of zero-mean
gradients cancel, and their rounding error is set by the terms that
cancelled, not by the small result). Measured maximum of that ratio over
these cases run with 6 different seeds (torch 2.13 CPU, AVX-512 machine):
8.1 for float32 RMSProp params, 8.1 for float64 AdamW exp_avg (on the 0-d
tensor, which has no larger neighbours to set a scale), 6.4 for float64
Momentum buffers and 4.3 for Momentum params (momentum=0.99 amplifies
per-step roundoff ~1/(1-0.99)), 3.5 or less for everything else (1.7 or
less for SGD, AdaGrad and the second moments). K = 32 leaves a factor of 4
over the worst seen. In float64 that is 7e-15 of the tensor's scale, far
inside 1e-10; in float32, 3.8e-6.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import fastoptim as fo
from _refopt import CASES, case_id

torch = pytest.importorskip("torch")
from _torch_bits import side_by_side  # noqa: E402 (needs torch)

K = 32
STEPS = 20
SHAPES = [(64, 33), (17,), (1000,), (), (0,)]

TORCH = {
    "SGD": lambda p, kw: torch.optim.SGD(p, **{"lr": 0.01, **kw}, foreach=False),
    "Momentum": lambda p, kw: torch.optim.SGD(p, **{"lr": 0.01, "momentum": 0.9, **kw},
                                              foreach=False),
    "AdaGrad": lambda p, kw: torch.optim.Adagrad(p, **{"lr": 0.01, **kw}, foreach=False),
    "RMSProp": lambda p, kw: torch.optim.RMSprop(p, **{"lr": 0.01, **kw}, foreach=False),
    "Adam": lambda p, kw: torch.optim.Adam(p, **kw, foreach=False),
    "AdamW": lambda p, kw: torch.optim.AdamW(p, **kw, foreach=False),
}


def _assert_close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, what
    if ours.size == 0:
        return
    eps = np.finfo(ours.dtype).eps
    o, t = ours.astype(np.float64), theirs.astype(np.float64)
    bound = K * eps * (np.abs(t) + np.max(np.abs(t)))
    ratio = np.abs(o - t) / np.where(bound > 0, bound / K, 1.0)
    assert np.all(np.abs(o - t) <= bound), (
        f"{what}: max error {np.max(ratio):.2f} roundoff units (tolerance {K}) at flat index "
        f"{int(np.argmax(ratio))}: {o.reshape(-1)[np.argmax(ratio)]!r} vs "
        f"{t.reshape(-1)[np.argmax(ratio)]!r}")


@pytest.mark.parametrize("schedule", ["const-lr", "decaying-lr"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(case, dtype, schedule):
    name, kw = case
    rng = np.random.default_rng(zlib.crc32(case_id(case).encode()) + 1)
    params, opt, tparams, topt = side_by_side(name, kw, TORCH[name], dtype, SHAPES, STEPS, rng,
                                              decay_lr=schedule == "decaying-lr")

    state = opt.state_dict()["state"]
    for i, (p, tp) in enumerate(zip(params, tparams)):
        _assert_close(p, tp, f"param {i}")
        tstate = topt.state[tp]
        if "step" in tstate:
            assert state[i]["step"] == int(tstate["step"]) == STEPS
        ours = {k for k in state[i] if k != "step"}
        assert ours == {k for k in tstate if k != "step"}, f"state {i} slot names"
        for k in ours:
            _assert_close(state[i][k], tstate[k], f"state[{i}][{k!r}]")


@pytest.mark.parametrize("name", list(TORCH))
def test_add_param_group_matches_torch(name):
    # torch.optim's add_param_group: the new group takes the defaults it does
    # not set and starts from step 0, while the first group goes on.
    rng = np.random.default_rng(11)
    first = [np.asarray(rng.standard_normal((64, 33)) * 0.5, np.float32)]
    added = [np.asarray(rng.standard_normal(s) * 0.5, np.float32) for s in [(1000,), ()]]
    extra = {"SGD": {"weight_decay": 0.1}, "Momentum": {"nesterov": True},
             "AdaGrad": {"lr_decay": 0.01}, "RMSProp": {"centered": True},
             "Adam": {"amsgrad": True}, "AdamW": {"weight_decay": 0.5}}[name]
    tfirst = [torch.tensor(p.copy(), requires_grad=True) for p in first]
    tadded = [torch.tensor(p.copy(), requires_grad=True) for p in added]
    opt = getattr(fo, name)(first)
    topt = TORCH[name](tfirst, {})
    for t in range(10):
        if t == 4:
            opt.add_param_group({"params": added, "lr": 0.05, **extra})
            topt.add_param_group({"params": tadded, "lr": 0.05, **extra})
        live = first + (added if t >= 4 else [])
        tlive = tfirst + (tadded if t >= 4 else [])
        grads = [np.asarray(rng.standard_normal(p.shape) * 0.1, np.float32) for p in live]
        opt.step(grads)
        for tp, g in zip(tlive, grads):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    for i, (p, tp) in enumerate(zip(first + added, tfirst + tadded)):
        _assert_close(p, tp, f"param {i}")
    state = opt.state_dict()["state"]
    for i, tp in enumerate(tfirst + tadded):
        tstate = topt.state[tp]
        for k in tstate:
            if k == "step":
                assert state[i]["step"] == int(tstate["step"]) == (10 if i == 0 else 6)
            else:
                _assert_close(state[i][k], tstate[k], f"state[{i}][{k!r}]")


def test_bit_identical_to_torch_fused_without_its_vector_kernels():
    # With ATEN_CPU_CAPABILITY=default torch runs its scalar kernels, which
    # round every operation as ours do: its fused=True optimizers (SGD,
    # Momentum, Adagrad, Adam, AdamW) must then give our params and state
    # bit for bit, on every ISA level of ours and on 2 threads, with lr
    # changing every step. (In this process torch already chose its vector
    # kernels, hence a fresh one.)
    script = Path(__file__).with_name("_torch_bits.py")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default",
           "PYTHONPATH": os.pathsep.join([str(Path(fo.__file__).parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    n_fused_cases = sum(1 for name, _ in CASES if name != "RMSProp")
    assert result["ran"] == n_fused_cases * 2 * (len(fo.get_config()["supported_isas"]) + 1)
    assert result["failures"] == {}, "\n".join(f"{k}: {v}" for k, v in result["failures"].items())

