#!/bin/sh
# The read-out initial-scale sweep of theory/04 ("The student's start"): the two-mode
# mixtures, every grid, N in {2, 4, 8}, 5 seeds, the full run's student budget (1000 Adam
# steps, 2 x 64 SiLU, 4096 pairs, f32). Usage: scripts/readout_sweep.sh [DIR]; then
# python3 scripts/readout_sweep.py DIR. About 5 CPU-minutes (measured: 4.9).
set -e
DIR=${1:-readout-sweep}
mkdir -p "$DIR"
BIN=${FLOWCERT:-target/release/flowcert}
for s in 1 0.3 0.1 0.03 0; do
  for m in two-mode-s0.05 two-mode-s0.1 two-mode-s0.3; do
    "$BIN" --json distill --mixture "builtin:$m" --segments 2,4,8 --seeds 5 --steps 1000 \
      --readout-scale "$s" --out "$DIR/store" > "$DIR/ro$s-$m.json"
  done
done
