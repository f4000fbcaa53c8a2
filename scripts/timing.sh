#!/usr/bin/env bash
# Re-measure the run times documented in src/suite/timing.rs and README.md ("Measured run
# times") and compare them with the documented figures. Not part of `cargo test` (timings
# are never asserted in tests); run it on an otherwise idle machine:
#
#   scripts/timing.sh            # check and reproduce --scale tiny and quick
#   scripts/timing.sh full       # also the full reproduce (about 7.5 minutes idle)
#
# Prints, per command, the measured seconds, the documented figure and their ratio; a ratio
# outside [0.5, 2] means the documentation has drifted: update timing.rs and README together.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/flowcert
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

documented() { # command text -> seconds, from src/suite/timing.rs
  python3 - "$1" <<'PY'
import re, sys
src = open("src/suite/timing.rs").read()
for block in re.findall(r"Measured \{(.*?)\}", src, re.S):
    cmd = re.search(r'command: "([^"]+)"', block).group(1)
    secs = float(re.search(r"seconds: ([0-9.]+)", block).group(1))
    if cmd == sys.argv[1]:
        print(secs)
PY
}

measure() { # label, command...
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  t1=$(date +%s.%N)
  python3 - "$label" "$t0" "$t1" "$(documented "$label")" <<'PY'
import sys
label, t0, t1, doc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = t1 - t0
flag = "" if 0.5 <= s / doc <= 2 else "   <- drifted: update src/suite/timing.rs and README"
print(f"{label:40s} {s:8.1f} s   documented {doc:7.0f} s   ratio {s / doc:5.2f}{flag}")
PY
}

echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
measure "flowcert check" "$bin" check
measure "flowcert reproduce --scale tiny" "$bin" reproduce --scale tiny --out "$out/tiny"
measure "flowcert reproduce --quick" "$bin" reproduce --quick --out "$out/quick"
if [[ "${1:-}" == "full" ]]; then
  measure "flowcert reproduce" "$bin" reproduce --out "$out/full"
fi
# Per-section seconds of the quick run, from its run.json.
python3 -c "
import json; r = json.load(open('$out/quick/run.json'))
print('quick run sections:', ', '.join(f\"{s['name']} {s['seconds']:.1f} s\" for s in r['sections']))"
