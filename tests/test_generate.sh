#!/bin/bash
# test_generate.sh MODE: end-to-end tests of `erase-mpi generate` (datasets read back with
# /usr/bin/python3 + h5py, serial). MODE = ranks | structure | errors (see generate.cmake).
# Needs ERASE_BIN and MPIEXEC from the test harness; does not test the trainer.
set -u
mode=${1:?mode}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/ergen.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# hash every dataset and root attribute of a generated file into one line per item
hashes() {
  $PY - "$1" <<'EOF'
import hashlib, sys, h5py
f = h5py.File(sys.argv[1], "r")
for k in ["graph/indptr", "graph/indices", "features", "labels", "split/train", "split/val",
          "split/test"]:
    d = f[k]
    print(k, d.dtype, d.shape, hashlib.md5(d[()].tobytes()).hexdigest())
for a in sorted(f.attrs):
    v = f.attrs[a]
    print("attr", a, v.decode() if isinstance(v, bytes) else v)
EOF
}

case $mode in
ranks)
  # uneven blocks (N = 3001), fractional degree, odd F: all rank counts must agree exactly
  args=(--nodes 3001 --avg-degree 7.5 --classes 7 --features 9 --homophily 0.6
        --feature-snr 1.5 --train-per-class 5 --val 100 --test 200)
  for np in 1 2 3 4; do
    if ! timeout 120 "$MPIEXEC" -n $np --oversubscribe "$ERASE_BIN" generate "${args[@]}" \
        --seed 11 --out "$T/g$np.h5" >"$T/log$np" 2>&1; then
      fail "generate at $np ranks failed"; cat "$T/log$np"; continue
    fi
    hashes "$T/g$np.h5" >"$T/h$np" || fail "cannot read g$np.h5"
    [ "$(wc -l <"$T/h$np")" -eq 12 ] || fail "expected 7 datasets + 5 attributes in g$np.h5"
  done
  for np in 2 3 4; do
    if cmp -s "$T/h1" "$T/h$np"; then echo "ok: $np ranks == 1 rank"
    else fail "$np ranks differ from 1 rank"; diff "$T/h1" "$T/h$np"; fi
  done
  timeout 120 "$MPIEXEC" -n 2 --oversubscribe "$ERASE_BIN" generate "${args[@]}" --seed 12 \
    --out "$T/s12.h5" >"$T/log12" 2>&1 || fail "generate seed 12 failed"
  hashes "$T/s12.h5" >"$T/h12"
  for k in graph/indices features labels split/train; do
    a=$(grep "^$k " "$T/h1" | awk '{print $NF}'); b=$(grep "^$k " "$T/h12" | awk '{print $NF}')
    if [ -n "$a" ] && [ "$a" != "$b" ]; then echo "ok: seed 12 changes $k"
    else fail "seed 12 gives the same $k as seed 11"; fi
  done
  grep -q "^attr source generate:csbm n=3001 d=7.5 k=7 f=9 h=0.6 snr=1.5 seed=11$" "$T/h1" ||
    fail "source attribute wrong: $(grep source "$T/h1")"
  ;;

structure)
  # N D K F H S T V U seed ranks
  cases=("20000 10 5 32 0.7 2 20 500 1000 7 2"
         "6000 4 3 6 0 1 10 300 300 3 3"
         "5000 3.3 8 5 1 0.5 30 0 100 5 2"
         "999 20 10 4 0.5 1 1 989 0 9 4")
  for c in "${cases[@]}"; do
    read -r N D K F H S TR V U SEED NP <<<"$c"
    out="$T/st.h5"
    rm -f "$out"
    if ! timeout 120 "$MPIEXEC" -n "$NP" --oversubscribe "$ERASE_BIN" generate --nodes "$N" \
        --avg-degree "$D" --classes "$K" --features "$F" --homophily "$H" --feature-snr "$S" \
        --train-per-class "$TR" --val "$V" --test "$U" --seed "$SEED" --out "$out" \
        >"$T/log" 2>&1; then
      fail "generate $c failed"; cat "$T/log"; continue
    fi
    grep -q "homophily" "$T/log" || fail "no summary line printed"
    if $PY - "$out" $N $D $K $F $H $S $TR $V $U <<'EOF'; then echo "ok: structure of case: $c"; else fail "structure of case: $c"; fi
import sys
import h5py, numpy as np
path = sys.argv[1]
N, D, K, F, H, S, T, V, U = (int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]),
    int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]),
    int(sys.argv[9]), int(sys.argv[10]))
bad = []
def check(cond, what):
    if not cond: bad.append(what)
f = h5py.File(path, "r")
ip = f["graph/indptr"][()]; ix = f["graph/indices"][()]; y = f["labels"][()]
X = f["features"][()]
check(ip.dtype == np.int64 and ix.dtype == np.int64, "CSR dtype int64")
check(y.dtype == np.int32 and X.dtype == np.float32, "labels int32 / features float32")
check(ip.shape == (N + 1,) and ip[0] == 0 and ip[-1] == len(ix), "indptr shape/ends")
check(np.all(np.diff(ip) >= 0), "indptr nondecreasing")
check(ix.min() >= 0 and ix.max() < N, "indices in range")
rows = np.repeat(np.arange(N, dtype=np.int64), np.diff(ip))
check(not np.any(rows == ix), "self loops present")
same_row = rows[1:] == rows[:-1]
check(np.all(ix[1:][same_row] > ix[:-1][same_row]), "rows sorted strictly (no duplicates)")
fw = rows * N + ix; bw = np.sort(ix * N + rows)
check(np.array_equal(fw, bw), "adjacency symmetric")
a = dict(f.attrs)
check(a["num_nodes"] == N and a["num_features"] == F and a["num_classes"] == K,
      "num_nodes/num_features/num_classes attrs")
check(2 * a["num_edges"] == len(ix), "num_edges == nnz/2")
src = a["source"].decode() if isinstance(a["source"], bytes) else a["source"]
check(src.startswith("generate:csbm n=%d " % N), "source attr: " + src)
deg = len(ix) / N
check(abs(deg - D) <= 0.1 * D, "mean degree %.3f vs %g" % (deg, D))
hom = float(np.mean(y[rows] == y[ix]))
check(abs(hom - H) <= 0.05, "homophily %.4f vs %g" % (hom, H))
cnt = np.bincount(y, minlength=K)
check(y.min() >= 0 and y.max() < K and len(cnt) == K, "labels in [0, K)")
check(cnt.max() - cnt.min() <= 1, "classes balanced: %s" % cnt)
ids = np.arange(N)
check(abs(np.mean(y == ids % K) - 1.0 / K) < 0.05, "class readable from id mod K")
tr = f["split/train"][()]; va = f["split/val"][()]; te = f["split/test"][()]
for name, s, n in (("train", tr, T * K), ("val", va, V), ("test", te, U)):
    check(s.dtype == np.int64 and s.shape == (n,), "%s size %s vs %d" % (name, s.shape, n))
    check(len(s) == 0 or (np.all(np.diff(s) > 0) and s[0] >= 0 and s[-1] < N),
          "%s sorted, in range" % name)
check(len(np.unique(np.concatenate([tr, va, te]))) == T * K + V + U, "splits disjoint")
check(np.all(np.bincount(y[tr], minlength=K) == T), "train has T per class")
check(X.shape == (N, F) and np.all(np.isfinite(X)), "features shape/finite")
Xd = X.astype(np.float64)
mu = np.stack([Xd[y == c].mean(0) for c in range(K)])
res = Xd - mu[y]
var = float(np.mean(res ** 2)) * N / (N - K)
check(abs(var - 1) < 0.05 + 3 * np.sqrt(2.0 / (N * F)), "noise variance %.4f vs 1" % var)
s2 = float(np.mean([np.sum(mu[c] ** 2) - F / cnt[c] for c in range(K)]))
tol = 4 * S * S * np.sqrt(2.0 / (K * F)) + 0.05
check(abs(s2 - S * S) < tol, "mean |mu_c|^2 %.3f vs S^2 = %g (tol %.3f)" % (s2, S * S, tol))
if S >= 1:  # nearest true mean beats chance clearly: the classes are separated by S
    d = ((Xd[:, None, :] - mu[None]) ** 2).sum(-1)
    acc = float(np.mean(d.argmin(1) == y))
    check(acc > 1.0 / K + 0.15, "nearest-mean accuracy %.3f" % acc)
print("deg %.3f homophily %.4f noise var %.4f |mu|^2 %.3f" % (deg, hom, var, s2))
for b in bad: print("  check failed:", b)
sys.exit(1 if bad else 0)
EOF
  done
  ;;

errors)
  # name | expected text | options (--out is appended unless the case gives it)
  cases=(
    "nodes0|--nodes|--nodes 0"
    "classes1|--classes|--classes 1"
    "homophily2|--homophily|--homophily 2"
    "nonnumeric|not an integer|--nodes 12abc"
    "nonnumeric_f|not a finite number|--feature-snr x"
    "degree0|--avg-degree|--avg-degree 0"
    "degree_big|--avg-degree|--nodes 100 --avg-degree 100 --val 10 --test 10"
    "splits|exceeds nodes|--nodes 100 --classes 10 --train-per-class 5 --val 30 --test 30"
    "unknown|unknown|--bogus 3"
    "noarg|--val|--out @OUT@ --val"
    "stray|unexpected|extra"
    "noout|--out|NOOUT"
    "unwritable|cannot create|--out /nonexistent-dir-$$/sub/x.h5"
  )
  # launch (four at a time: mostly MPI start-up), then check every case
  run_case() { # dir argv...
    local d=$1; shift
    timeout 60 "$MPIEXEC" -n 2 --oversubscribe sh -c \
      '"$@"; echo $? > '"$d"'/exit.$OMPI_COMM_WORLD_RANK' sh "$ERASE_BIN" generate "$@" \
      >"$d/stdout" 2>"$d/stderr"
    echo $? >"$d/rc"
  }
  i=0
  for c in "${cases[@]}"; do
    IFS='|' read -r name want opts <<<"$c"
    d="$T/$name"; mkdir -p "$d/out"
    opts=${opts//@OUT@/$d/out/x.h5}
    # shellcheck disable=SC2206
    argv=(--nodes 200 --features 4 --train-per-class 2 --val 10 --test 10 $opts)
    if [[ "$opts" == NOOUT ]]; then argv=(--nodes 200 --features 4 --val 10 --test 10)
    elif [[ "$opts" != *--out* ]]; then argv+=(--out "$d/out/x.h5"); fi
    run_case "$d" "${argv[@]}" &
    i=$((i + 1)); [ $((i % 4)) -eq 0 ] && wait
  done
  wait
  for c in "${cases[@]}"; do
    IFS='|' read -r name want opts <<<"$c"
    d="$T/$name"
    rc=$(cat "$d/rc" 2>/dev/null || echo missing)
    [ "$rc" = 0 ] || fail "$name: mpirun/timeout returned $rc (hang?)"
    for r in 0 1; do
      e=$(cat "$d/exit.$r" 2>/dev/null || echo missing)
      [[ "$e" =~ ^[1-9][0-9]*$ ]] || fail "$name: rank $r exit status '$e' (want non-zero)"
    done
    nl=$(grep -c . "$d/stderr")
    [ "$nl" -eq 1 ] || { fail "$name: $nl stderr lines (want 1)"; cat "$d/stderr"; }
    grep -q "^erase-mpi: error: .*$want" "$d/stderr" ||
      fail "$name: message lacks '$want': $(cat "$d/stderr")"
    [ -z "$(ls -A "$d/out")" ] || fail "$name: output left behind: $(ls -A "$d/out")"
    [ "$fails" -eq 0 ] && echo "ok: $name -> $(cat "$d/stderr")"
  done
  # --help: exit 0 on every rank, text printed once
  d="$T/help"; mkdir -p "$d"
  timeout 60 "$MPIEXEC" -n 2 --oversubscribe sh -c \
    '"$@"; echo $? > '"$d"'/exit.$OMPI_COMM_WORLD_RANK' sh "$ERASE_BIN" generate --help \
    >"$d/stdout" 2>"$d/stderr"
  [ "$(cat "$d/exit.0" "$d/exit.1" 2>/dev/null | tr -d '\n')" = "00" ] || fail "help: exit codes"
  [ "$(grep -c '^usage:' "$d/stdout")" -eq 1 ] || fail "help: usage not printed exactly once"
  grep -q "Feistel" "$d/stdout" || fail "help: model description missing"
  ;;
*)
  echo "unknown mode $mode"; exit 2 ;;
esac

[ "$fails" -eq 0 ] && echo "PASS generate_$mode" || echo "FAILED generate_$mode: $fails"
[ "$fails" -eq 0 ]
