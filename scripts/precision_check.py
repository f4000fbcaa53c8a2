#!/usr/bin/env python3
"""f32 against f64 students (theory/04, "Precision of the students"): the same cells
trained in f32 (the default) and f64, paired by (grid, N, seed).

Input: two `flowcert --json distill` outputs of the same plan, one per --precision, e.g.
  flowcert distill --mixture builtin:two-mode-s0.3 --segments 1,2,4,8 \
      --grids uniform,balanced,balanced-paper,logsnr,edm --seeds 5 --precision f32 --json > f32.json
  (the same with --precision f64 > f64.json)
Output (stdout, Markdown): the geometric mean of MSE_f64 / MSE_f32 over the cells with a
95% normal interval, the largest |ln ratio|, the median seed spread (sd over seeds of
ln MSE per grid and N), and per grid and N > 1 the paired reduction against uniform
(1 - exp(mean ln ratio), 95% Student-t interval over seeds) in both precisions.
Usage: python3 scripts/precision_check.py f32.json f64.json
"""
import json, math, statistics as st, sys
from collections import defaultdict

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def rows(path):
    return {(r["grid"], r["segments"], r["seed"]): r["rel_mse"] for r in json.load(open(path))["rows"]}


def reduction(rs, g, n, seeds):
    l = [math.log(rs[(g, n, s)] / rs[("uniform", n, s)]) for s in seeds]
    m, h = st.mean(l), T975.get(len(l) - 1, 1.96) * st.stdev(l) / math.sqrt(len(l))
    return f"{100 * (1 - math.exp(m)):.1f}% [{100 * (1 - math.exp(m + h)):.1f}, {100 * (1 - math.exp(m - h)):.1f}]"


def main(fa, fb):
    a, b = rows(fa), rows(fb)
    keys = sorted(k for k in a if k in b)
    logs = [math.log(b[k] / a[k]) for k in keys]
    m, s = st.mean(logs), st.stdev(logs)
    h = 1.96 * s / math.sqrt(len(logs))
    spread = defaultdict(list)
    for k in keys:
        spread[k[:2]].append(math.log(a[k]))
    sds = [st.stdev(v) for g, v in spread.items() if g[1] > 1]
    print(f"cells {len(keys)}; MSE f64/f32 geometric mean {math.exp(m):.4f} "
          f"[{math.exp(m - h):.4f}, {math.exp(m + h):.4f}]; largest |ln ratio| {max(map(abs, logs)):.4f}; "
          f"median sd over seeds of ln MSE {st.median(sds):.3f}\n")
    print("| grid | N | f32: reduction vs uniform [95%] | f64: reduction vs uniform [95%] |")
    print("|---|--:|--:|--:|")
    seeds = sorted({k[2] for k in keys})
    for g, n in sorted({k[:2] for k in keys if k[0] != "uniform" and k[1] > 1}, key=lambda x: (x[1], x[0])):
        print(f"| {g} | {n} | {reduction(a, g, n, seeds)} | {reduction(b, g, n, seeds)} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
