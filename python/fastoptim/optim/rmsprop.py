"""RMSProp: torch.optim.RMSprop."""

from __future__ import annotations

from ._rules import RMSPROP_SPEC
from .optimizer import Optimizer

__all__ = ["RMSProp"]


class RMSProp(Optimizer):
    r"""RMSProp: AdaGrad with an exponentially decaying average instead of a sum.

    .. math::

        s \leftarrow \alpha s + (1 - \alpha)\, g \odot g, \qquad
        \bar g \leftarrow \operatorname{lerp}(\bar g, g, 1 - \alpha)
        \ \text{(centered)}, \qquad
        a = \sqrt{s - \bar g^2} + \epsilon \ \text{(centered) or}\ \sqrt{s} + \epsilon

    .. math::

        \text{momentum } \mu > 0:\ b \leftarrow \mu b + g / a,\ \theta \leftarrow \theta - \eta b;
        \qquad \text{else}\ \theta \leftarrow \theta - \eta\, g / a

    State: ``square_avg`` (:math:`s`), ``momentum_buffer`` (:math:`b`,
    when momentum > 0), ``grad_avg`` (:math:`\bar g`, when centered). This
    is ``torch.optim.RMSprop``; the course's ``RMSprop(decay_rate=0.99)``
    is ``alpha=0.99`` with its ``1e-7`` as ``eps``.

    Args:
        params: as for :class:`fastoptim.SGD`.
        lr: learning rate :math:`\eta \ge 0`.
        alpha: smoothing constant in [0, 1].
        eps: :math:`\epsilon \ge 0`, added to the root.
        weight_decay: L2 coefficient added to the gradient.
        momentum: :math:`\mu \ge 0`.
        centered: normalize by the estimated variance instead of the second moment.
        maximize: ascend instead of descend.
        skip_nonfinite: skip (and count in ``skipped_steps``) any step whose
            grads hold NaN or Inf; :meth:`step` then returns whether it applied.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> W = np.zeros(1)
        >>> opt = fo.RMSProp([W], lr=0.1, alpha=0.75, eps=0.0)
        >>> opt.step([np.array([3.0])])
        >>> W  # s = 0.25 * 9; step = 0.1 * 3 / 1.5
        array([-0.2])
    """

    _spec = RMSPROP_SPEC

    def __init__(self, params=None, lr=0.01, *, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, maximize=False, skip_nonfinite=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize), skip_nonfinite=skip_nonfinite)
