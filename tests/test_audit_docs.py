"""The README's command-line example runs as written and prints the figures the README reports."""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path

from cohesion_geo.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_cli_example_reproduces_the_lille_figures(real_data_dir, tmp_path, capsys):
    text = README.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "cohesion-geo delineate" in b)
    commands = [c for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    assert [c.split()[1] for c in commands] == ["delineate", "evaluate"]
    for c in commands:
        c = c.replace("../shared/data", str(real_data_dir)).replace("out/", f"{tmp_path}/")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert main(shlex.split(c)[1:]) == 0
    printed = capsys.readouterr().out
    claimed = re.search(r"The evaluation prints `([^`]+)`", text).group(1)
    assert claimed == "recall 0.851  precision 0.680  F1 0.756  half covered 23/26 (88%)"
    assert claimed in printed
    # the same figures as the default rule's row of the calibration table
    assert re.search(r"\| \*\*default\*\* [^|]*\| 0\.851 \| 0\.680 \| \*\*0\.756\*\* \| \*\*88 %\*\* \|", text)
