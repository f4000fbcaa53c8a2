"""Shared fixtures: the command-line binary the Python results are compared with."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from typing import Any, List

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _binary() -> pathlib.Path:
    env = os.environ.get("FLOWCERT_BIN")
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "flowcert"
        if p.exists():
            return p
    pytest.skip("no flowcert binary: run `cargo build --release` or set FLOWCERT_BIN")


class Cli:
    """Runs `flowcert ... --json` and parses its document."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def run(self, *args: str, status: int = 0) -> subprocess.CompletedProcess:
        r = subprocess.run([str(self.path), *args], capture_output=True, text=True)
        assert r.returncode == status, r.stderr
        return r

    def json(self, *args: str, status: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", status=status).stdout)

    def error(self, *args: str) -> str:
        """The message of a refused command (exit status 2), without `error: `."""
        r = self.run(*args, status=2)
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith("error: "), r.stderr
        return line[len("error: "):]


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(_binary())


def write_points(tmp_path: pathlib.Path, x: np.ndarray, name: str = "points.json") -> str:
    """A points file the CLI reads exactly (JSON numbers round-trip float64)."""
    p = tmp_path / name
    p.write_text(json.dumps(np.asarray(x).tolist()))
    return str(p)


def column(doc_points: List[dict], key: str) -> np.ndarray:
    return np.array([p[key] for p in doc_points], dtype=np.float64)
