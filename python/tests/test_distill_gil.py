"""distill equals `flowcert distill --json`; long calls release the GIL."""

from __future__ import annotations

import threading
import time

import numpy as np

import flowcert

MIX = flowcert.Mixture.builtin("two-mode-s0.3")
TINY = dict(segments=[1, 2], grids=["uniform", "balanced"], seeds=[0], width=8, depth=1,
            steps=20, samples=64, batch=32, eval_samples=64)


def test_distill_equals_cli(cli, tmp_path):
    doc = cli.json("distill", "--mixture", "builtin:two-mode-s0.3", "--segments", "1,2",
                   "--grids", "uniform,balanced", "--seeds", "1", "--width", "8", "--depth", "1",
                   "--steps", "20", "--samples", "64", "--batch", "32", "--eval-samples", "64")
    rows = flowcert.distill(MIX, name="two-mode-s0.3", as_frame=False, **TINY)
    assert rows == doc["rows"]
    assert {(r["grid"], r["segments"]) for r in rows} == {
        ("uniform", 1), ("uniform", 2), ("balanced", 1), ("balanced", 2)}


def test_distill_resumes_from_out(tmp_path):
    first = flowcert.distill(MIX, out=tmp_path / "cells", as_frame=False, **TINY)
    t0 = time.perf_counter()
    again = flowcert.distill(MIX, out=tmp_path / "cells", as_frame=False, **TINY)
    assert again == first and any((tmp_path / "cells").iterdir())
    assert time.perf_counter() - t0 < 5.0


def test_flow_releases_the_gil():
    x = np.random.default_rng(0).normal(size=(4000, 2))
    ticks = []
    done = threading.Event()

    def work():
        flowcert.flow(MIX, x, 2.0, 0.01, jacobian=True)
        done.set()

    th = threading.Thread(target=work)
    th.start()
    while not done.is_set():  # pure-Python work: runs only while the GIL is free
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    th.join()
    # a flow holding the GIL would starve this loop to one or two iterations
    assert len(ticks) > 20, len(ticks)
