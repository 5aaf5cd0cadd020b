#!/bin/bash
# test_train_bf16.sh: train --gather-precision bf16 on Cora (asymmetric noise 0.3, METIS
# partitions) at 1, 2 and 4 ranks against a float run at 1 rank, same seed, EPOCHS (30) epochs:
# every bf16 run finishes; its final and best-validation test accuracies are within 5 points of
# float's; and the bf16 runs agree across rank counts within test_train_ranks.sh's bounds (first
# epoch's loss 1e-6 relative, 20 epochs 5e-4, final test accuracy 0.5 points, every epoch's 1).
# The option's default stays float (the bitwise guard covers that path).
set -u
source "$(dirname "$0")/cora_lib.sh" bf16
train() { # name ranks precision
  "$MPIEXEC" -n $2 "$ERASE_BIN" train --data "$T/cora.h5" --epochs ${EPOCHS:-30} --noise asymm \
    --noise-ratio 0.3 --gather-precision $3 --quiet 1 --log-json "$T/$1.jsonl" \
    --out "$T/$1.h5" > "$T/$1.out" ||
    { cat "$T/$1.out"; echo "FAIL: $1"; exit 1; }
}
train f1 1 float
for p in 1 2 4; do train b$p $p bf16; done
h5dump -A "$T/b2.h5" | grep -q "gather-precision = bf16" ||
  { echo "FAIL: bf16 is not in the run's recorded config"; exit 1; }
/usr/bin/python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
def load(n):
    rows = [json.loads(l) for l in open(f"{T}/{n}.jsonl")]
    return [o for o in rows if "epoch" in o and "loss" in o], [o for o in rows if "best_epoch" in o][0]
f, fbest = load("f1")
ok = True
b = {p: load(f"b{p}") for p in (1, 2, 4)}
for p in (1, 2, 4):
    ep, best = b[p]
    d_final = abs(ep[-1]["test_acc"] - f[-1]["test_acc"])
    d_best = abs(best["test_acc"] - fbest["test_acc"])
    print(f"bf16 P={p}: final test {ep[-1]['test_acc']:.2f} vs float {f[-1]['test_acc']:.2f}, "
          f"best-val test {best['test_acc']:.2f} vs {fbest['test_acc']:.2f} (bound 5)")
    ok &= len(ep) == len(f) and d_final <= 5 and d_best <= 5
e1 = b[1][0]
for p in (2, 4):
    ep = b[p][0]
    first = abs(e1[0]["loss"] - ep[0]["loss"]) / abs(e1[0]["loss"])
    worst = max(abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(e1[:20], ep[:20]))
    acc = max(abs(x["test_acc"] - y["test_acc"]) for x, y in zip(e1, ep))
    fin = abs(ep[-1]["test_acc"] - e1[-1]["test_acc"])
    print(f"bf16 P={p} vs P=1: loss at epoch 1 {first:.2e} (bound 1e-6), over 20 epochs "
          f"{worst:.2e} (5e-4); test accuracy final {fin:.2f} (0.5), any epoch {acc:.2f} (1)")
    ok &= first < 1e-6 and worst < 5e-4 and fin <= 0.5 and acc <= 1.0
print("test_train_bf16:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
