r"""NumPy reference of every optimizer update rule (the oracle of the tests).

Each function updates ``p`` and its state buffers in place (the caller's
arrays change, as with the compiled kernels) and returns ``p``. The state
arguments have the same names as the C++ state slots and ``state_dict()``.

The rules are those of ``torch.optim``; the arithmetic is written in the
operation order of the C++ kernels (``cpp/fastoptim/kernels/*.hpp``) with
the same roundings, so the results agree bit for bit:

* per-step scalars (bias corrections, the AdaGrad step size, ``1 - beta``)
  are computed in double from Python floats and rounded to the parameter's
  dtype ``T`` once;
* every array operation is one of ``+ - * /``, ``sqrt`` or ``maximum`` in
  ``T``, each correctly rounded, in the order written here (the kernels are
  built with ``-ffp-contract=off``, so no fused multiply-add either);
* where a kernel rearranges a step without changing its result, the form
  here is torch's: the AdaGrad kernel subtracts ``(clr * g') / std`` from
  ``p``, which is ``p + ((-clr) * g') / std`` bit for bit (signed zeros
  included; where both are NaN, which NaN comes out may differ).

Every rule starts from the effective gradient

.. math::

    g' = \operatorname{sign} \cdot g \; (+\ \lambda p \text{ if weight\_decay } \lambda \ne 0),
    \qquad \operatorname{sign} = -1 \text{ if maximize else } 1,

except AdamW, whose weight decay is decoupled (applied to ``p`` first).

This module imports nothing compiled.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["sgd_", "momentum_", "adagrad_", "rmsprop_", "adam_", "adamw_", "lerp"]


def _scalar(dtype, x: float):
    """``x`` (a double) rounded once to ``dtype``, as the kernels' coefficients are."""
    return dtype.type(x)


def _check(p, g, **state):
    if not isinstance(p, np.ndarray) or p.dtype not in (np.float32, np.float64):
        raise TypeError(f"p must be a float32 or float64 numpy.ndarray, got {p!r:.60}")
    for name, a in (("g", g), *state.items()):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
        if a.dtype != p.dtype or a.shape != p.shape:
            raise ValueError(
                f"{name} has dtype {a.dtype} and shape {a.shape}; "
                f"p has dtype {p.dtype} and shape {p.shape}"
            )
    return p.dtype


def _effective_grad(p, g, dtype, *, weight_decay, maximize, l2=True):
    gp = g * _scalar(dtype, -1.0 if maximize else 1.0)
    if l2 and weight_decay != 0:
        gp = gp + _scalar(dtype, weight_decay) * p
    return gp


def lerp(a, b, w):
    r"""``torch.lerp(a, b, w)`` in the dtype of ``a``, with torch's switch of formula.

    .. math::

        \operatorname{lerp}(a, b, w) =
        \begin{cases} a + w (b - a) & |w| < 0.5 \\ b - (b - a)(1 - w) & \text{otherwise}\end{cases}

    ``w`` is rounded to the dtype first and ``1 - w`` is computed in that
    dtype. Returns a new array.
    """
    dtype = np.asarray(a).dtype
    wt = _scalar(dtype, w)
    d = b - a
    if abs(wt) < 0.5:
        return a + wt * d
    w1m = dtype.type(1) - wt
    return b - d * w1m


def sgd_(p, g, *, lr, weight_decay=0.0, maximize=False):
    r"""Plain SGD (``torch.optim.SGD`` with ``momentum=0``), in place.

    .. math::

        p \leftarrow p - \eta\, g'

    evaluated as ``p + (-lr) * g'``.
    """
    dtype = _check(p, g)
    gp = _effective_grad(p, g, dtype, weight_decay=weight_decay, maximize=maximize)
    np.copyto(p, p + _scalar(dtype, -lr) * gp)
    return p


def momentum_(p, g, momentum_buffer, *, step, lr, momentum, dampening=0.0, nesterov=False,
              weight_decay=0.0, maximize=False):
    r"""SGD with momentum (``torch.optim.SGD`` with ``momentum > 0``), in place.

    ``step`` is the number of this step, starting at 1.

    .. math::

        b_1 = g'_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g'_t, \qquad
        d_t = \begin{cases} g'_t + \mu b_t & \text{nesterov} \\ b_t & \text{else}\end{cases},
        \qquad p \leftarrow p - \eta\, d_t

    .. warning::

        The course writes Momentum as ``v = a*v - lr*g; W += v``. That is the
        same as torch's ``b = m*b + g; W -= lr*b`` (used here) only while
        ``lr`` is constant; when a schedule changes ``lr``, only torch's form
        keeps the velocity independent of the step size.
    """
    dtype = _check(p, g, momentum_buffer=momentum_buffer)
    gp = _effective_grad(p, g, dtype, weight_decay=weight_decay, maximize=maximize)
    if step == 1:
        b = gp
    else:
        b = momentum_buffer * _scalar(dtype, momentum) + _scalar(dtype, 1.0 - dampening) * gp
    np.copyto(momentum_buffer, b)
    d = gp + _scalar(dtype, momentum) * b if nesterov else b
    np.copyto(p, p + _scalar(dtype, -lr) * d)
    return p


def adagrad_(p, g, sum, *, step, lr, lr_decay=0.0, eps=1e-10, weight_decay=0.0,  # noqa: A002
             maximize=False):
    r"""AdaGrad (``torch.optim.Adagrad``), in place. ``step`` starts at 1.

    .. math::

        \eta_t = \frac{\eta}{1 + (t - 1)\,\text{lr\_decay}}, \qquad
        s \leftarrow s + g'^2, \qquad
        p \leftarrow p - \frac{\eta_t\, g'}{\sqrt{s} + \epsilon}

    ``eps`` is added to ``sqrt(sum)``, outside the root (torch's placement).
    """
    dtype = _check(p, g, sum=sum)
    gp = _effective_grad(p, g, dtype, weight_decay=weight_decay, maximize=maximize)
    clr = float(lr) / (1.0 + (int(step) - 1) * float(lr_decay))
    s = sum + gp * gp
    np.copyto(sum, s)
    std = np.sqrt(s) + _scalar(dtype, eps)
    np.copyto(p, p + (_scalar(dtype, -clr) * gp) / std)
    return p


def rmsprop_(p, g, square_avg, momentum_buffer=None, grad_avg=None, *, lr, alpha, eps,
             weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    r"""RMSProp (``torch.optim.RMSprop``), in place.

    .. math::

        v \leftarrow \alpha v + (1 - \alpha) g'^2, \qquad
        \bar g \leftarrow \operatorname{lerp}(\bar g, g', 1 - \alpha) \text{ (centered)}

        a = \sqrt{v - \bar g^2} + \epsilon \text{ (centered)}, \quad
        a = \sqrt{v} + \epsilon \text{ (else)}

        b \leftarrow \mu b + g' / a,\ p \leftarrow p - \eta b \text{ (momentum } \mu > 0),
        \qquad p \leftarrow p - \eta g' / a \text{ (else)}

    ``eps`` is added outside the square root, as in torch (some texts put it
    inside). ``momentum_buffer`` is needed when ``momentum > 0`` and
    ``grad_avg`` when ``centered``.
    """
    state = {"square_avg": square_avg}
    if momentum > 0:
        if momentum_buffer is None:
            raise ValueError("momentum_buffer is required when momentum > 0")
        state["momentum_buffer"] = momentum_buffer
    if centered:
        if grad_avg is None:
            raise ValueError("grad_avg is required when centered=True")
        state["grad_avg"] = grad_avg
    dtype = _check(p, g, **state)
    gp = _effective_grad(p, g, dtype, weight_decay=weight_decay, maximize=maximize)
    sq = square_avg * _scalar(dtype, alpha) + (_scalar(dtype, 1.0 - alpha) * gp) * gp
    np.copyto(square_avg, sq)
    if centered:
        ga = lerp(grad_avg, gp, 1.0 - alpha)
        np.copyto(grad_avg, ga)
        avg = np.sqrt(sq - ga * ga) + _scalar(dtype, eps)
    else:
        avg = np.sqrt(sq) + _scalar(dtype, eps)
    if momentum > 0:
        b = momentum_buffer * _scalar(dtype, momentum) + gp / avg
        np.copyto(momentum_buffer, b)
        np.copyto(p, p + _scalar(dtype, -lr) * b)
    else:
        np.copyto(p, p + (_scalar(dtype, -lr) * gp) / avg)
    return p


def adam_(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step, lr, beta1, beta2, eps,
          weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False):
    r"""Adam (``torch.optim.Adam``; AdamW with ``decoupled=True``), in place.

    ``step`` is the number of this step, starting at 1.

    .. math::

        p \leftarrow (1 - \eta\lambda)\, p \text{ (decoupled only; no } \lambda p
        \text{ in } g' \text{ then)}

        m \leftarrow \operatorname{lerp}(m, g', 1 - \beta_1), \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g'^2, \qquad
        \hat v = \max(\hat v, v) \text{ (amsgrad, else } \hat v = v)

        p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \cdot
        \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    .. warning::

        ``eps`` is added to the bias-corrected :math:`\sqrt{\hat v_t}` (torch's
        placement). The course's Adam adds it to the raw :math:`\sqrt{v}` and
        folds both bias corrections into the step size; the two differ while
        :math:`\sqrt{v}` is comparable to ``eps``.
    """
    state = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    if amsgrad:
        if max_exp_avg_sq is None:
            raise ValueError("max_exp_avg_sq is required when amsgrad=True")
        state["max_exp_avg_sq"] = max_exp_avg_sq
    dtype = _check(p, g, **state)
    pv = p
    if decoupled:
        pv = p * _scalar(dtype, 1.0 - lr * weight_decay)
    gp = _effective_grad(pv, g, dtype, weight_decay=weight_decay, maximize=maximize,
                         l2=not decoupled)
    step, lr, beta1, beta2 = int(step), float(lr), float(beta1), float(beta2)
    bc1 = 1.0 - beta1 ** step
    bc2 = 1.0 - beta2 ** step
    m = lerp(exp_avg, gp, 1.0 - beta1)
    np.copyto(exp_avg, m)
    v = exp_avg_sq * _scalar(dtype, beta2) + (_scalar(dtype, 1.0 - beta2) * gp) * gp
    np.copyto(exp_avg_sq, v)
    if amsgrad:
        v = np.maximum(max_exp_avg_sq, v)
        np.copyto(max_exp_avg_sq, v)
    denom = np.sqrt(v) / _scalar(dtype, math.sqrt(bc2)) + _scalar(dtype, eps)
    np.copyto(p, pv + (_scalar(dtype, -(lr / bc1)) * m) / denom)
    return p


def adamw_(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step, lr, beta1, beta2, eps,
           weight_decay=1e-2, amsgrad=False, maximize=False):
    r"""AdamW (``torch.optim.AdamW``): :func:`adam_` with decoupled weight decay.

    .. math::

        p \leftarrow (1 - \eta\lambda)\, p, \text{ then the Adam step with no L2 term.}

    See :func:`adam_` for the rest of the rule and the eps placement.
    """
    return adam_(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
                 beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                 maximize=maximize, decoupled=True)
