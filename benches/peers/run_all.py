#!/usr/bin/env python3
"""Each flowcert figure against its peer, measured back to back, with ratios.

Figures (see benches/peers/README.md for what each means):

  teacher  `flowcert flow --method dop853`, whole process (start-up, parsing, JSON output),
           against diffrax Dopri8 + PIDController (jit + vmap, compile excluded), on 2,000 and
           100,000 samples of p_T of builtin:two-mode-s0.1, T = 2.5 -> 0.01. Both solvers'
           errors are measured against one reference (flowcert DOP853 at rtol = atol = 1e-14,
           cross-checked against DOPRI5 at 1e-14, both in t), and besides the equal-tolerance
           ratio equal-accuracy ratios are given: flowcert at the loosest tolerance of its
           sweep at which its max error (then its max and its median error) is at most
           diffrax's at 1e-10, and diffrax loosened as far as both its errors stay at most
           flowcert's at 1e-10. The timed flowcert runs use `--clock log-snr` (the same flow
           map integrated in the log-SNR; `--clock t` for the old figures).
  scipy    the same teacher with SciPy solve_ivp DOP853 one trajectory at a time (per
           trajectory, against flowcert's whole-process time per trajectory).
  student  `examples/student_throughput.rs` against `benches/peers/optax_student.py`:
           training steps/s of a residual MLP 2 x 64 SiLU, batch 256, Adam, d = 2 and 8, on
           1 and 2 threads (skipped with a message when either program is missing). On T
           threads flowcert trains T independent students (aggregate steps/s); its peers are
           one optax student on T threads and, for T > 1, T students vmapped on T threads.

Runs are interleaved (flowcert, peer, flowcert, peer, ...) and medians of --reps
repetitions are reported; the machine's load is printed, since a shared machine skews
single figures (ratios of interleaved medians much less).

Usage:
    python3 benches/peers/run_all.py [--quick] [--reps 3] [--only teacher,scipy,student]
        [--flowcert target/release/flowcert] [--json-out results.json]
Needs: a release build (built here if missing), pip install jax diffrax optax numpy scipy.
"""
import argparse
import json
import os
import platform
import statistics
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peer_io import load_points

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "benches" / "peers"
MIX = "builtin:two-mode-s0.1"
T_FROM, T_TO = 2.5, 0.01
# flowcert tolerances tried when matching accuracy (loosest first), and diffrax's.
FLOW_TOLS = [3e-10, 2e-10, 1e-10, 7e-11, 5e-11, 3e-11, 2e-11, 1e-11, 5e-12, 2e-12, 1e-12, 5e-13]
DIFFRAX_TOLS = [1e-10, 2e-10, 3e-10, 1e-9, 3e-9, 1e-8]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, stdout=None, env=None):
    """Run `cmd`; return (wall seconds, stdout text if not redirected)."""
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, cwd=ROOT, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stderr}")
    return dt, (r.stdout if stdout is None else None)


def run_cpu(cmd, stdout):
    """Run `cmd` with stdout to a file; return (wall seconds, CPU seconds of the child:
    user + system over all its threads, from getrusage). CPU time hardly depends on what
    else runs on the machine, so its ratio is the figure to trust on a loaded machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    dt, _ = run(cmd, stdout=stdout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dt, cpu


def last_json_line(text):
    lines = [l for l in text.splitlines() if l.strip().startswith("{")]
    if not lines:
        sys.exit(f"no JSON line in output:\n{text}")
    return json.loads(lines[-1])


def errors(path, ref):
    import numpy as np
    e = np.linalg.norm(load_points(path) - ref, axis=1)
    return float(e.max()), float(np.median(e))


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load_1min": os.getloadavg()[0],
            "python": platform.python_version()}


class Teacher:
    def __init__(self, a, work):
        self.a, self.work, self.bin = a, work, a.flowcert

    def flow_cmd(self, points, tol, method="dop853", clock=None):
        """`clock`: None for the timed runs (--clock of this script), "t" for the reference."""
        return [self.bin, "flow", "--json", "--mixture", MIX, "--from", str(T_FROM), "--to",
                str(T_TO), "--points", str(points), "--method", method, "--rtol", str(tol),
                "--atol", str(tol), "--clock", clock or self.a.clock]

    def flowcert(self, points, tol, out):
        with open(out, "w") as f:
            return run_cpu(self.flow_cmd(points, tol), stdout=f)

    def diffrax(self, points, tol, ref_path, inner_reps):
        _, text = run([sys.executable, str(PEERS / "diffrax_teacher.py"), "--points", str(points),
                       "--reference", str(ref_path), "--rtol", str(tol), "--atol", str(tol),
                       "--reps", str(inner_reps)])
        return last_json_line(text)

    def setup(self, n):
        points = self.work / f"p{n}.csv"
        run([self.bin, "sample", "--mixture", MIX, "--t", str(T_FROM), "--n", str(n), "--seed", "1",
             "--out", str(points)])
        ref_path = self.work / f"ref{n}.json"
        with open(ref_path, "w") as f:
            run(self.flow_cmd(points, 1e-14, clock="t"), stdout=f)
        check = self.work / f"ref{n}_dopri5.json"
        with open(check, "w") as f:
            run(self.flow_cmd(points, 1e-14, method="dopri5", clock="t"), stdout=f)
        ref = load_points(ref_path)
        cross = errors(check, ref)
        log(f"  reference ({n}): DOP853 at 1e-14; DOPRI5 at 1e-14 differs by max {cross[0]:.2e}, "
            f"median {cross[1]:.2e}")
        return points, ref_path, ref, cross

    def measure(self, n, flow_tols, diffrax_tols, reps, inner_reps):
        """Interleaved timings; returns {("flowcert"|"diffrax", tol): record}."""
        points, ref_path, ref, cross = self.setup(n)
        rec = {}
        for rep in range(reps):
            for i in range(max(len(flow_tols), len(diffrax_tols))):
                if i < len(flow_tols):
                    tol = flow_tols[i]
                    out = self.work / f"flow{n}_{tol}.json"
                    dt, cpu = self.flowcert(points, tol, out)
                    r = rec.setdefault(("flowcert", tol), {"times": [], "cpu": []})
                    r["times"].append(dt)
                    r["cpu"].append(cpu)
                    if "err_max" not in r:
                        r["err_max"], r["err_median"] = errors(out, ref)
                if i < len(diffrax_tols):
                    tol = diffrax_tols[i]
                    d = self.diffrax(points, tol, ref_path, inner_reps)
                    r = rec.setdefault(("diffrax", tol), {"times": [], "cpu": [], "compile_s": []})
                    r["times"].append(d["seconds"])
                    r["cpu"].append(d["cpu_seconds"])
                    r["compile_s"].append(d["compile_and_first_s"])
                    r.update(err_max=d["err_max"], err_median=d["err_median"],
                             versions=d.get("versions"))
            log(f"  n = {n}: repetition {rep + 1}/{reps} done")
        for r in rec.values():
            r["median_s"] = statistics.median(r["times"])
            r["min_s"] = min(r["times"])
            r["min_cpu_s"] = min(r["cpu"])
        return rec, cross

    @staticmethod
    def as_accurate(r, target, median=True):
        """At most target's max error (and, with `median`, its median error)."""
        return r["err_max"] <= target["err_max"] and (
            not median or r["err_median"] <= target["err_median"])

    def compare(self, n, rec):
        """Rows: equal tolerance; flowcert matched to diffrax's max error, then to its
        max and median error; diffrax loosened as far as both its errors stay within
        flowcert's. Returns the rows and the tolerances used."""
        f0, d0 = rec[("flowcert", 1e-10)], rec[("diffrax", 1e-10)]
        rows = [(f"teacher, n = {n}, equal tolerance", 1e-10, f0, 1e-10, d0)]
        fl = sorted([t for (s, t) in rec if s == "flowcert"], reverse=True)
        tight = {}
        for median, what in ((False, "max error"), (True, "max and median error")):
            t = next((t for t in fl if self.as_accurate(rec[("flowcert", t)], d0, median)), None)
            tight[median] = t
            if t is not None:
                rows.append((f"teacher, n = {n}, flowcert at diffrax's {what}", t,
                             rec[("flowcert", t)], 1e-10, d0))
        dl = sorted([t for (s, t) in rec if s == "diffrax"])
        loose = [t for t in dl if self.as_accurate(rec[("diffrax", t)], f0)]
        if loose:
            t = max(loose)
            rows.append((f"teacher, n = {n}, diffrax loosened to flowcert's max and median error",
                         1e-10, f0, t, rec[("diffrax", t)]))
        return rows, [t for t in tight.values() if t is not None], (max(loose) if loose else None)


def teacher_section(a, work):
    t = Teacher(a, work)
    rows, records = [], {}
    log("teacher: n = 2000, tolerance sweep")
    rec, cross = t.measure(2000, FLOW_TOLS, DIFFRAX_TOLS, a.reps, 3)
    r2, tight, loose = t.compare(2000, rec)
    rows += r2
    records[2000] = {"reference_crosscheck": cross, "runs": rec}
    if not a.quick:
        # The max error grows with n (more trajectories near the separatrix of the two
        # modes, where the flow amplifies local errors), so flowcert's sweep is redone.
        ft = sorted({3e-10, 2e-10, 1e-10, 5e-11, 2e-11, 1e-11, 5e-12, 2e-12, 1e-12} | set(tight), reverse=True)
        dt = sorted({1e-10} | ({loose} if loose else set()))
        log(f"teacher: n = 100000, flowcert at {ft}, diffrax at {dt}")
        rec, cross = t.measure(100000, ft, dt, max(1, a.reps - 1), 2)
        rows += t.compare(100000, rec)[0]
        records[100000] = {"reference_crosscheck": cross, "runs": rec}
    return rows, records


def scipy_section(a, work, flow_2000_s):
    points = work / "p2000.csv"
    ref = work / "ref2000.json"
    n = 20 if a.quick else 100
    _, text = run([sys.executable, str(PEERS / "scipy_teacher.py"), "--points", str(points),
                   "--limit", str(n), "--reference", str(ref), "--json"])
    s = last_json_line(text)
    per_flow = flow_2000_s / 2000
    return {"scipy_per_trajectory_s": s["per_trajectory_s"], "n": n,
            "flowcert_per_trajectory_s": per_flow, "ratio": s["per_trajectory_s"] / per_flow,
            "err_max": s.get("err_max"), "err_median": s.get("err_median")}


def student_section(a):
    example = ROOT / "examples" / "student_throughput.rs"
    peer = PEERS / "optax_student.py"
    missing = [str(p.relative_to(ROOT)) for p in (example, peer) if not p.exists()]
    if missing:
        log(f"student: skipped, not in this checkout yet: {', '.join(missing)}")
        return None
    run(["cargo", "build", "--release", "--example", "student_throughput"])
    exe = ROOT / "target" / "release" / "examples" / "student_throughput"
    steps = 300 if a.quick else 2000
    out = []
    for precision in a.precisions.split(","):
        for dim in (2, 8):
            for threads in (1, 2):
                args = ["--dim", str(dim), "--width", "64", "--depth", "2", "--batch", "256",
                        "--steps", str(steps), "--threads", str(threads), "--precision", precision]
                # flowcert with T threads trains T independent students (one per core, as
                # the distillation experiment does); its peers on T threads: one student
                # (XLA's intra-op threads) and, for T > 1, T students vmapped (the same work)
                peers = [("optax", ["--students", "1"])]
                if threads > 1:
                    peers.append(("optax vmapped", ["--students", str(threads)]))
                fc, px = [], {name: [] for name, _ in peers}
                for _ in range(a.reps):
                    fc.append(last_json_line(run([str(exe)] + args)[1])["steps_per_s"])
                    for name, extra in peers:
                        text = run([sys.executable, str(peer)] + args + extra)[1]
                        px[name].append(last_json_line(text)["steps_per_s"])
                f = statistics.median(fc)
                for name, _ in peers:
                    p = statistics.median(px[name])
                    students = threads if name == "optax vmapped" else 1
                    out.append({"dim": dim, "threads": threads, "precision": precision,
                                "flowcert_students": threads, "peer_students": students,
                                "flowcert_steps_per_s": f, "optax_steps_per_s": p,
                                "ratio": f / p, "best_ratio": max(fc) / max(px[name])})
                    log(f"student d = {dim}, {threads} thread(s), {precision}: {f:.0f} vs "
                        f"{p:.0f} steps/s ({name}, {students} student(s))")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="2,000 trajectories only, fewer steps")
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions (medians)")
    p.add_argument("--only", default="teacher,scipy,student")
    p.add_argument("--precisions", default="f64", help="student precisions, e.g. f64,f32")
    p.add_argument("--clock", default="log-snr", choices=["t", "log-snr"],
                   help="flowcert flow --clock of the timed runs (the reference is always t)")
    p.add_argument("--flowcert", default=str(ROOT / "target" / "release" / "flowcert"))
    p.add_argument("--json-out", help="also write every measurement to this file")
    a = p.parse_args()
    only = set(a.only.split(","))
    if not Path(a.flowcert).exists():
        log("building flowcert (cargo build --release)")
        run(["cargo", "build", "--release"])
    info = machine()
    log(f"machine: {info}")
    results = {"machine": info}
    table = []
    with tempfile.TemporaryDirectory(prefix="flowcert-peers-") as tmp:
        work = Path(tmp)
        if "teacher" in only or "scipy" in only:
            rows, records = teacher_section(a, work)
            results["teacher"] = {str(n): {"reference_crosscheck": r["reference_crosscheck"],
                                           "runs": {f"{s} {t:g}": v for (s, t), v in r["runs"].items()}}
                                  for n, r in records.items()}
            for name, ftol, f, dtol, d in rows:
                table.append((name, f"{f['median_s']:.3f} s (best {f['min_s']:.3f}) at {ftol:g} "
                              f"(err max {f['err_max']:.1e}, median {f['err_median']:.1e})",
                              f"{d['median_s']:.3f} s (best {d['min_s']:.3f}) at {dtol:g} "
                              f"(err max {d['err_max']:.1e}, median {d['err_median']:.1e}; "
                              f"compile+first {statistics.median(d['compile_s']):.1f} s)",
                              d["median_s"] / f["median_s"], d["min_s"] / f["min_s"],
                              f"{f['min_cpu_s']:.3f} / {d['min_cpu_s']:.3f} s = "
                              f"{d['min_cpu_s'] / f['min_cpu_s']:.2f}x"))
            if "scipy" in only:
                f2000 = records[2000]["runs"][("flowcert", 1e-10)]["median_s"]
                s = scipy_section(a, work, f2000)
                results["scipy"] = s
                table.append(("teacher per trajectory vs SciPy solve_ivp DOP853 (1e-10)",
                              f"{1e6 * s['flowcert_per_trajectory_s']:.1f} us",
                              f"{1e3 * s['scipy_per_trajectory_s']:.1f} ms ({s['n']} trajectories)",
                              s["ratio"], None, ""))
        if "student" in only:
            st = student_section(a)
            results["student"] = st
            for r in st or []:
                t, ps = r["threads"], r["peer_students"]
                table.append((f"student steps/s, d = {r['dim']}, {t} thread(s), {r['precision']}",
                              f"{r['flowcert_steps_per_s']:.0f} ({t} student(s), aggregate)",
                              f"{r['optax_steps_per_s']:.0f} (JAX + optax, jit, {ps} student(s)"
                              f"{' vmapped' if ps > 1 else ''}, aggregate)",
                              r["ratio"], r["best_ratio"], ""))
    results["load_1min_after"] = os.getloadavg()[0]
    print(f"\nmachine: {info['cpu']}, {info['cores']} cores, load {info['load_1min']:.1f} before / "
          f"{results['load_1min_after']:.1f} after; medians of {a.reps} interleaved repetitions\n")
    print("| figure | flowcert | peer | flowcert speed-up: medians (best times) "
          "| best CPU seconds, flowcert / peer = speed-up |")
    print("|---|---|---|---|---|")
    for name, f, p_, r, rmin, cpu in table:
        best = f" ({rmin:.2f}x)" if rmin else ""
        print(f"| {name} | {f} | {p_} | {r:.2f}x{best} | {cpu} |")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()
