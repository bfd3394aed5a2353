"""Functional form of every update rule: lists of arrays in, updated in place.

The optimizer classes own state and hyperparameter groups; these functions
take the state buffers explicitly, like ``torch.optim``'s functional API.
Each call validates all arrays, then runs the same fused C++ kernels in a
single call for all tensors. ``step`` is the 1-based number of the step
being taken (for bias corrections, lr decay and Momentum's first step).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from . import _core
from .optim.optimizer import _MAX_STEP
from .optim._rules import (ADAGRAD_SPEC, ADAM_SPEC, ADAMW_SPEC, MOMENTUM_SPEC, RMSPROP_SPEC,
                           SGD_SPEC, RuleSpec)

__all__ = ["sgd_", "momentum_", "adagrad_", "rmsprop_", "adam_", "adamw_"]

Arrays = Sequence[np.ndarray]


def _as_list(name: str, seq, n: Optional[int]) -> list:
    if isinstance(seq, np.ndarray) or not isinstance(seq, (list, tuple)):
        raise TypeError(f"{name} must be a list of arrays, got {type(seq).__name__}")
    if n is not None and len(seq) != n:
        raise ValueError(f"{name} has {len(seq)} entries, params has {n}")
    return list(seq)


def _step_number(step) -> int:
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be an int, got {type(step).__name__}")
    if not 1 <= step <= _MAX_STEP:
        raise ValueError(f"step must be in [1, 2**62] (the number of the step being taken), "
                         f"got {step}")
    return int(step)


def _run(spec: RuleSpec, hyper: dict, params, grads, states: dict, step: int) -> None:
    h = spec.check(hyper, "")
    params = _as_list("params", params, None)
    if not params:
        raise ValueError("params is empty")
    n = len(params)
    grads = _as_list("grads", grads, n)
    needed = spec.needed(h)
    columns = []
    for k, slot in enumerate(spec.slots):
        arg = states.get(slot)
        if arg is None:
            if needed[k]:
                raise ValueError(f"{slot} buffers are required with these hyperparameters")
            columns.append([None] * n)
        else:
            columns.append(_as_list(slot + "s", arg, n))
    per_tensor = [[col[i] for col in columns] for i in range(n)]
    # Errors name a buffer by the argument it came in (exp_avgs[1]).
    plan = _core.Plan(spec.name, params, per_tensor, [0] * n,
                      np.full(n, step - 1, dtype=np.int64), [str(i) for i in range(n)],
                      [slot + "s" for slot in spec.slots])
    plan.step(grads, [spec.pack(h)])


def sgd_(params: Arrays, grads: Arrays, *, lr: float = 0.01, weight_decay: float = 0.0,
         maximize: bool = False) -> None:
    """SGD step in place (see :class:`fastoptim.SGD`)."""
    _run(SGD_SPEC, dict(lr=lr, weight_decay=weight_decay, maximize=maximize), params, grads, {}, 1)


def momentum_(params: Arrays, grads: Arrays, momentum_buffers: Arrays, *, step: int,
              lr: float = 0.01, momentum: float = 0.9, dampening: float = 0.0,
              nesterov: bool = False, weight_decay: float = 0.0, maximize: bool = False) -> None:
    """Momentum step in place (see :class:`fastoptim.Momentum`); step 1 sets the buffers to the grads."""
    _run(MOMENTUM_SPEC, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                             weight_decay=weight_decay, maximize=maximize),
         params, grads, {"momentum_buffer": momentum_buffers}, _step_number(step))


def adagrad_(params: Arrays, grads: Arrays, sums: Arrays, *, step: int, lr: float = 0.01,
             lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10,
             maximize: bool = False) -> None:
    """AdaGrad step in place (see :class:`fastoptim.AdaGrad`)."""
    _run(ADAGRAD_SPEC, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                            initial_accumulator_value=0.0, maximize=maximize),
         params, grads, {"sum": sums}, _step_number(step))


def rmsprop_(params: Arrays, grads: Arrays, square_avgs: Arrays,
             momentum_buffers: Optional[Arrays] = None, grad_avgs: Optional[Arrays] = None, *,
             lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
             weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
             maximize: bool = False) -> None:
    """RMSProp step in place (see :class:`fastoptim.RMSProp`)."""
    _run(RMSPROP_SPEC, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                            momentum=momentum, centered=centered, maximize=maximize),
         params, grads, {"square_avg": square_avgs, "momentum_buffer": momentum_buffers,
                         "grad_avg": grad_avgs}, 1)


def adam_(params: Arrays, grads: Arrays, exp_avgs: Arrays, exp_avg_sqs: Arrays,
          max_exp_avg_sqs: Optional[Arrays] = None, *, step: int, lr: float = 1e-3,
          betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
          amsgrad: bool = False, maximize: bool = False) -> None:
    """Adam step in place (see :class:`fastoptim.Adam`)."""
    _run(ADAM_SPEC, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize),
         params, grads, {"exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs,
                         "max_exp_avg_sq": max_exp_avg_sqs}, _step_number(step))


def adamw_(params: Arrays, grads: Arrays, exp_avgs: Arrays, exp_avg_sqs: Arrays,
           max_exp_avg_sqs: Optional[Arrays] = None, *, step: int, lr: float = 1e-3,
           betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
           amsgrad: bool = False, maximize: bool = False) -> None:
    """AdamW step in place (see :class:`fastoptim.AdamW`)."""
    _run(ADAMW_SPEC, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                          amsgrad=amsgrad, maximize=maximize),
         params, grads, {"exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs,
                         "max_exp_avg_sq": max_exp_avg_sqs}, _step_number(step))
