"""AdaGrad: torch.optim.Adagrad."""

from __future__ import annotations

from ._rules import ADAGRAD_SPEC
from .optimizer import Optimizer

__all__ = ["AdaGrad"]


class AdaGrad(Optimizer):
    r"""AdaGrad: per-element learning rates that shrink with the summed squared gradient.

    .. math::

        h \leftarrow h + g \odot g, \qquad
        \theta \leftarrow \theta - \frac{\tilde\eta\, g}{\sqrt{h} + \epsilon},
        \qquad \tilde\eta = \frac{\eta}{1 + (t - 1)\,\text{lr\_decay}}

    State: ``sum`` (:math:`h`, starting at ``initial_accumulator_value``).
    This is ``torch.optim.Adagrad``.

    Warning:
        The course adds ``1e-7`` to :math:`\sqrt{h}` in the same place;
        torch's default, used here, is ``eps=1e-10``. Pass ``eps=1e-7`` to
        get the course's numbers.

    Args:
        params: as for :class:`fastoptim.SGD`.
        lr: learning rate :math:`\eta \ge 0`.
        lr_decay: :math:`\ge 0`.
        weight_decay: L2 coefficient added to the gradient.
        initial_accumulator_value: start of ``sum`` (:math:`\ge 0`).
        eps: :math:`\epsilon \ge 0`, added to :math:`\sqrt{h}`.
        maximize: ascend instead of descend.
        skip_nonfinite: skip (and count in ``skipped_steps``) any step whose
            grads hold NaN or Inf; :meth:`step` then returns whether it applied.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> W = np.zeros(2)
        >>> opt = fo.AdaGrad([W], lr=0.5)
        >>> opt.step([np.array([2.0, -4.0])])
        >>> W  # each element moves by lr: g / sqrt(g*g)
        array([-0.5,  0.5])
    """

    _spec = ADAGRAD_SPEC

    def __init__(self, params=None, lr=0.01, *, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False, skip_nonfinite=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize), skip_nonfinite=skip_nonfinite)
