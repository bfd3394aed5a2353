"""A NumPy-only optimizer with the classes' bookkeeping, built on fastoptim.reference.

It holds its own copies of the params and state, so a test can run it side
by side with a compiled optimizer and compare every buffer after every step.
"""

from __future__ import annotations

import numpy as np

from fastoptim import reference as R

# The defaults DESIGN.md promises; the compiled classes are built with only
# the options under test, so these also check the classes' defaults.
DEFAULTS = {
    "SGD": dict(lr=0.01, weight_decay=0.0, maximize=False),
    "Momentum": dict(lr=0.01, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0,
                     maximize=False),
    "AdaGrad": dict(lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10, maximize=False),
    "RMSProp": dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False, maximize=False),
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False),
    "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                  maximize=False),
}

SLOTS = {
    "SGD": (),
    "Momentum": ("momentum_buffer",),
    "AdaGrad": ("sum",),
    "RMSProp": ("square_avg", "momentum_buffer", "grad_avg"),
    "Adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "AdamW": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}

# Option variants of every rule, used against the reference and torch.
VARIANTS = {
    "SGD": [
        {},
        {"lr": 0.1, "maximize": True},
        {"weight_decay": 0.05},
        {"lr": 0.05, "weight_decay": 0.3, "maximize": True},
    ],
    "Momentum": [
        {},
        {"nesterov": True},
        {"dampening": 0.3},
        {"momentum": 0.5, "weight_decay": 0.01},
        {"lr": 0.1, "momentum": 0.99, "nesterov": True, "weight_decay": 0.05, "maximize": True},
    ],
    "AdaGrad": [
        {},
        {"lr_decay": 0.05},
        {"initial_accumulator_value": 0.1},
        {"lr": 0.1, "eps": 1e-3},
        {"weight_decay": 0.05, "maximize": True, "lr_decay": 1e-3,
         "initial_accumulator_value": 0.5},
    ],
    "RMSProp": [
        {},
        {"centered": True},
        {"momentum": 0.9},
        {"centered": True, "momentum": 0.5},
        # alpha < 0.5: the centered grad_avg lerp uses torch's from-the-end formula
        {"alpha": 0.3, "centered": True, "eps": 1e-4},
        {"weight_decay": 0.05, "maximize": True},
    ],
    "Adam": [
        {},
        {"amsgrad": True},
        # beta1 < 0.5: the exp_avg lerp uses torch's from-the-end formula
        {"betas": (0.3, 0.9), "lr": 0.01},
        {"weight_decay": 0.05},
        {"maximize": True, "eps": 1e-3, "amsgrad": True, "weight_decay": 0.01},
    ],
    "AdamW": [
        {},
        {"amsgrad": True},
        {"weight_decay": 0.1, "maximize": True, "lr": 0.01, "betas": (0.3, 0.99)},
    ],
}

CASES = [(name, kw) for name, variants in VARIANTS.items() for kw in variants]


def case_id(case):
    name, kw = case
    opts = ",".join(f"{k}={v}" for k, v in kw.items()).replace(" ", "")
    return f"{name}[{opts}]" if opts else name


def needed_slots(name: str, h: dict) -> tuple:
    if name == "RMSProp":
        return ("square_avg",) + (("momentum_buffer",) if h["momentum"] > 0 else ()) + \
            (("grad_avg",) if h["centered"] else ())
    if name in ("Adam", "AdamW"):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if h["amsgrad"] else ())
    return SLOTS[name]


def _initial(name: str, h: dict) -> float:
    return h["initial_accumulator_value"] if name == "AdaGrad" else 0.0


def reference_step(name: str, p, g, st: dict, h: dict) -> None:
    """One reference update of one tensor; ``st`` holds "step" (already incremented) and slots."""
    step = st["step"]
    common = dict(weight_decay=h["weight_decay"], maximize=h["maximize"])
    if name == "SGD":
        R.sgd_(p, g, lr=h["lr"], **common)
    elif name == "Momentum":
        R.momentum_(p, g, st["momentum_buffer"], step=step, lr=h["lr"], momentum=h["momentum"],
                    dampening=h["dampening"], nesterov=h["nesterov"], **common)
    elif name == "AdaGrad":
        R.adagrad_(p, g, st["sum"], step=step, lr=h["lr"], lr_decay=h["lr_decay"], eps=h["eps"],
                   **common)
    elif name == "RMSProp":
        R.rmsprop_(p, g, st["square_avg"], st.get("momentum_buffer"), st.get("grad_avg"),
                   lr=h["lr"], alpha=h["alpha"], eps=h["eps"], momentum=h["momentum"],
                   centered=h["centered"], **common)
    else:
        fn = R.adamw_ if name == "AdamW" else R.adam_
        fn(p, g, st["exp_avg"], st["exp_avg_sq"], st.get("max_exp_avg_sq"), step=step,
           lr=h["lr"], beta1=h["betas"][0], beta2=h["betas"][1], eps=h["eps"],
           amsgrad=h["amsgrad"], **common)


class RefOptimizer:
    """``RefOptimizer("Adam", [{"params": [arrays], **hyper}, ...])``; updates the arrays given."""

    def __init__(self, name: str, groups: list):
        self.name = name
        self.param_groups = []
        self.params = []
        self.group_of = []
        for gi, g in enumerate(groups):
            hyper = {**DEFAULTS[name], **{k: v for k, v in g.items() if k != "params"}}
            arrays = list(g["params"].values()) if isinstance(g["params"], dict) else \
                list(g["params"])
            self.param_groups.append({"params": arrays, **hyper})
            self.params.extend(arrays)
            self.group_of.extend([gi] * len(arrays))
        self.state = {i: {"step": 0} for i in range(len(self.params))}
        for i in self.state:
            self._ensure(i)

    def _ensure(self, i: int) -> None:
        h = self.param_groups[self.group_of[i]]
        for slot in needed_slots(self.name, h):
            if slot not in self.state[i]:
                self.state[i][slot] = np.full_like(self.params[i], _initial(self.name, h))

    def step(self, grads) -> None:
        assert len(self.params) == len(grads)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self._ensure(i)
            st = self.state[i]
            st["step"] += 1
            reference_step(self.name, p, g, st, self.param_groups[self.group_of[i]])


# -- comparisons -------------------------------------------------------------

_UINT = {4: np.uint32, 8: np.uint64}


def ulp_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Largest distance in units in the last place between a and b (same dtype)."""
    if a.size == 0:
        return 0
    it = np.int32 if a.dtype == np.float32 else np.int64

    def ordered(x):
        # Sign-magnitude bits onto a monotonic integer line (-0 and +0 both 0).
        i = np.ascontiguousarray(x).reshape(-1).view(it).astype(np.int64)
        return np.where(i < 0, np.iinfo(it).min - i, i).astype(object)

    return int(np.max(np.abs(ordered(a) - ordered(b))))


def assert_same_bits(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Bit-for-bit equality (NaN payloads and signed zeros included), with a useful report."""
    assert isinstance(actual, np.ndarray), f"{what}: not an array ({type(actual).__name__})"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.itemsize not in _UINT or actual.dtype.kind != "f":
        assert actual.tobytes() == expected.tobytes(), f"{what}: contents differ"
        return
    u = _UINT[actual.dtype.itemsize]
    a_bits = np.ascontiguousarray(actual).view(u)
    e_bits = np.ascontiguousarray(expected).view(u)
    if np.array_equal(a_bits, e_bits):
        return
    bad = np.flatnonzero((a_bits != e_bits).reshape(-1))
    i = int(bad[0])
    mism = actual.reshape(-1)[bad], expected.reshape(-1)[bad]
    raise AssertionError(
        f"{what}: {bad.size} of {actual.size} elements differ; first at flat index {i}: "
        f"{actual.reshape(-1)[i]!r} != {expected.reshape(-1)[i]!r}; "
        f"max {ulp_distance(*mism)} ulp"
    )


def assert_matches(opt, ref: RefOptimizer, where: str = "") -> None:
    """Params, every state buffer and every step count of ``opt`` equal ``ref``'s, bit for bit."""
    params = [p for g in opt.param_groups for p in g["params"]]
    assert len(params) == len(ref.params)
    for i, (p, rp) in enumerate(zip(params, ref.params)):
        assert_same_bits(p, rp, f"{where}param {i}")
    state = opt.state_dict()["state"]
    for i, rst in ref.state.items():
        st = state.get(i, {"step": 0})
        assert st["step"] == rst["step"], f"{where}state[{i}]['step'] {st['step']} != {rst['step']}"
        want = set(rst) - {"step"} if rst["step"] else set()
        have = {k for k in st if k != "step"}
        assert want <= have, f"{where}state[{i}] lacks {sorted(want - have)}"
        assert have <= set(SLOTS[ref.name]), f"{where}state[{i}] has unknown {sorted(have)}"
        for k in want:
            assert_same_bits(st[k], rst[k], f"{where}state[{i}][{k!r}]")
