"""The README's Python example runs as written."""

from __future__ import annotations

import contextlib
import io
import re

from conftest import ROOT


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- python-example[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "README.md has no python-example block"
    code = m.group(1)
    assert len(code.strip().splitlines()) <= 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue()
    assert "modes reached: [-1.  1.]" in printed, printed
    assert "sup_t L2 error of the model:" in printed
