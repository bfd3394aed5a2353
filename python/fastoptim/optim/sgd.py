"""SGD and Momentum: torch.optim.SGD without and with momentum."""

from __future__ import annotations

from ._rules import MOMENTUM_SPEC, SGD_SPEC
from .optimizer import Optimizer

__all__ = ["SGD", "Momentum"]


class SGD(Optimizer):
    r"""Stochastic gradient descent.

    .. math::

        g \leftarrow \pm g + \lambda\,\theta, \qquad
        \theta \leftarrow \theta - \eta\, g

    (the sign is ``-`` with ``maximize=True``; :math:`\lambda` is
    ``weight_decay``, an L2 term added to the gradient). This is
    ``torch.optim.SGD(momentum=0)`` and the course's ``SGD``:
    ``W -= lr * dW``.

    Args:
        params: dict name -> array, list of arrays, or list of parameter
            groups ``{"params": ..., **hyperparameters}``. Optional: the
            course's style binds them on the first ``update(params, grads)``.
        lr: learning rate :math:`\eta \ge 0`.
        weight_decay: L2 coefficient :math:`\lambda \ge 0`.
        maximize: ascend instead of descend.
        skip_nonfinite: skip (and count in ``skipped_steps``) any step whose
            grads hold NaN or Inf; :meth:`step` then returns whether it applied.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> W = np.ones(3, dtype=np.float32)
        >>> opt = fo.SGD({"W": W}, lr=0.5)
        >>> opt.step({"W": np.ones(3, dtype=np.float32)})
        >>> W
        array([0.5, 0.5, 0.5], dtype=float32)
    """

    _spec = SGD_SPEC

    def __init__(self, params=None, lr=0.01, *, weight_decay=0.0, maximize=False, skip_nonfinite=False):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize), skip_nonfinite=skip_nonfinite)


class Momentum(Optimizer):
    r"""SGD with momentum (heavy ball or Nesterov), as ``torch.optim.SGD``.

    .. math::

        b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t, \qquad
        d_t = \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\
                            b_t & \text{otherwise} \end{cases}, \qquad
        \theta \leftarrow \theta - \eta\, d_t

    with :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening`` and
    :math:`g_t` the gradient (negated when maximizing, plus
    ``weight_decay * theta``). State: ``momentum_buffer``.

    Warning:
        The course writes momentum as :math:`v \leftarrow \alpha v - \eta g;
        W \leftarrow W + v`. That equals the form above (with
        :math:`v = -\eta\, b`) while the learning rate is constant; only
        the form above stays right when a schedule changes ``lr`` between
        steps, which is why it is the one implemented. (With
        ``dampening=0`` the very first step is also identical: both start
        from :math:`v_1 = -\eta g_1`.)

    Args:
        params: as for :class:`SGD`.
        lr: learning rate :math:`\eta \ge 0`.
        momentum: :math:`\mu > 0` (``torch.optim.SGD(momentum=0)`` is
            :class:`SGD`).
        dampening: :math:`\tau \in [0, 1]`.
        nesterov: Nesterov momentum (needs dampening = 0).
        weight_decay: L2 coefficient added to the gradient.
        maximize: ascend instead of descend.
        skip_nonfinite: skip (and count in ``skipped_steps``) any step whose
            grads hold NaN or Inf; :meth:`step` then returns whether it applied.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> W = np.zeros(2)
        >>> opt = fo.Momentum([W], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.step([np.ones(2)])
        >>> W  # -0.1 * 1, then -0.1 * (0.9 + 1)
        array([-0.29, -0.29])
    """

    _spec = MOMENTUM_SPEC

    def __init__(self, params=None, lr=0.01, momentum=0.9, *, dampening=0.0, nesterov=False,
                 weight_decay=0.0, maximize=False, skip_nonfinite=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay,
                                      maximize=maximize), skip_nonfinite=skip_nonfinite)
