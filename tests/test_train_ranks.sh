#!/bin/bash
# test_train_ranks.sh: one ERASE training run on Cora (asymmetric noise 0.3) at 1, 2 and 4
# ranks (METIS partitions): the first epoch's loss within 1e-6 relative of the 1-rank run (same
# parameters: only the float summation order differs), the first 20 epochs within 5e-4, the
# final test accuracy within 0.5 points and every epoch's within 1 point.
# Issue #3 asked for 1e-4 over 20 epochs. Measured over seeds 1-4 and the default 123 (RESULTS.md,
# "Rank consistency"), the 20-epoch worst is 3e-5 .. 1.1e-4 with this code and with the code
# before it: Adam turns float noise in near-zero gradient entries into lr-sized steps (R jumps
# 250x in one step, e.g. 3e-9 -> 7.5e-7) and semantic-label argmax flips add discrete jumps, so
# 1e-4 is met by some trajectories and missed by others. The test prints the 20-epoch worst.
# A rank-dependent bug (a lost ghost row, a rank-keyed random draw) shows at epoch 1 or 2 at
# 1e-3 and more. The best-validation epoch is not compared: a one-node change of validation
# accuracy may move that argmax between rank counts (reported for information).
set -u
source "$(dirname "$0")/cora_lib.sh" ranks
for p in 1 2 4; do
  "$MPIEXEC" -n $p "$ERASE_BIN" train --data "$T/cora.h5" --epochs ${EPOCHS:-40} --noise asymm \
    --noise-ratio 0.3 --quiet 1 --log-json "$T/r$p.jsonl" > "$T/out$p" || { cat "$T/out$p"; exit 1; }
  grep -q "partition $( [ $p -eq 1 ] && echo block || echo $p ))" "$T/out$p" || { echo "np$p did not use its METIS partition"; exit 1; }
done
/usr/bin/python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
runs = {p: [json.loads(l) for l in open(f"{T}/r{p}.jsonl")] for p in (1, 2, 4)}
ok = True
for p in (2, 4):
    e1 = [o for o in runs[1] if "epoch" in o and "loss" in o][:20]
    ep = [o for o in runs[p] if "epoch" in o and "loss" in o][:20]
    worst = max(abs(a["loss"] - b["loss"]) / abs(a["loss"]) for a, b in zip(e1, ep))
    first = abs(e1[0]["loss"] - ep[0]["loss"]) / abs(e1[0]["loss"])
    a1 = [o for o in runs[1] if "epoch" in o and "loss" in o]
    ap = [o for o in runs[p] if "epoch" in o and "loss" in o]
    acc = max(abs(a["test_acc"] - b["test_acc"]) for a, b in zip(a1, ap))
    t1 = [o for o in runs[1] if "best_epoch" in o][0]
    tp = [o for o in runs[p] if "best_epoch" in o][0]
    print(f"P={p}: relative loss difference at epoch 1 {first:.2e} (bound 1e-6), max over 20 "
          f"epochs {worst:.2e} (bound 5e-4; issue #3's 1e-4 {'met' if worst < 1e-4 else 'missed'}); "
          f"test accuracy: final {ap[-1]['test_acc']:.2f} vs {a1[-1]['test_acc']:.2f} at P=1 "
          f"(bound 0.5), largest difference over {len(ap)} epochs {acc:.2f} (bound 1); best-val epoch "
          f"{tp['best_epoch']} (test {tp['test_acc']:.2f}) vs {t1['best_epoch']} "
          f"({t1['test_acc']:.2f})")
    ok &= len(ep) == 20 and len(ap) == len(a1) and first < 1e-6 and worst < 5e-4 and acc <= 1.0
    ok &= abs(ap[-1]["test_acc"] - a1[-1]["test_acc"]) <= 0.5
print("test_train_ranks:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
