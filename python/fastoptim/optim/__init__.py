"""Fused optimizers over NumPy arrays: torch.optim's update rules, rounded as torch rounds them."""

from .adagrad import AdaGrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSProp
from .sgd import SGD, Momentum

__all__ = ["Optimizer", "SGD", "Momentum", "AdaGrad", "RMSProp", "Adam", "AdamW"]
