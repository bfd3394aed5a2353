"""The README's Python examples run as written; the Markdown files' links resolve."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKDOWN = [README, ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _python_blocks():
    text = README.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_examples():
    assert len(_python_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_example_runs(index):
    code = _python_blocks()[index]
    exec(compile(code, f"README.md example {index}", "exec"), {"__name__": "readme_example"})


def _relative_links(text):
    """Targets of inline links and images, ``[text](target)`` / ``![alt](target)``,
    that are files of this repository (not URLs or in-page anchors)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.I) or target.startswith("#"):
            continue
        yield target.split("#", 1)[0]


def test_relative_link_finder():
    text = ("[a](docs/x.md) ![b](figures/y.png#top) [c](https://e.org/z) [d](#here) "
            "[e](e.md \"title\")\n```\n[f](in/code.md)\n```\n")
    assert list(_relative_links(text)) == ["docs/x.md", "figures/y.png", "e.md"]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    links = list(_relative_links(path.read_text(encoding="utf-8")))
    missing = [t for t in links if not (path.parent / t).exists()]
    assert not missing, f"{path.relative_to(ROOT)} links to missing files: {missing}"
