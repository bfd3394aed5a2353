"""The ``fastoptim`` command: the lecture's experiments from the shell."""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import time

from ._errors import UsageError

__all__ = ["main"]

DEFAULT_OUT = "fastoptim-out"

_DESCRIPTION = """\
fastoptim: the learning-techniques lecture, runnable, on fastoptim's fused
optimizers. Figures are written as PNG files (needs matplotlib); the data is
scikit-learn's 8x8 digits (needs scikit-learn) unless --data DIR or
FASTOPTIM_DATA names a folder with the four MNIST IDX files.

commands:
  demo    train the 5-layer MLP with SGD, Momentum, AdaGrad, RMSProp and Adam,
          print final loss, test accuracy and time per step, and write
          optimizers.png (about 10-60 s)
  list    list the experiments with one line each
  run     run one experiment by name, print its numbers, write its figure
"""

_EPILOG = """\
examples:
  fastoptim demo
  fastoptim run activations --out figs
  fastoptim run optimizers --data ~/mnist --seed 1
  fastoptim run tuning --set trials=20 --set epochs=20
"""


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parse_sets(items) -> dict:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE, got {item!r}")
        out[key] = _parse_value(value)
    return out


def _int_at_least(low: int, what: str):
    """An argparse type: an int >= ``low``, else a usage error that says so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_seed_int = _int_at_least(0, "a non-negative integer")


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fastoptim", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"fastoptim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{demo,list,run}")

    def common(p):
        p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                       help=f"folder for the PNG figures (default ./{DEFAULT_OUT})")
        p.add_argument("--data", default=None, metavar="DIR",
                       help="folder with the MNIST IDX files train-images-idx3-ubyte[.gz] etc. "
                            "(default: $FASTOPTIM_DATA, else the 8x8 digits)")
        p.add_argument("--seed", type=_seed_int, default=0, metavar="N",
                       help="seed of weights, batches and trials (default 0)")
        p.add_argument("--no-figure", action="store_true", help="do not draw the figure")

    demo = sub.add_parser(
        "demo", help="train the MLP with each optimizer; table + figure",
        description="Train the 5-layer, 100-unit ReLU MLP (He init, batch 128) with SGD, "
                    "Momentum, AdaGrad, RMSProp and Adam from the same weights on the same "
                    "batches; print final loss, test accuracy and milliseconds per step "
                    "(whole step and optimizer update alone), and write optimizers.png.")
    common(demo)
    demo.add_argument("--iterations", type=_positive_int, default=2000, metavar="N",
                      help="training steps per optimizer (default 2000, the book's)")
    demo.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                      help="precision of the network (default float64)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")

    sub.add_parser("list", help="list the experiments",
                   description="List the experiment names with a one-line description.")

    run = sub.add_parser(
        "run", help="run one experiment (see `fastoptim list`)",
        description="Run one experiment with the course book's settings, print its numbers "
                    "and write NAME.png into --out. --set KEY=VALUE overrides a keyword "
                    "argument of the experiment function (e.g. --set iterations=200, "
                    "--set 'hidden=(50, 50)'), except seed, out and data, which are "
                    "--seed, --out and --data; see help(fastoptim.experiments.NAME).")
    run.add_argument("name", metavar="NAME", help="experiment name")
    common(run)
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override an experiment argument other than seed, out and data "
                          "(repeatable)")
    return parser


def _progress(total: int, enabled: bool):
    """A tqdm bar if tqdm is installed and enabled, else a no-op."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True)
    return None


def _figure_folder(args):
    """--out, or None (with a note) when figures are off or matplotlib is missing."""
    if args.no_figure:
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("note: matplotlib is not installed (pip install 'fastoptim[plot]'): no figure",
              file=sys.stderr)
        return None
    return args.out


def _demo(args) -> int:
    import numpy as np

    from .experiments import optimizers

    names = ("SGD", "Momentum", "AdaGrad", "RMSProp", "Adam")
    bar = _progress(len(names) * args.iterations, not args.no_progress)
    current = [None]

    def tick(name, i):
        if bar is not None:
            if name != current[0]:
                current[0] = name
                bar.set_description(name)
            bar.update(1)

    start = time.perf_counter()
    try:
        res = optimizers(iterations=args.iterations, names=names, data=args.data, seed=args.seed,
                         dtype=np.dtype(args.dtype), out=_figure_folder(args),
                         progress=tick)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - start
    last = max(1, min(100, args.iterations // 10))
    print(f"5-layer MLP (100 ReLU units per hidden layer, He init), batch 128, "
          f"{args.iterations} steps, {res.dataset}, {args.dtype}")
    print(f"{'optimizer':<10} {'lr':>7} {'final loss':>11} {'test acc':>9} "
          f"{'ms/step':>8} {'ms/update':>10}")
    for name in names:
        print(f"{name:<10} {res.lr[name]:>7g} {res.final_loss(name, last):>11.3g} "
              f"{res.test_accuracy[name]:>9.3f} {res.ms_per_step[name]:>8.3f} "
              f"{res.ms_per_update[name]:>10.4f}")
    print(f"(final loss: mean of the last {last} steps; ms/step: forward + backward + "
          f"update; ms/update: the optimizer alone)")
    if res.figure is not None:
        print(f"figure: {res.figure}")
    print(f"done in {elapsed:.1f} s")
    return 0


def _list() -> int:
    from .experiments import EXPERIMENTS

    width = max(map(len, EXPERIMENTS))
    for name, exp in EXPERIMENTS.items():
        print(f"{name:<{width}}  {exp.description}")
    return 0


def _fmt(x) -> str:
    import numpy as np

    if isinstance(x, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in x.items())
    if isinstance(x, (float, np.floating)):
        return f"{x:.4g}"
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=3, max_line_width=100, threshold=20)
    return str(x)


def _summary(name: str, res) -> list[str]:
    import numpy as np

    if name in ("trajectories", "saddle"):
        lines = [f"final f: {_fmt(res.final_value)}"]
        if name == "saddle":
            lines.append(f"step when |y| > 1 (None = stayed): {_fmt(res.escape_step)}")
        return lines
    if name == "learning_rate":
        return [f"initial loss {res.initial_loss:.4g}",
                *(f"lr {lr:g}: final loss {res.final_loss(lr):.4g}, peak {res.peak[lr]:.4g}, "
                  f"diverged {res.diverged[lr]}" for lr in res.loss)]
    if name in ("optimizers", "initializers"):
        return [f"{k}: final loss {res.final_loss(k):.4g}, test accuracy "
                f"{res.test_accuracy[k]:.3f}" for k in res.loss]
    if name == "activations":
        lines = []
        for label, acts in res.activations.items():
            a = acts[-1]
            lines.append(f"{label}: last layer mean {a.mean():.3g}, sd {a.std():.3g}, "
                         f"share > 0 {np.mean(a > 0):.2f}")
        return lines
    if name == "zero_init":
        return [f"{k}: per-layer spread between units {_fmt(v)}, test accuracy "
                f"{res.test_accuracy[k]:.3f}" for k, v in res.spread.items()]
    if name == "batchnorm":
        return [f"scales: {_fmt(res.scales)}",
                f"final train acc with batch norm:    {_fmt(res.with_bn[:, -1])}",
                f"final train acc without batch norm: {_fmt(res.without_bn[:, -1])}",
                f"batch norm learns faster at {int(res.bn_wins().sum())} of {len(res.scales)} "
                f"scales"]
    if name == "overfitting":
        return [f"{k}: train acc {res.train_accuracy[k][-1]:.3f}, test acc "
                f"{res.test_accuracy[k][-1]:.3f}, accuracy gap {res.gap(k):.3f}, loss gap "
                f"{res.loss_gap(k):.3f}" for k in res.train_accuracy]
    if name == "tuning":
        return [f"#{r + 1}: val acc {res.final_val[i]:.3f}, lr {res.lr[i]:.3g}, "
                f"weight decay {res.weight_decay[i]:.3g}"
                for r, i in enumerate(res.ranking()[:5])]
    return [repr(res)]


#: Experiment arguments that have their own option; --set refuses them, so that a
#: value is never given twice (and one of the two silently dropped).
_OWN_OPTIONS = {"seed": "--seed N", "out": "--out DIR (or --no-figure)", "data": "--data DIR"}
#: Experiment arguments that take Python objects, not values a command line can give.
_PYTHON_ONLY = {"executor": "it takes a concurrent.futures.Executor, so pass it from Python "
                            "(fastoptim.experiments.tuning(executor=...))",
                "progress": "it takes a function, so pass it from Python "
                            "(fastoptim.experiments.optimizers(progress=...))"}


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .experiments import EXPERIMENTS

    exp = EXPERIMENTS.get(args.name)
    if exp is None:
        parser.error(f"unknown experiment {args.name!r}; choose from {', '.join(EXPERIMENTS)}")
    try:
        kwargs = _parse_sets(args.set)
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))
    accepted = inspect.signature(exp.run).parameters
    own = [k for k in _OWN_OPTIONS if k in accepted]
    for key in kwargs:
        if key in _OWN_OPTIONS:
            parser.error(f"--set {key}=... is not accepted: use {_OWN_OPTIONS[key]}")
        if key in _PYTHON_ONLY and key in accepted:
            parser.error(f"--set {key}=... is not accepted: {_PYTHON_ONLY[key]}")
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        options = ", ".join(k for k in accepted if k not in _OWN_OPTIONS and k not in _PYTHON_ONLY)
        parser.error(f"{args.name} has no argument {', '.join(unknown)}; it takes {options} "
                     f"through --set, and {', '.join(own)} through "
                     f"{', '.join('--' + k for k in own)}")
    kwargs.update(seed=args.seed, out=_figure_folder(args))
    if "data" in accepted:
        kwargs["data"] = args.data
    elif args.data is not None:
        print(f"note: {args.name} uses no dataset; --data ignored", file=sys.stderr)
    start = time.perf_counter()
    res = exp(**kwargs)
    print(f"{args.name}: {exp.describe(**kwargs)}")
    if getattr(res, "dataset", None):
        print(f"  data: {res.dataset}")
    for line in _summary(args.name, res):
        print("  " + line)
    if getattr(res, "figure", None) is not None:
        print(f"figure: {res.figure}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``fastoptim`` console script; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "list":
            return _list()
        return _run(args, parser)
    except (ImportError, FileNotFoundError, UsageError) as e:
        # UsageError: an argument refused by name (a TypeError or ValueError).
        # Any other TypeError or ValueError is a bug and keeps its traceback.
        print(f"fastoptim: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
