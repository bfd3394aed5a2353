"""
fastoptim compiled core: fused optimizer kernels and random fills
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
__all__: list[str] = ['Plan', 'active_isa', 'best_isa', 'compiler', 'get_num_threads', 'get_parallel_threshold', 'get_random_parallel_threshold', 'probe', 'random_bits', 'random_fill', 'set_isa', 'set_num_threads', 'set_parallel_threshold', 'set_random_parallel_threshold', 'supported_isas']
class Plan:
    """
    Arrays of an optimizer bound once: params, state buffers and step counters.
    
    Plan(rule, params, states, groups, steps, names, slot_labels=[]). ``rule`` is one of 'sgd',
    'momentum', 'adagrad', 'rmsprop', 'adam'; ``states[i]`` lists tensor i's state
    buffers (None where unused) in the rule's slot order; ``groups[i]`` is the
    index of its hyperparameter set; ``steps`` an int64 array of step counts,
    incremented by each step; ``names[i]`` is how error messages name tensor i;
    ``slot_labels[k]``, where given, names state slot k of tensor i
    ``slot_labels[k][names[i]]`` in errors rather than ``state[names[i]]['slot']``.
    Internal: the optimizer classes and fastoptim.functional build plans.
    """
    def __init__(self, rule: str, params: list, states: list, groups: list, steps: numpy.ndarray, names: list, slot_labels: collections.abc.Sequence[str] = []) -> None:
        ...
    def __len__(self) -> int:
        ...
    def step(self, grads: typing.Any, hypers: typing.Any, skip_nonfinite: bool = False) -> bool:
        """
        Validate grads and hyperparameter sets, then update every tensor in place. With skip_nonfinite, a step whose grads hold any NaN or Inf changes nothing (not even the step counts) and returns False; otherwise returns True.
        """
    def step_if_unchanged(self, grads: typing.Any, groups: typing.Any, memo: typing.Any, skip_nonfinite: bool = False) -> typing.Any:
        """
        step(grads, packed) if memo is (groups, dicts, keys, values, packed, grad_keys) with groups this very list holding these very dicts, each with these very value objects under keys and a 'params' list of the very arrays bound to the group (identity throughout), and grads a list or tuple of the right length or a dict holding exactly grad_keys; otherwise None, with nothing changed.
        """
    @property
    def num_groups(self) -> int:
        ...
def _share_stats() -> dict:
    """
    Counters of multi-threaded steps since start (tests and diagnostics): regions, chunks taken by pool workers, chunks taken from another thread's share.
    """
def active_isa() -> str:
    """
    ISA level the kernels use now.
    """
def best_isa() -> str:
    """
    Highest ISA level this CPU supports (and this build contains).
    """
def compiler() -> str:
    ...
def get_num_threads() -> int:
    ...
def get_parallel_threshold() -> int:
    """
    Bytes a step must move per thread to use more than one thread (default 6 MiB).
    """
def get_random_parallel_threshold() -> int:
    """
    Fills with fewer elements than this run on the caller's thread.
    """
def probe(kind: str, p: typing.Any, g: typing.Any, a: typing.Any = None, b: typing.Any = None, nthreads: typing.SupportsInt | typing.SupportsIndex = 1) -> None:
    """
    Roofline probe (benchmarks): a plain fused loop of a rule, or a stream loop moving the same bytes; updates p (and a, b) in place, on up to nthreads threads taken as a step takes them (a second one only from the parallel threshold on).
    """
def random_bits(out: typing.Any, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, counter: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Raw Philox4x32-10 words in the fill layout (known-answer tests).
    """
def random_fill(out: typing.Any, dist: str, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, counter: typing.SupportsInt | typing.SupportsIndex, params: tuple) -> int:
    """
    Fill ``out`` (float32/float64, C-contiguous, writeable) in place from the
    Philox4x32-10 stream (key from ``seed``, ``stream``, first block ``counter``).
    ``params``: uniform (low, high - low, high), values at most high; normal
    (mean, std); truncated_normal (mean, scale, Phi(lo), Phi(hi) - Phi(lo), lo,
    hi). Returns the number of counter blocks used. Internal:
    fastoptim.random.Generator validates and calls this.
    """
def set_isa(isa: str) -> None:
    """
    Use the given ISA level from now on (for tests and benchmarks).
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def set_parallel_threshold(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def set_random_parallel_threshold(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def supported_isas() -> list[str]:
    """
    ISA levels this CPU can run, lowest first.
    """
__version__: str
_env_isa_ok: bool
_env_threads_ok: bool
