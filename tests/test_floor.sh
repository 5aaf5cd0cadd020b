#!/bin/bash
# test_floor.sh: train --floor on Cora at 1, 2 and 4 ranks (METIS, EPOCHS epochs): rank 0
# prints one floor line; the JSON log's floor record is consistent with itself (each floor is its
# products plus its gathers, rates positive and finite, the floor used is the lower of before and
# after, the median is that of the epoch records after the first, multiple = median / floor); and
# the measurements do not touch training: every epoch's loss and accuracies are the same as in
# the run without --floor, bit for bit.
set -u
source "$(dirname "$0")/cora_lib.sh" floor
train() { # name ranks [--floor]
  "$MPIEXEC" -n $2 "$ERASE_BIN" train --data "$T/cora.h5" --epochs ${EPOCHS:-6} --noise asymm \
    --noise-ratio 0.3 --quiet 1 --log-json "$T/$1.jsonl" ${3:-} > "$T/$1.out" 2>&1 ||
    { cat "$T/$1.out"; echo "FAIL: $1"; exit 1; }
}
for p in 1 2 4; do
  train plain$p $p
  train floor$p $p --floor
  n=$(grep -c '^floor: ' "$T/floor$p.out")
  [ "$n" -eq 1 ] || { cat "$T/floor$p.out"; echo "FAIL: $p ranks printed $n floor lines, not 1"; exit 1; }
  ! grep -q '^floor: ' "$T/plain$p.out" || { echo "FAIL: a floor line without --floor"; exit 1; }
done
/usr/bin/python3 - "$T" <<'PY'
import json, math, statistics, sys
T = sys.argv[1]
ok = True
def fail(msg):
    global ok
    ok = False
    print("FAIL:", msg)
for p in (1, 2, 4):
    rows = [json.loads(l) for l in open(f"{T}/floor{p}.jsonl")]
    plain = [json.loads(l) for l in open(f"{T}/plain{p}.jsonl")]
    fl = [o["floor"] for o in rows if "floor" in o]
    if len(fl) != 1:
        fail(f"P={p}: {len(fl)} floor records"); continue
    fl = fl[0]
    for w in ("before", "after"):
        f = fl[w]
        for k in ("sgemm_gfs", "gather_gbs", "gemm_s", "gather_s", "floor_s"):
            if not (math.isfinite(f[k]) and f[k] > 0): fail(f"P={p} {w}.{k} = {f[k]}")
        if abs(f["gemm_s"] + f["gather_s"] - f["floor_s"]) > 1e-9 * f["floor_s"]:
            fail(f"P={p} {w}: floor {f['floor_s']} is not products {f['gemm_s']} + gathers "
                 f"{f['gather_s']}")
        if not 0.1 < f["sgemm_gfs"] < 1e5: fail(f"P={p} {w}: sgemm {f['sgemm_gfs']} GF/s")
    lower = min(fl["before"]["floor_s"], fl["after"]["floor_s"])
    if fl["floor_s"] != lower: fail(f"P={p}: floor used {fl['floor_s']}, the lower is {lower}")
    ep = [o for o in rows if "phases" in o]
    med = statistics.median(o["compute_s"] + o["comm_s"] for o in ep[1:])
    if fl["epochs"] != len(ep) - 1: fail(f"P={p}: {fl['epochs']} epochs, log has {len(ep)} - 1")
    if abs(fl["epoch_median_s"] - med) > 1e-9 * med:
        fail(f"P={p}: median {fl['epoch_median_s']} against the log's {med}")
    if abs(fl["multiple"] - med / lower) > 1e-9 * fl["multiple"]:
        fail(f"P={p}: multiple {fl['multiple']} is not {med} / {lower}")
    keys = ("loss", "train_acc", "val_acc", "test_acc")
    a = [tuple(o.get(k) for k in keys) for o in rows if "epoch" in o and "loss" in o]
    b = [tuple(o.get(k) for k in keys) for o in plain if "epoch" in o and "loss" in o]
    if not a or a != b: fail(f"P={p}: the epochs with --floor differ from those without")
    print(f"P={p}: floor {fl['before']['floor_s']:.4f} / {fl['after']['floor_s']:.4f} s, "
          f"median epoch {med:.4f} s = {fl['multiple']:.2f}x; {len(a)} epochs as without --floor")
print("test_floor:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
