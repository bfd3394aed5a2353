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

import inspect
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import numpy as np

from .activations import activations
from .batchnorm import batchnorm
from .initialization import initializers, zero_init
from .learning_rate import learning_rate
from .optimizers import optimizers
from .overfitting import overfitting
from .trajectories import BOOK_TRAJECTORY_LR, saddle, trajectories
from .tuning import tuning

__all__ = ["EXPERIMENTS", "Experiment", "trajectories", "saddle", "learning_rate",
           "optimizers", "activations", "zero_init", "initializers", "batchnorm",
           "overfitting", "tuning"]


@dataclass(frozen=True)
class Experiment:
    """A named experiment: ``run(**kwargs)`` returns its result dataclass.

    ``description`` is one line about a run with the default arguments;
    ``describe(**kwargs)`` is the same line for a run with ``kwargs``.
    """

    name: str
    run: Callable
    description: str
    header: Optional[Callable[[Mapping], str]] = None

    def __call__(self, **kwargs):
        return self.run(**kwargs)

    def describe(self, **kwargs) -> str:
        """One line about ``run(**kwargs)``: its numbers are the arguments' values."""
        if self.header is None:
            return self.description
        return _header_line(self.run, self.header, kwargs)


def _header_line(run: Callable, header: Callable[[Mapping], str], kwargs: Mapping) -> str:
    """``header`` of ``run``'s arguments, the defaults filled in."""
    bound = inspect.signature(run).bind(**kwargs)
    bound.apply_defaults()
    return header(bound.arguments)


def _experiment(name: str, run: Callable, header: Callable[[Mapping], str]) -> Experiment:
    """An Experiment whose description is its header at the default arguments."""
    return Experiment(name, run, _header_line(run, header, {}), header)


def _num(x) -> str:
    """A number as the lecture writes it: 0.01, 10, 1e-6."""
    x = float(x)
    if x != 0 and abs(x) < 1e-3:
        return np.format_float_scientific(x, precision=3, trim="-", exp_digits=1)
    return f"{x:g}"


def _layers(a) -> str:
    return f"{len(a['hidden']) + 1}-layer"


def _labels(chosen, default: str) -> str:
    return default if chosen is None else " vs ".join(chosen)


def _activation_names(configs) -> str:
    return "/".join(dict.fromkeys("ReLU" if c[1] == "relu" else c[1] for c in configs))


def _scales(a) -> str:
    s = np.logspace(0, -4, a["n_scales"]) if a["scales"] is None else np.asarray(a["scales"], float)
    if len(s) == 1:
        return f"at weight scale {_num(s[0])}"
    return f"over {len(s)} weight scales from {_num(s[0])} to {_num(s[-1])}"


# Each line is written from the run's arguments (defaults filled in), so the
# numbers that `fastoptim run NAME --set ...` prints are the ones it used.
EXPERIMENTS = {e.name: e for e in (
    _experiment("trajectories", trajectories, lambda a:
                f"paths of {', '.join(a['lr'] or BOOK_TRAJECTORY_LR)} on x^2/20 + y^2 from "
                f"({', '.join(map(_num, a['start']))}), {a['steps']} steps"),
    _experiment("saddle", saddle, lambda a:
                f"who escapes the saddle of x^2 - y^2 started at "
                f"({', '.join(map(_num, a['start']))}), {a['steps']} steps"),
    _experiment("learning_rate", learning_rate, lambda a:
                f"SGD with lr {', '.join(map(_num, a['rates']))}, {a['iterations']} iterations: "
                f"too large diverges, too small barely moves"),
    _experiment("optimizers", optimizers, lambda a:
                f"{len(a['names'])} optimizers on the {_layers(a)} ReLU MLP, "
                f"batch {a['batch_size']}, {a['iterations']} iterations"),
    _experiment("activations", activations, lambda a:
                f"activation histograms of {a['layers']} layers for "
                f"{_activation_names(a['configs'])} and weight scales"),
    _experiment("zero_init", zero_init,
                lambda a: "all-zero weights keep every hidden unit identical"),
    _experiment("initializers", initializers, lambda a:
                f"{_labels(a['choices'], 'sd 0.01 vs Xavier vs He')} on the {_layers(a)} ReLU "
                f"MLP, {a['iterations']} iterations: loss curves"),
    _experiment("batchnorm", batchnorm, lambda a:
                f"with vs without batch norm {_scales(a)}, {a['epochs']} epochs"),
    _experiment("overfitting", overfitting, lambda a:
                f"{a['n_train']} samples, {_layers(a)} MLP, {a['epochs']} epochs: "
                f"{_labels(a['regularizers'], 'plain vs dropout 0.2 vs weight decay 0.1')}"),
    _experiment("tuning", tuning, lambda a:
                f"random search of lr and weight decay on a {_num(a['val_fraction'] * 100)}% "
                f"validation split, {a['trials']} trials of {a['epochs']} epochs"),
)}
