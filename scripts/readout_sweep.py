#!/usr/bin/env python3
"""Summarise the read-out initial-scale sweep (theory/04, "The student's start").

Input: the `flowcert --json distill` outputs written by scripts/readout_sweep.sh, named
ro{SCALE}-{MIXTURE}.json in DIR. Output (stdout, Markdown): per scale the geometric-mean
relative MSE against scale 1 (paired by mixture, grid, N and seed) with a 95% Student-t
interval over seeds, and per mixture and N the mean relative MSE per grid with its 95%
interval, the balanced-vs-uniform paired reduction and the best grid; per scale and mixture
the local-error law eps_i ~ (Delta Lambda_i)^b fitted by least squares in logs over the
distinct (seed, segment) pairs, with the correlation of the logs.
Usage: python3 scripts/readout_sweep.py DIR
       python3 scripts/readout_sweep.py --law reproduce-out/summary.json
(the second: only the local-error law, over the distill_rows of a reproduce run, every N)
"""
import glob, json, math, os, re, sys
from collections import defaultdict

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def ci(xs):
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, m, m
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    h = T975.get(n - 1, 1.96) * sd / math.sqrt(n)
    return m, m - h, m + h


def main(d):
    rows = defaultdict(dict)  # scale -> (mix, grid, N, seed) -> rel_mse
    for f in glob.glob(os.path.join(d, "ro*.json")):
        if os.path.getsize(f) == 0:
            continue
        scale = float(re.match(r"ro([0-9.]+)-", os.path.basename(f)).group(1))
        for r in json.load(open(f))["rows"]:
            rows[scale][(r["mixture"], r["grid"], r["segments"], r["seed"])] = r["rel_mse"]
    scales = sorted(rows, reverse=True)
    base = rows[1.0]
    print("| read-out scale | geometric-mean rel. MSE / scale 1 | 95% interval (over seeds) | cells |")
    print("|---:|---:|---:|---:|")
    for s in scales:
        per_seed = defaultdict(list)
        for k, v in rows[s].items():
            if k in base:
                per_seed[k[3]].append(math.log(v / base[k]))
        logs = [sum(v) / len(v) for v in per_seed.values()]
        m, lo, hi = ci(logs)
        print(f"| {s:g} | {math.exp(m):.3f} | [{math.exp(lo):.3f}, {math.exp(hi):.3f}] | {len(rows[s])} |")
    mixes = sorted({k[0] for k in base})
    ns = sorted({k[2] for k in base})
    grids = sorted({k[1] for k in base})
    grids = [g for g in grids if g != "balanced-one-sided"]
    for mix in mixes:
        for n in ns:
            print(f"\n{mix}, N = {n}: mean relative MSE over seeds [95% interval]; balanced vs uniform (paired); best grid\n")
            print("| scale | " + " | ".join(grids) + " | balanced vs uniform | best |")
            print("|---:|" + "---:|" * len(grids) + "---:|---|")
            for s in scales:
                cells = []
                means = {}
                for g in grids:
                    xs = [v for k, v in rows[s].items() if k[0] == mix and k[1] == g and k[2] == n]
                    m, lo, hi = ci(xs)
                    means[g] = m
                    cells.append(f"{m:.3g} [{lo:.3g}, {hi:.3g}]")
                red = []
                for seed in sorted({k[3] for k in rows[s]}):
                    u = rows[s].get((mix, "uniform", n, seed))
                    b = rows[s].get((mix, "balanced", n, seed))
                    if u and b:
                        red.append(1 - b / u)
                m, lo, hi = ci(red)
                best = min(means, key=means.get)
                print(f"| {s:g} | " + " | ".join(cells) + f" | {100*m:.1f}% [{100*lo:.1f}, {100*hi:.1f}] | {best} |")


def local_law(d):
    """b and the log-log correlation of eps_i against Delta Lambda_i, per scale and mixture."""
    pts = defaultdict(dict)
    if d.endswith(".json"):  # a reproduce summary: its default scale
        sources = [(0.03, json.load(open(d))["distill_rows"])]
    else:
        sources = []
        for f in glob.glob(os.path.join(d, "ro*.json")):
            if os.path.getsize(f) == 0:
                continue
            scale = float(re.match(r"ro([0-9.]+)-", os.path.basename(f)).group(1))
            sources.append((scale, json.load(open(f))["rows"]))
    for scale, rows in sources:
        for r in rows:
            t, lam, eps = r["times"], r["lambda"], r["local_errors"]
            for i in range(1, len(t)):
                dl = lam[i] - lam[i - 1]
                if dl > 0 and eps[i - 1] > 0:
                    pts[(scale, r["mixture"])][(r["seed"], t[i], t[i - 1])] = (dl, eps[i - 1])
    print("\n| read-out scale | mixture | b | correlation (logs) | segments |")
    print("|---:|---|---:|---:|---:|")
    for (scale, mix), v in sorted(pts.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        xs = [math.log(a) for a, _ in v.values()]
        ys = [math.log(b) for _, b in v.values()]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        syy = sum((y - my) ** 2 for y in ys)
        sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
        print(f"| {scale:g} | {mix} | {sxy / sxx:.2f} | {sxy / math.sqrt(sxx * syy):.2f} | {n} |")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--law":
        local_law(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else ".")
        local_law(sys.argv[1] if len(sys.argv) > 1 else ".")
