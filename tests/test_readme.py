"""The README's Python example runs as written (on real data), so it never rots."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.realdata
def test_readme_python_example_runs(real_data_dir, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README has no Python example"
    monkeypatch.chdir(tmp_path)  # the example writes map.html in the working directory
    monkeypatch.setenv("COHESION_GEO_DATA", str(real_data_dir))
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example's data warnings are documented elsewhere
        exec(compile(blocks[0], str(README), "exec"), namespace)
    assert len(namespace["grid"]) == 6735
    assert set(namespace["lisa"]["lisa_cluster"]) >= {"high-high", "low-low", "not significant"}
    ranked = namespace["ranked"]
    assert sorted(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert (tmp_path / "map.html").stat().st_size > 10_000
