"""Weight initialization on the MLP: all zeros, sd 0.01, Xavier and He."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..nn import MLP
from . import _checks as check
from ._common import (load, make_optimizer, new_figure, save, seed_pair, smooth,
                      smoothing_window, train_iterations)

__all__ = ["initializers", "zero_init", "InitializersResult", "ZeroInitResult",
           "INITIALIZER_CHOICES"]

#: label -> MLP ``init`` argument. The course's "Xavier" is sd 1/sqrt(n) (LeCun's).
INITIALIZER_CHOICES = {"std 0.01": 0.01, "Xavier (1/√n)": "lecun", "He (√(2/n))": "he"}


@dataclass
class InitializersResult:
    """``loss[label]``: training loss per iteration; ``smoothed`` likewise."""

    loss: dict
    smoothed: dict
    test_accuracy: dict
    dataset: str
    figure: Optional[Path] = None

    def final_loss(self, label: str, last: int = 100) -> float:
        return float(np.mean(self.loss[label][-last:]))


def initializers(*, iterations: int = 2000, batch_size: int = 128,
                 hidden: Sequence[int] = (100,) * 4, choices: Optional[dict] = None,
                 lr: float = 0.01, data=None, seed=0, out=None) -> InitializersResult:
    """SGD (lr 0.01) on the 5-layer ReLU MLP from three weight scales.

    With sd 0.01 the signal and the gradients shrink by a factor at every
    layer and the loss hardly moves at first; Xavier and He start learning at
    once, He fastest for ReLU. Same batches for every choice. ``choices`` maps
    a label to an MLP ``init`` (an initializer name or a weight sd), like
    :data:`INITIALIZER_CHOICES`.
    """
    check.positive_int("iterations", iterations)
    check.positive_int("batch_size", batch_size)
    hidden = check.layer_sizes("hidden", hidden)
    if choices is not None:
        choices = check.str_keyed("choices", choices, "label to initializer",
                                  "{'He': 'he', 'sd 0.1': 0.1}")
        for label, init in choices.items():
            check.init_choice(f"choices[{label!r}]", init)
    check.positive_real("lr", lr)
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    choices = dict(INITIALIZER_CHOICES if choices is None else choices)
    ds = load(data)
    init_seed, batch_seed = seed_pair(seed)
    res = InitializersResult({}, {}, {}, ds.name)
    for label, init in choices.items():
        net = MLP(ds.n_features, hidden, ds.n_classes, init=init, seed=init_seed)
        opt = make_optimizer("SGD", net.params, lr)
        loss, _, _ = train_iterations(net, opt, ds.x_train, ds.t_train, iterations=iterations,
                                      batch_size=batch_size, rng=np.random.default_rng(batch_seed))
        res.loss[label] = loss
        res.smoothed[label] = smooth(loss, smoothing_window(iterations))
        res.test_accuracy[label] = net.accuracy(ds.x_test, ds.t_test)
    if out is not None:
        fig = new_figure(6.0, 4.0)
        ax = fig.subplots()
        for label in choices:
            ax.plot(res.smoothed[label], label=f"{label}: test acc {res.test_accuracy[label]:.2f}")
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss (moving average)")
        ax.set_title(f"Weight initialization, {len(hidden) + 1}-layer ReLU MLP, SGD lr {lr:g} "
                     f"({ds.name})", fontsize=10)
        ax.legend(fontsize=8)
        res.figure = save(fig, out, "initializers")
    return res


@dataclass
class ZeroInitResult:
    """``spread[label]``: per hidden layer, the largest difference between the
    incoming weights of any two units (max over rows of ``W.max(1) - W.min(1)``)
    after training; 0 means every unit of the layer is the same unit.
    ``weights[label]``: the trained ``W2``."""

    spread: dict
    weights: dict
    test_accuracy: dict
    dataset: str
    figure: Optional[Path] = None


def zero_init(*, iterations: int = 300, batch_size: int = 128, hidden: Sequence[int] = (20, 20),
              activation: str = "sigmoid", lr: float = 0.5, data=None, seed=0,
              out=None) -> ZeroInitResult:
    """All-zero weights versus random ones: with zeros (or any equal values) every
    unit of a layer computes the same output and gets the same gradient, so the
    units never become different and the layer is worth one unit.

    A sigmoid network is used because with ReLU the zeros also kill every
    gradient, which shows nothing about symmetry. ``hidden`` needs at least
    one layer (the figure shows ``W2``).
    """
    check.positive_int("iterations", iterations)
    check.positive_int("batch_size", batch_size)
    hidden = check.layer_sizes("hidden", hidden, min_len=1)
    check.activation("activation", activation)
    check.positive_real("lr", lr)
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    ds = load(data)
    init_seed, batch_seed = seed_pair(seed)
    res = ZeroInitResult({}, {}, {}, ds.name)
    for label, init in (("zeros", "zeros"), ("Xavier (1/√n)", "lecun")):
        net = MLP(ds.n_features, hidden, ds.n_classes, activation=activation, init=init,
                  seed=init_seed)
        opt = make_optimizer("SGD", net.params, lr)
        train_iterations(net, opt, ds.x_train, ds.t_train, iterations=iterations,
                         batch_size=batch_size, rng=np.random.default_rng(batch_seed))
        # Unit j of hidden layer i is column j of W_i (and b_i[j]).
        res.spread[label] = np.array([
            float(np.max(np.ptp(np.vstack([net.params[f"W{i}"], net.params[f"b{i}"]]), axis=1)))
            for i in range(1, len(hidden) + 1)])
        res.weights[label] = net.params["W2"].copy()
        res.test_accuracy[label] = net.accuracy(ds.x_test, ds.t_test)
    if out is not None:
        fig = new_figure(7.0, 3.4)
        axes = fig.subplots(1, 2)
        for ax, (label, W) in zip(axes, res.weights.items()):
            lim = float(np.abs(W).max()) or 1.0
            im = ax.imshow(W, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
            ax.set_title(f"{label}: W2 after training\nlargest difference between units "
                         f"{np.ptp(W, axis=1).max():.2g}, test acc {res.test_accuracy[label]:.2f}",
                         fontsize=8)
            ax.set_xlabel("unit of layer 2")
            ax.set_ylabel("input from layer 1")
            fig.colorbar(im, ax=ax, shrink=0.8)
        res.figure = save(fig, out, "zero_init")
    return res
