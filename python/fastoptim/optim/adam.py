"""Adam and AdamW: torch.optim.Adam and torch.optim.AdamW."""

from __future__ import annotations

from ._rules import ADAM_SPEC, ADAMW_SPEC
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]

_ADAM_MATH = r"""
    .. math::

        m \leftarrow \operatorname{lerp}(m, g, 1 - \beta_1), \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g, \qquad
        \hat v = \max(\hat v, v)\ \text{(amsgrad) else}\ v

    .. math::

        \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\,
        \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    State: ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`),
    ``max_exp_avg_sq`` (amsgrad), and the step count :math:`t`.

    Warning:
        Like torch, :math:`\epsilon` is added to the bias-corrected
        :math:`\sqrt{\hat v_t}`. The course's Adam adds it to the raw
        :math:`\sqrt{v}` and folds both corrections into the step size,
        :math:`\eta_t = \eta \sqrt{1-\beta_2^t} / (1-\beta_1^t)`; the two
        agree except where :math:`\sqrt{v}` is comparable to
        :math:`\epsilon`.
"""


class Adam(Optimizer):
    __doc__ = r"""Adam with bias correction, as ``torch.optim.Adam``.
""" + _ADAM_MATH + r"""
    ``weight_decay`` adds :math:`\lambda\theta` to the gradient (L2); see
    :class:`AdamW` for decoupled decay.

    Args:
        params: as for :class:`fastoptim.SGD`.
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon \ge 0`.
        weight_decay: L2 coefficient added to the gradient.
        amsgrad: use the running maximum of :math:`v`.
        maximize: ascend instead of descend.
        skip_nonfinite: skip (and count in ``skipped_steps``) any step whose
            grads hold NaN or Inf; :meth:`step` then returns whether it applied.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> params = {"W": np.zeros((2, 2), np.float32), "b": np.zeros(2, np.float32)}
        >>> opt = fo.Adam(params, lr=1e-3)
        >>> opt.step({"W": np.ones((2, 2), np.float32), "b": -np.ones(2, np.float32)})
        >>> params["b"]  # the first Adam step moves every element by about lr
        array([0.001, 0.001], dtype=float32)
"""

    _spec = ADAM_SPEC

    def __init__(self, params=None, lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False, skip_nonfinite=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize), skip_nonfinite=skip_nonfinite)


class AdamW(Optimizer):
    __doc__ = r"""Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    Before the Adam update, :math:`\theta \leftarrow \theta\,(1 - \eta\lambda)`
    (:math:`\lambda` = ``weight_decay``, default 1e-2); the gradient itself
    gets no L2 term.
""" + _ADAM_MATH + r"""
    Args:
        params: as for :class:`fastoptim.SGD`.
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon \ge 0`.
        weight_decay: decoupled decay :math:`\lambda \ge 0`.
        amsgrad: use the running maximum of :math:`v`.
        maximize: ascend instead of descend.
        skip_nonfinite: skip (and count in ``skipped_steps``) any step whose
            grads hold NaN or Inf; :meth:`step` then returns whether it applied.

    Example:
        >>> import numpy as np, fastoptim as fo
        >>> W = np.ones(2)
        >>> opt = fo.AdamW([W], lr=0.1, weight_decay=0.5)
        >>> opt.step([np.zeros(2)])  # zero gradient: only the decay acts
        >>> W
        array([0.95, 0.95])
"""

    _spec = ADAMW_SPEC

    def __init__(self, params=None, lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False, skip_nonfinite=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize), skip_nonfinite=skip_nonfinite)
