"""Overfitting a deep MLP on 300 samples, and two remedies: dropout, weight decay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..nn import ACTIVATIONS, MLP
from .._errors import UsageTypeError, UsageValueError
from . import _checks as check
from ._common import load, make_optimizer, new_figure, save, seed_pair, train_epochs

__all__ = ["overfitting", "OverfittingResult", "REGULARIZERS"]

#: label -> MLP keyword arguments.
REGULARIZERS = {
    "plain": {},
    "dropout 0.2": {"dropout": 0.2},
    "weight decay 0.1": {"weight_decay": 0.1},
}


#: The MLP keyword arguments a regularizer may set (init and seed are the
#: experiment's, and dtype the data's).
_REGULARIZER_KEYS = ("dropout", "weight_decay", "batch_norm", "activation")


def _check_regularizers(regularizers) -> dict:
    regularizers = check.str_keyed("regularizers", regularizers, "label to MLP keyword arguments",
                                   "{'plain': {}, 'dropout 0.5': {'dropout': 0.5}}")
    for label, kwargs in regularizers.items():
        name = f"regularizers[{label!r}]"
        if not isinstance(kwargs, dict):
            raise UsageTypeError(f"{name} must be a dict of MLP keyword arguments (of "
                                 f"{', '.join(_REGULARIZER_KEYS)}), got {type(kwargs).__name__} "
                                 f"{kwargs!r}")
        unknown = [k for k in kwargs if k not in _REGULARIZER_KEYS]
        if unknown:
            raise UsageValueError(f"{name} may set {', '.join(_REGULARIZER_KEYS)}, not "
                                  f"{', '.join(map(repr, unknown))}")
        if "dropout" in kwargs:
            value = check.finite_real(f"{name}['dropout']", kwargs["dropout"],
                                      what="a ratio in [0, 1)")
            if not 0 <= value < 1:
                raise UsageValueError(f"{name}['dropout'] must be a ratio in [0, 1), got {value!r}")
        if "weight_decay" in kwargs:
            value = check.finite_real(f"{name}['weight_decay']", kwargs["weight_decay"],
                                      what="a number >= 0")
            if value < 0:
                raise UsageValueError(f"{name}['weight_decay'] must be a number >= 0, "
                                      f"got {value!r}")
        if "batch_norm" in kwargs and not isinstance(kwargs["batch_norm"], (bool, np.bool_)):
            raise UsageTypeError(f"{name}['batch_norm'] must be True or False, "
                                 f"got {kwargs['batch_norm']!r}")
        if "activation" in kwargs and kwargs["activation"] not in ACTIVATIONS:
            raise UsageValueError(f"{name}['activation'] must be one of {', '.join(ACTIVATIONS)}, "
                                  f"got {kwargs['activation']!r}")
    return regularizers


@dataclass
class OverfittingResult:
    """``train_accuracy[label]``, ``test_accuracy[label]`` and the cross-entropy
    ``train_loss[label]``, ``test_loss[label]`` per epoch (index 0 before
    training; evaluation mode, penalty not included)."""

    train_accuracy: dict
    test_accuracy: dict
    train_loss: dict
    test_loss: dict
    n_train: int
    dataset: str
    figure: Optional[Path] = None

    def gap(self, label: str, last: int = 10) -> float:
        """Train minus test accuracy, averaged over the last ``last`` epochs."""
        train, test = self.train_accuracy[label][-last:], self.test_accuracy[label][-last:]
        return float(np.mean(train - test))

    def loss_gap(self, label: str, last: int = 10) -> float:
        """Test minus train cross-entropy, averaged over the last ``last`` epochs."""
        return float(np.mean(self.test_loss[label][-last:] - self.train_loss[label][-last:]))


def overfitting(*, n_train: int = 300, epochs: int = 301, batch_size: int = 100,
                hidden: Sequence[int] = (100,) * 6, lr: float = 0.01,
                regularizers: Optional[dict] = None, optimizer: str = "SGD", data=None, seed=0,
                out=None) -> OverfittingResult:
    """The book's setting: the first 300 training samples, a 7-layer MLP (6 hidden
    layers of 100 ReLU units, He init), SGD lr 0.01, batch 100, 301 epochs
    (the book runs 201 for weight decay and 301 for dropout); plain, with
    dropout 0.2 (inverted: scaled while training) and with weight decay 0.1.
    The plain network fits its 300 samples perfectly (train accuracy 1, train
    loss near 0) while the test loss stays high; both remedies narrow the gap
    between train and test. On the 8x8 digits the accuracy gap is small
    (a few points: the task is easy) and the loss gap shows the effect more
    clearly; on MNIST both are large. Same initial weights and batches for
    every variant. ``regularizers`` maps a label to MLP keyword arguments
    (``dropout``, ``weight_decay``, ``batch_norm``, ``activation``), like
    :data:`REGULARIZERS`.
    """
    check.positive_int("n_train", n_train)
    check.positive_int("epochs", epochs)
    check.positive_int("batch_size", batch_size)
    hidden = check.layer_sizes("hidden", hidden)
    check.positive_real("lr", lr)
    if regularizers is not None:
        regularizers = _check_regularizers(regularizers)
    check.optimizer_name("optimizer", optimizer)
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    regularizers = dict(REGULARIZERS if regularizers is None else regularizers)
    ds = load(data)
    check.samples_available("n_train", n_train, ds)
    ds = ds.subset(n_train)
    if any(kw.get("batch_norm") for kw in regularizers.values()):
        check.last_batch(n_train, batch_size, f"n_train={n_train} samples")
    init_seed, batch_seed = seed_pair(seed)
    res = OverfittingResult({}, {}, {}, {}, len(ds.x_train), ds.name)
    for label, kwargs in regularizers.items():
        net = MLP(ds.n_features, hidden, ds.n_classes, init="he", seed=init_seed, **kwargs)
        opt = make_optimizer(optimizer, net.params, lr)
        (res.train_accuracy[label], res.test_accuracy[label], res.train_loss[label],
         res.test_loss[label]) = train_epochs(net, opt, ds, epochs=epochs, batch_size=batch_size,
                                              rng=np.random.default_rng(batch_seed), losses=True)
    if out is not None:
        fig = new_figure(3.0 * len(regularizers), 3.0)
        axes = fig.subplots(1, len(regularizers), squeeze=False, sharey=True)[0]
        for ax, label in zip(axes, regularizers):
            ax.plot(res.train_accuracy[label], label="train")
            ax.plot(res.test_accuracy[label], label="test", ls="--")
            ax.set_title(f"{label}\naccuracy gap {res.gap(label):.3f}, "
                         f"loss gap {res.loss_gap(label):.2f}", fontsize=8)
            ax.set_xlabel("epoch", fontsize=8)
            ax.set_ylim(0, 1.02)
            ax.tick_params(labelsize=7)
        axes[0].set_ylabel("accuracy", fontsize=8)
        axes[0].legend(fontsize=7)
        fig.suptitle(f"Overfitting on {res.n_train} samples ({ds.name})", fontsize=9)
        res.figure = save(fig, out, "overfitting")
    return res
