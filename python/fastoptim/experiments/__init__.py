"""The course's experiments: each returns its numbers and, given ``out=``, a PNG.

Every experiment is a function with keyword-only arguments — sizes (the
course book's settings are the defaults), ``seed``, ``out`` (a folder for
the figure; None draws nothing) and, for those that train on data, ``data``
(a folder of MNIST IDX files; None means ``$FASTOPTIM_DATA`` or else the 8x8
digits shipped with scikit-learn). :data:`EXPERIMENTS` lists them by name
for the ``fastoptim`` command.

>>> from fastoptim.experiments import trajectories
>>> result = trajectories(steps=5)
>>> result.paths["SGD"].shape
(6, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .activations import activations
from .batchnorm import batchnorm
from .initialization import initializers, zero_init
from .learning_rate import learning_rate
from .optimizers import optimizers
from .overfitting import overfitting
from .trajectories import saddle, trajectories
from .tuning import tuning

__all__ = ["EXPERIMENTS", "Experiment", "trajectories", "saddle", "learning_rate",
           "optimizers", "activations", "zero_init", "initializers", "batchnorm",
           "overfitting", "tuning"]


@dataclass(frozen=True)
class Experiment:
    """A named experiment: ``run(**kwargs)`` returns its result dataclass."""

    name: str
    run: Callable
    description: str

    def __call__(self, **kwargs):
        return self.run(**kwargs)


EXPERIMENTS = {e.name: e for e in (
    Experiment("trajectories", trajectories,
               "paths of SGD, Momentum, AdaGrad, RMSProp, Adam on x^2/20 + y^2 from (-7, 2)"),
    Experiment("saddle", saddle, "who escapes the saddle of x^2 - y^2 started near the ridge"),
    Experiment("learning_rate", learning_rate,
               "SGD with lr 10 (diverges), 0.1 (learns), 1e-6 (barely moves)"),
    Experiment("optimizers", optimizers,
               "5 optimizers on the 5-layer ReLU MLP, batch 128, 2000 iterations"),
    Experiment("activations", activations,
               "activation histograms of 5 layers for sigmoid/tanh/ReLU and weight scales"),
    Experiment("zero_init", zero_init, "all-zero weights keep every hidden unit identical"),
    Experiment("initializers", initializers, "sd 0.01 vs Xavier vs He on the MLP: loss curves"),
    Experiment("batchnorm", batchnorm,
               "with vs without batch norm over 16 weight scales from 1 to 1e-4"),
    Experiment("overfitting", overfitting,
               "300 samples, 7-layer MLP: plain vs dropout 0.2 vs weight decay 0.1"),
    Experiment("tuning", tuning,
               "random search of lr and weight decay on a 20% validation split, 100 trials"),
)}
