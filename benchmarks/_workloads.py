"""The benchmarked workloads, shared by bench_optim.py and compare.py.

One entry per update rule: how to build the fastoptim optimizer, how to call
the NumPy reference, which torch optimizer is the counterpart, and which
roofline probes move the same bytes. Hyperparameters are the same for every
implementation of a rule.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

import fastoptim as fo
from fastoptim import _core
from fastoptim import reference as ref


@dataclass(frozen=True)
class Rule:
    name: str
    fo_cls: Callable
    fo_kwargs: Dict
    ref_fn: Callable
    ref_kwargs: Dict
    ref_slots: Tuple[str, ...]  # reference state arguments, in order
    uses_step: bool  # the reference takes step=
    torch_cls: str
    torch_kwargs: Dict
    probe: str  # plain fused loop with the rule's bytes, divides and roots
    stream: str  # memory-only loop with the same bytes

    @property
    def buffers(self) -> int:
        """State arrays the probe touches."""
        return len(self.ref_slots)

    @property
    def bytes_per_element_factor(self) -> int:
        """Arrays read + arrays written per element (p, g and the state)."""
        return (2 + self.buffers) + (1 + self.buffers)


RULES: List[Rule] = [
    Rule("sgd", fo.SGD, dict(lr=1e-3), ref.sgd_, dict(lr=1e-3), (), False,
         "SGD", dict(lr=1e-3), "sgd", "stream1"),
    Rule("momentum", fo.Momentum, dict(lr=1e-3, momentum=0.9), ref.momentum_,
         dict(lr=1e-3, momentum=0.9), ("momentum_buffer",), True,
         "SGD", dict(lr=1e-3, momentum=0.9), "momentum", "stream2"),
    Rule("adagrad", fo.AdaGrad, dict(lr=1e-2), ref.adagrad_, dict(lr=1e-2), ("sum",), True,
         "Adagrad", dict(lr=1e-2), "adagrad", "stream2"),
    Rule("rmsprop", fo.RMSProp, dict(lr=1e-3, alpha=0.99, eps=1e-8), ref.rmsprop_,
         dict(lr=1e-3, alpha=0.99, eps=1e-8), ("square_avg",), False,
         "RMSprop", dict(lr=1e-3, alpha=0.99, eps=1e-8), "rmsprop", "stream2"),
    Rule("adam", fo.Adam, dict(lr=1e-3), ref.adam_,
         dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8), ("exp_avg", "exp_avg_sq"), True,
         "Adam", dict(lr=1e-3), "adam", "stream3"),
    Rule("adamw", fo.AdamW, dict(lr=1e-3, weight_decay=1e-2), ref.adamw_,
         dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2),
         ("exp_avg", "exp_avg_sq"), True,
         "AdamW", dict(lr=1e-3, weight_decay=1e-2), "adamw", "stream3"),
]
RULES_BY_NAME = {r.name: r for r in RULES}


MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 1 << 30


def fix_malloc_thresholds() -> str:
    """Fix glibc's mmap and trim thresholds, so the NumPy reference is timed at its best.

    The reference allocates temporaries of the arrays' size at every step.
    With glibc's defaults such a block is fresh pages, a page fault per page,
    in one of two ways: served from a new mmap (the threshold glibc raises
    after each free is the freed block's size, which the next block of that
    size does not undercut), or from the heap, which glibc trims back to the
    OS when the block is freed (its trim threshold follows the mmap
    threshold at twice it) and grows again for the next step. Which way, and
    whether at all, depends on what the process freed before: the same
    reference step at 1M took 2.3 or 5.5 ms (float32 Adam; 6.5 or 8.8 ms in
    float64), and float32 SGD 0.27 or 3.3 ms (about 1,900 faults per step in
    a fresh process). With both thresholds fixed, blocks under 32 MiB come
    from the heap and stay there: no faults after the first step. fastoptim
    allocates nothing per step; torch's unfused paths gain like NumPy.
    Returns what was done, for the report's header.
    """
    if not sys.platform.startswith("linux"):
        return "unchanged (not Linux)"
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return "unchanged (no mallopt: not glibc)"
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>; mallopt returns 1 on success
    mmap_ok = mallopt(m_mmap_threshold, MMAP_THRESHOLD) == 1
    trim_ok = mallopt(m_trim_threshold, TRIM_THRESHOLD) == 1
    if not (mmap_ok and trim_ok):
        return ("unchanged (mallopt refused)" if not (mmap_ok or trim_ok) else
                f"partly fixed (mmap threshold {'set' if mmap_ok else 'refused'}, trim "
                f"threshold {'set' if trim_ok else 'refused'})")
    return (f"glibc mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold "
            f"{TRIM_THRESHOLD >> 30} GiB (fixed)")


def make_arrays(n: int, dtype, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A parameter and a gradient of ``n`` elements (gradient ~ N(0, 1))."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n, dtype=np.float32).astype(dtype, copy=False)
    g = rng.standard_normal(n, dtype=np.float32).astype(dtype, copy=False)
    return p, g


class RefStepper:
    """The NumPy reference over a list of tensors, holding its own state and step."""

    def __init__(self, rule: Rule, params: List[np.ndarray]):
        self.rule = rule
        self.params = params
        self.state = [[np.zeros_like(p) for _ in rule.ref_slots] for p in params]
        self.t = 0

    def step(self, grads: List[np.ndarray]) -> None:
        self.t += 1
        kw = dict(self.rule.ref_kwargs)
        if self.rule.uses_step:
            kw["step"] = self.t
        fn = self.rule.ref_fn
        for p, g, s in zip(self.params, grads, self.state):
            fn(p, g, *s, **kw)


def check_against_reference(rule: Rule, n: int = 1037, dtype=np.float32, steps: int = 2) -> None:
    """Raise AssertionError unless fastoptim equals the NumPy reference after ``steps``.

    Compares the parameter and every state buffer bit for bit (the reference
    is written in the kernels' operation order; see fastoptim.reference.optim).
    """
    p0, g = make_arrays(n, dtype, seed=1)
    p_fo, p_ref = p0.copy(), p0.copy()
    opt = rule.fo_cls([p_fo], **rule.fo_kwargs)
    ref_opt = RefStepper(rule, [p_ref])
    for _ in range(steps):
        opt.step([g])
        ref_opt.step([g])
    np.testing.assert_array_equal(
        p_fo, p_ref, err_msg=f"{rule.name} {np.dtype(dtype).name} n={n}: param differs from "
        "the NumPy reference")
    st = opt.state[0]
    for name, buf in zip(rule.ref_slots, ref_opt.state[0]):
        np.testing.assert_array_equal(
            st[name], buf, err_msg=f"{rule.name} {np.dtype(dtype).name} n={n}: state {name!r} "
            "differs from the NumPy reference")


def check_all_rules() -> None:
    """check_against_reference for every rule, in float32 and float64."""
    for rule in RULES:
        for dtype in (np.float32, np.float64):
            check_against_reference(rule, dtype=dtype)


def small_model(n_tensors: int = 100, size: int = 1_000) -> Tuple[List[np.ndarray],
                                                                  List[np.ndarray]]:
    """Fresh params and grads of the small model: ``n_tensors`` float32 arrays of ``size``."""
    params = [make_arrays(size, np.float32, seed=i)[0] for i in range(n_tensors)]
    grads = [make_arrays(size, np.float32, seed=1000 + i)[1] for i in range(n_tensors)]
    return params, grads


def probe_fn(kind: str, p: np.ndarray, g: np.ndarray, a: Optional[np.ndarray],
             b: Optional[np.ndarray], nthreads: int) -> Callable[[], None]:
    probe = _core.probe
    return lambda: probe(kind, p, g, a, b, nthreads)


def import_torch():
    """torch if importable, else None (benchmarks only; never a dependency)."""
    try:
        import torch
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return torch


class TorchStepper:
    """One torch optimizer whose backend (fused / foreach / for-loop) is switched per step.

    torch reads ``fused`` and ``foreach`` from the param group at every step,
    so the three backends share one set of state tensors (less memory than
    three optimizers; the CPU state layout is the same for all three).
    """

    def __init__(self, torch, rule: Rule, params: List[np.ndarray], grads: List[np.ndarray]):
        self.torch = torch
        self.tensors = []
        for p, g in zip(params, grads):
            t = torch.from_numpy(p)
            t.grad = torch.from_numpy(g)
            self.tensors.append(t)
        cls = getattr(torch.optim, rule.torch_cls)
        self.backends = ["foreach", "forloop"]
        try:
            self.opt = cls(self.tensors, fused=True, **rule.torch_kwargs)
            self.backends.insert(0, "fused")
        except (TypeError, RuntimeError, ValueError):
            self.opt = cls(self.tensors, foreach=False, **rule.torch_kwargs)
        self.group = self.opt.param_groups[0]

    def step_fn(self, backend: str) -> Callable[[], None]:
        group, opt = self.group, self.opt
        fused, foreach = {"fused": (True, None), "foreach": (None, True),
                          "forloop": (None, False)}[backend]

        def step():
            group["fused"] = fused
            group["foreach"] = foreach
            opt.step()
        return step
