"""The examples in the docstrings run and print what they say."""

import doctest
import importlib

import numpy as np
import pytest

MODULES = [
    "fastoptim",
    "fastoptim.optim.sgd",
    "fastoptim.optim.adagrad",
    "fastoptim.optim.rmsprop",
    "fastoptim.optim.adam",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 or name == "fastoptim"
    assert result.failed == 0
