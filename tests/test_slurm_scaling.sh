#!/usr/bin/env bash
# test_slurm_scaling.sh: jobs/collect_scaling.py on hand-made logs (exact medians, warm-up skip,
# repeated epochs of a resumed run, errors), then jobs/submit_scaling.sh strong and weak studies
# at 1, 2, 4 tasks on a private Slurm, checked through scaling.csv and scaling.png.
# It does not judge the timings themselves (2 oversubscribed cores); skips without Slurm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/slurm_lib.sh
. "$here/slurm_lib.sh"
: "${ERASE_BIN:?ERASE_BIN must name the erase-mpi binary}"
jobs=$(cd "$here/../jobs" && pwd)
py=/usr/bin/python3
t_test=$EPOCHREALTIME
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok [$(slurm_elapsed "$t_test") s]: $*"; }

# is_png FILE: the PNG signature and an IHDR of a non-empty image
is_png() {
  "$py" - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read(24)
w, h = struct.unpack(">II", b[16:24]) if len(b) == 24 else (0, 0)
sys.exit(0 if b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR" and w > 0 and h > 0 else 1)
EOF
}

# ---- 1. the collector on synthetic logs: numbers known exactly --------------------------------
syn=$(mktemp -d /tmp/er-collect.XXXXXX)
trap 'rm -rf "$syn"' EXIT
mkdir "$syn/s" "$syn/bad"
# rP.log.json: epochs 1..5 (epochs 1-2 slow = warm-up), compute c and comm m per epoch
mklog() { # mklog FILE C1 C2 C3 C4 C5 M (comm m on every epoch)
  local f=$1 m=$7 e
  shift
  : >"$f"
  for e in 1 2 3 4 5; do
    echo "{\"run\":0,\"epoch\":$e,\"loss\":-1,\"compute_s\":$1,\"comm_s\":$m,\"phases\":{}}" >>"$f"
    shift
  done
  echo '{"run":0,"best_epoch":3,"val_acc":50,"test_acc":40}' >>"$f"
  echo '{"test_mean":40,"test_std":0,"runs":1}' >>"$f"
}
mklog "$syn/s/r1.log.json" 9 9 0.8 1.0 1.2 0      # median of epochs 3-5: 1.0 s
mklog "$syn/s/r2.log.json" 9 9 0.4 0.5 0.9 0.1    # 0.5 + 0.1 = 0.6 s
mklog "$syn/s/r4.log.json" 9 9 0.2 0.3 0.2 0.2    # 0.2 + 0.2 = 0.4 s
# a resumed run logs epoch 4 twice: the later record counts (0.25 instead of 5)
sed -i 's/"epoch":4,"loss":-1,"compute_s":0.3/"epoch":4,"loss":-1,"compute_s":5/' "$syn/s/r4.log.json"
echo '{"run":0,"epoch":4,"loss":-1,"compute_s":0.25,"comm_s":0.2,"phases":{}}' >>"$syn/s/r4.log.json"
printf 'train-job: job 7 on n[1-2] (2 hosts), 4 tasks, restart 0, x\n%s\n' \
  'train: /d.h5 N=5000 E=20000 F=8 K=2 on 4 ranks (partition 4), 10 params, setup 0.1 s' \
  >"$syn/s/r4.out"
echo '{"mode": "strong", "ranks": [1, 2, 4]}' >"$syn/s/study.json"
out=$("$py" "$jobs/collect_scaling.py" "$syn/s" 2>&1) || fail "collector on synthetic logs: $out"
"$py" - "$syn/s/scaling.csv" <<'EOF' || fail "synthetic scaling.csv is wrong: $(cat "$syn/s/scaling.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
want = [  # ranks, hosts, nodes, epoch_s, comm_s, speedup, efficiency
    (1, 1, "", 1.0, 0.0, 1.0, 1.0),
    (2, 1, "", 0.6, 0.1, 1 / 0.6, 1 / 0.6 / 2),
    (4, 2, "5000", 0.4, 0.2, 1 / 0.4, 1 / 0.4 / 4),  # epochs 3-5: 0.4, 0.45 (resumed), 0.4
]
assert len(rows) == 3, rows
for r, (p, h, n, t, m, s, e) in zip(rows, want):
    assert r["mode"] == "strong" and int(r["ranks"]) == p and int(r["hosts"]) == h, r
    assert r["nodes"] == n and int(r["epochs_timed"]) == 3 and float(r["test_acc"]) == 40, r
    for k, v in (("epoch_s", t), ("comm_s", m), ("speedup", s), ("efficiency", e)):
        assert abs(float(r[k]) - v) < 1e-5 * max(1, v), (k, r[k], v)
EOF
is_png "$syn/s/scaling.png" || fail "synthetic scaling.png is not a PNG"
out=$("$py" "$jobs/collect_scaling.py" --mode weak --csv "$syn/w.csv" --png "$syn/w.png" "$syn/s" \
  2>&1) || fail "collector --mode weak: $out"
grep -q '^strong,4,' "$syn/w.csv" || fail "study.json's mode should win over --mode: $(cat "$syn/w.csv")"
rm "$syn/s/study.json"
"$py" "$jobs/collect_scaling.py" --mode weak --csv "$syn/w.csv" --png "$syn/w.png" "$syn/s" >/dev/null ||
  fail "collector --mode weak without study.json failed"
# weak: efficiency = T1/TP = 2.5 (made-up times), speedup = efficiency * P = 10
grep -qE '^weak,4,2,5000,20000,4,3,0\.4,0\.2,0\.2,0\.5,10,2\.5,40,r4\.log\.json$' "$syn/w.csv" ||
  fail "weak row for P=4 is wrong: $(cat "$syn/w.csv")"
if out=$("$py" "$jobs/collect_scaling.py" "$syn/bad" 2>&1); then fail "empty dir accepted: $out"; fi
grep -q "collect_scaling: error: .*no study.json with a mode" <<<"$out" || fail "empty dir: $out"
echo '{"run":0,"epoch":1,' >"$syn/bad/r2.log.json"
if out=$("$py" "$jobs/collect_scaling.py" --mode strong "$syn/bad" 2>&1); then
  fail "broken log accepted: $out"
fi
grep -q "r2.log.json:1: not JSON" <<<"$out" || fail "broken log: $out"
[ ! -e "$syn/bad/scaling.csv" ] || fail "a CSV was written despite the error"
ok "collector: medians after warm-up, resumed epochs, strong/weak speedup and efficiency, errors"

# ---- 2. real studies on the private Slurm -------------------------------------------------------
slurm_require
trap - EXIT
rm -rf "$syn"
slurm_start
mkdir "$ER_SLURM_TEST_DIR/work"
cd "$ER_SLURM_TEST_DIR/work"
export ERASE_BIN
small="--hidden 16 --heads 2 --embed 16"
t0=$EPOCHREALTIME
out=$(MODE=strong RANKS="1 2 4" NODES=2000 EPOCHS=5 TRAIN_ARGS=$small RESULTS=strong \
  "$jobs/submit_scaling.sh") || fail "submit strong: $out"
echo "$out"
strong=$(tail -n 1 <<<"$out" | sed -n 's/^submitted erase-strong-collect: job \([0-9]*\) .*/\1/p')
[ -n "$strong" ] || fail "no collector job in: $out"
[ "$(grep -c '^submitted erase-strong-P' <<<"$out")" -eq 3 ] || fail "expected 3 train jobs"
out=$(MODE=weak RANKS="1 2 4" NODES_PER_RANK=1000 GEN_ARGS="--val 200 --test 400" EPOCHS=5 \
  TRAIN_ARGS=$small RESULTS=weak "$jobs/submit_scaling.sh") || fail "submit weak: $out"
echo "$out"
weak=$(tail -n 1 <<<"$out" | sed -n 's/^submitted erase-weak-collect: job \([0-9]*\) .*/\1/p')
[ -n "$weak" ] || fail "no collector job in: $out"
[ "$(grep -c '^submitted erase-weak-data' <<<"$out")" -eq 3 ] || fail "expected 3 prepare jobs"
slurm_expect "$strong" COMPLETED 150 || fail "strong collector job $strong did not complete"
slurm_expect "$weak" COMPLETED 150 || fail "weak collector job $weak did not complete"
echo "measure: both studies (4 prepare + 6 train + 2 collect jobs) $(slurm_elapsed "$t0") s"
cat strong/collect.out weak/collect.out

# check_csv DIR MODE NODES...: three rows, ranks 1 2 4, the graph sizes, consistent ratios
check_csv() {
  "$py" - "$@" <<'EOF'
import csv, sys
d, mode, nodes = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = list(csv.DictReader(open(f"{d}/scaling.csv")))
assert [int(r["ranks"]) for r in rows] == [1, 2, 4], rows
for r, n, p in zip(rows, nodes, (1, 2, 4)):
    assert r["mode"] == mode and r["nodes"] == n and r["hosts"] == "1", r
    assert int(r["epochs_timed"]) == 3, r  # 5 epochs less 2 warm-up
    t, c, m = float(r["epoch_s"]), float(r["compute_s"]), float(r["comm_s"])
    s, e = float(r["speedup"]), float(r["efficiency"])
    assert t > 0 and c > 0 and m >= 0 and 0 <= float(r["comm_frac"]) <= 1, r
    # strong: speedup = T1/TP, efficiency = speedup/P; weak: efficiency = T1/TP, speedup = eff*P
    ratio = float(rows[0]["epoch_s"]) / t
    assert abs((s if mode == "strong" else e) - ratio) < 1e-4 * max(1, ratio), r
    assert abs(s - e * p) < 1e-4 * max(1, s), r
    assert r["partition"] == str(p), r  # /partitions/P made by prepare.sbatch
    assert 0 <= float(r["test_acc"]) <= 100, r
assert float(rows[0]["speedup"]) == 1.0 and float(rows[0]["efficiency"]) == 1.0, rows[0]
assert float(rows[2]["comm_s"]) > 0, rows[2]
EOF
}
check_csv strong strong 2000 2000 2000 || fail "strong/scaling.csv: $(cat strong/scaling.csv)"
check_csv weak weak 1000 2000 4000 || fail "weak/scaling.csv: $(cat weak/scaling.csv)"
is_png strong/scaling.png || fail "strong/scaling.png is not a PNG"
is_png weak/scaling.png || fail "weak/scaling.png is not a PNG"
for p in 1 2 4; do
  grep -q "^train: .* on $p ranks (partition $p)" "strong/r$p.out" || fail "strong/r$p.out header"
  grep -q "^summary: test accuracy" "weak/r$p.out" || fail "weak/r$p.out has no summary"
done
ok "strong and weak studies at 1, 2, 4 tasks: scaling.csv rows and scaling.png"

out=$("$py" "$jobs/collect_scaling.py" --csv both.csv --png both.png strong weak 2>&1) ||
  fail "collector on two studies: $out"
if [ "$(grep -c '^strong,' both.csv)" -ne 3 ] || [ "$(grep -c '^weak,' both.csv)" -ne 3 ]; then
  fail "combined CSV: $(cat both.csv)"
fi
is_png both.png || fail "both.png is not a PNG"
ok "collector combines both studies into one CSV and plot"
echo "PASS"
