"""The optimizers compared on the MLP: smoothed training loss per optimizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ..nn import MLP
from .._errors import UsageTypeError, UsageValueError
from . import _checks as check
from ._common import (BOOK_LR, load, make_optimizer, new_figure, save, seed_pair, smooth,
                      smoothing_window, train_iterations)

__all__ = ["optimizers", "OptimizersResult"]


@dataclass
class OptimizersResult:
    """Per optimizer name: ``loss`` (per iteration), ``smoothed`` loss, final
    ``test_accuracy``, ``ms_per_step`` (forward + backward + update) and
    ``ms_per_update`` (the optimizer's step alone)."""

    loss: dict
    smoothed: dict
    test_accuracy: dict
    train_accuracy: dict
    ms_per_step: dict
    ms_per_update: dict
    lr: dict
    dataset: str
    figure: Optional[Path] = None

    def final_loss(self, name: str, last: int = 100) -> float:
        """Mean training loss over the last ``last`` iterations."""
        return float(np.mean(self.loss[name][-last:]))


def optimizers(*, iterations: int = 2000, batch_size: int = 128, hidden: Sequence[int] = (100,) * 4,
               names: Sequence[str] = ("SGD", "Momentum", "AdaGrad", "RMSProp", "Adam"),
               lr: Optional[dict] = None, dtype=np.float64, data=None, seed=0, out=None,
               progress: Optional[Callable[[str, int], None]] = None) -> OptimizersResult:
    """SGD, Momentum, AdaGrad, RMSProp and Adam on the 5-layer ReLU MLP (He init).

    The course book's setting: 4 hidden layers of 100 units plus the output
    layer, ReLU, He initialization, batch 128, 2000 iterations, its learning
    rates (``BOOK_LR``). Every optimizer starts from the same weights and sees
    the same batches. ``lr`` maps optimizer names to learning rates that
    replace the book's (e.g. ``{'SGD': 0.1}``). ``progress(name, i)`` is
    called after every step.
    """
    check.positive_int("iterations", iterations)
    check.positive_int("batch_size", batch_size)
    hidden = check.layer_sizes("hidden", hidden)
    names = check.optimizer_names("names", names)
    lr = check.optimizer_lr("lr", lr)
    if lr is not None and not set(lr) <= set(names):
        extra = ", ".join(repr(n) for n in lr if n not in names)
        raise UsageValueError(f"lr sets a rate for {extra}, not among names "
                              f"({', '.join(names)}); add it to names or leave it out")
    dtype = check.float_dtype("dtype", dtype)
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    if progress is not None and not callable(progress):
        raise UsageTypeError(f"progress must be a function progress(name, i), got "
                             f"{type(progress).__name__}")
    lr = {n: (BOOK_LR if lr is None else {**BOOK_LR, **lr})[n] for n in names}
    ds = load(data, dtype)
    init_seed, batch_seed = seed_pair(seed)
    res = OptimizersResult({}, {}, {}, {}, {}, {}, lr, ds.name)
    for name in names:
        net = MLP(ds.n_features, hidden, ds.n_classes, activation="relu", init="he",
                  dtype=dtype, seed=init_seed)
        opt = make_optimizer(name, net.params, lr[name])
        rng = np.random.default_rng(batch_seed)
        cb = None if progress is None else (lambda i, name=name: progress(name, i))
        losses, ms_step, ms_update = train_iterations(
            net, opt, ds.x_train, ds.t_train, iterations=iterations, batch_size=batch_size,
            rng=rng, progress=cb)
        res.loss[name] = losses
        res.smoothed[name] = smooth(losses, smoothing_window(iterations))
        res.test_accuracy[name] = net.accuracy(ds.x_test, ds.t_test)
        res.train_accuracy[name] = net.accuracy(ds.x_train, ds.t_train)
        res.ms_per_step[name] = ms_step
        res.ms_per_update[name] = ms_update
    if out is not None:
        fig = new_figure(6.0, 4.0)
        ax = fig.subplots()
        for name in names:
            ax.plot(res.smoothed[name], label=f"{name} (lr {lr[name]:g})", lw=1.2)
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss (moving average)")
        ax.set_yscale("log")
        ax.set_title(f"Optimizers on a {len(hidden) + 1}-layer MLP, {ds.name}, batch {batch_size}",
                     fontsize=10)
        ax.legend(fontsize=8)
        res.figure = save(fig, out, "optimizers")
    return res
