"""Learning rate too large, too small and about right, with SGD on the MLP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..nn import MLP
from . import _checks as check
from ._common import load, make_optimizer, new_figure, save, seed_pair, train_iterations

__all__ = ["learning_rate", "LearningRateResult"]


@dataclass
class LearningRateResult:
    """``loss[lr]``: training loss per iteration (NaN from the first non-finite
    loss on); ``peak[lr]``: the largest loss seen; ``diverged[lr]``: the loss
    became non-finite or exceeded 100 times its start; ``initial_loss``: loss
    of the common starting weights on the whole training set."""

    loss: dict
    peak: dict
    diverged: dict
    initial_loss: float
    dataset: str
    figure: Optional[Path] = None

    def final_loss(self, lr: float, last: int = 20) -> float:
        return float(np.mean(self.loss[lr][-last:]))


def learning_rate(*, rates: Sequence[float] = (10.0, 0.1, 1e-6), iterations: int = 300,
                  batch_size: int = 128, hidden: Sequence[int] = (100,) * 4,
                  data=None, seed=0, out=None) -> LearningRateResult:
    """SGD with a learning rate that diverges (10), one that works (0.1), one that
    barely moves (1e-6): same start, same batches.

    With lr 10 the loss explodes within a few steps (the weights blow up and
    the ReLUs die, after which the network is stuck near chance); with 1e-6
    the loss stays where it started. ``rates`` must be distinct (the results
    are keyed by rate)."""
    rates = check.positive_reals("rates", rates, distinct=True)
    check.positive_int("iterations", iterations)
    check.positive_int("batch_size", batch_size)
    hidden = check.layer_sizes("hidden", hidden)
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    ds = load(data)
    init_seed, batch_seed = seed_pair(seed)
    first = MLP(ds.n_features, hidden, ds.n_classes, seed=init_seed)
    initial = first.loss(ds.x_train, ds.t_train)
    losses, peak, diverged = {}, {}, {}
    for rate in rates:
        net = MLP(ds.n_features, hidden, ds.n_classes, seed=init_seed)
        opt = make_optimizer("SGD", net.params, rate)
        # A diverging run overflows on purpose; its NaN is the result, not an error.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            loss, _, _ = train_iterations(
                net, opt, ds.x_train, ds.t_train, iterations=iterations, batch_size=batch_size,
                rng=np.random.default_rng(batch_seed), stop_if_not_finite=True)
        losses[rate] = loss
        finite = loss[np.isfinite(loss)]
        peak[rate] = float(finite.max()) if len(finite) == len(loss) else float("inf")
        diverged[rate] = bool(peak[rate] > 100 * initial)
    res = LearningRateResult(losses, peak, diverged, initial, ds.name)
    if out is not None:
        fig = new_figure(6.0, 4.0)
        ax = fig.subplots()
        for rate in rates:
            y = losses[rate]
            label = f"lr {rate:g}" + (" (diverged)" if diverged[rate] else "")
            ax.plot(np.arange(len(y)), np.minimum(y, 1e4), label=label, lw=1.2)
        ax.axhline(initial, color="0.6", ls=":", lw=1, label="loss at start")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss (clipped at 1e4)")
        ax.set_title(f"SGD learning rate on the MLP ({ds.name})", fontsize=10)
        ax.legend(fontsize=8)
        res.figure = save(fig, out, "learning_rate")
    return res
