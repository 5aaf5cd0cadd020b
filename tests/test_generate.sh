#!/bin/bash
# test_generate.sh MODE: end-to-end tests of `erase-mpi generate` (datasets read back with
# /usr/bin/python3 + h5py, serial). MODE = ranks | structure | hsbm_ranks | hsbm_structure |
# errors (see generate.cmake).
# Needs ERASE_BIN and MPIEXEC from the test harness; does not test the trainer.
set -u
mode=${1:?mode}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/ergen.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# hash every dataset (with its attributes) and root attribute of a generated file into one line
# per item
hashes() {
  $PY - "$1" <<'EOF'
import hashlib, sys, h5py
f = h5py.File(sys.argv[1], "r")
names = []
f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
for k in sorted(names):
    d = f[k]
    attrs = sorted((a, str(v)) for a, v in d.attrs.items() if a != "digest")
    md5 = hashlib.md5(d[()].tobytes()).hexdigest()
    print(k, d.dtype, d.shape, str(attrs).replace(" ", ""), md5)
for a in sorted(f.attrs):
    v = f.attrs[a]
    print("attr", a, v.decode() if isinstance(v, bytes) else v)
EOF
}

case $mode in
ranks|hsbm_ranks)
  # uneven blocks (N = 3001), fractional degree, odd F: all rank counts must agree exactly
  args=(--nodes 3001 --avg-degree 7.5 --classes 7 --features 9 --homophily 0.6
        --feature-snr 1.5 --train-per-class 5 --val 100 --test 200)
  nlines=12 nps="1 2 3 4"
  # HSBM: uneven leaves (3001 positions over 27), branching 3, three levels
  [ "$mode" = hsbm_ranks ] && args+=(--model hsbm --levels 3 --branching 3 --escape 0.55) &&
    nlines=13 nps="1 2 3"
  for np in $nps; do
    if ! timeout 120 "$MPIEXEC" -n $np --oversubscribe "$ERASE_BIN" generate "${args[@]}" \
        --seed 11 --out "$T/g$np.h5" >"$T/log$np" 2>&1; then
      fail "generate at $np ranks failed"; cat "$T/log$np"; continue
    fi
    hashes "$T/g$np.h5" >"$T/h$np" || fail "cannot read g$np.h5"
    [ "$(wc -l <"$T/h$np")" -eq "$nlines" ] ||
      fail "expected $((nlines - 5)) datasets + 5 attributes in g$np.h5"
  done
  for np in ${nps#1 }; do
    if cmp -s "$T/h1" "$T/h$np"; then echo "ok: $np ranks == 1 rank"
    else fail "$np ranks differ from 1 rank"; diff "$T/h1" "$T/h$np"; fi
  done
  timeout 120 "$MPIEXEC" -n 2 --oversubscribe "$ERASE_BIN" generate "${args[@]}" --seed 12 \
    --out "$T/s12.h5" >"$T/log12" 2>&1 || fail "generate seed 12 failed"
  hashes "$T/s12.h5" >"$T/h12"
  keys="graph/indices features labels split/train"
  [ "$mode" = hsbm_ranks ] && keys="$keys generate/leaf"
  for k in $keys; do
    a=$(grep "^$k " "$T/h1" | awk '{print $NF}'); b=$(grep "^$k " "$T/h12" | awk '{print $NF}')
    if [ -n "$a" ] && [ "$a" != "$b" ]; then echo "ok: seed 12 changes $k"
    else fail "seed 12 gives the same $k as seed 11"; fi
  done
  src="generate:csbm n=3001 d=7.5 k=7 f=9 h=0.6 snr=1.5 seed=11"
  [ "$mode" = hsbm_ranks ] &&
    src="generate:hsbm n=3001 d=7.5 k=7 f=9 h=0.6 snr=1.5 levels=3 branching=3 escape=0.55 seed=11"
  grep -q "^attr source $src$" "$T/h1" || fail "source attribute wrong: $(grep source "$T/h1")"
  if [ "$mode" = hsbm_ranks ]; then
    grep -q "^generate/leaf int64 (3001,) \[('branching','3'),('escape','0.55'),('levels','3')\] " \
      "$T/h1" || fail "leaf dataset or its attributes wrong: $(grep leaf "$T/h1")"
  else # the CSBM writes no /generate group
    ! grep -q "^generate/" "$T/h1" || fail "CSBM wrote $(grep "^generate/" "$T/h1")"
  fi
  ;;

structure|hsbm_structure)
  # N D K F H S T V U seed ranks [HSBM: levels (0 = auto) branching escape]
  cases=("20000 10 5 32 0.7 2 20 500 1000 7 2"
         "6000 4 3 6 0 1 10 300 300 3 3"
         "5000 3.3 8 5 1 0.5 30 0 100 5 2"
         "999 20 10 4 0.5 1 1 989 0 9 4")
  [ "$mode" = hsbm_structure ] &&
    cases=("40000 10 10 16 0.8 1 20 500 1000 7 2 0 2 0.65"
           "30000 6 4 8 0.5 2 10 300 300 3 3 4 4 0.4"
           "12000 12 3 5 1 1 30 0 100 5 2 0 3 0.8"
           "5000 3.3 8 4 0.2 1 5 100 100 9 2 5 2 0.3"
           "4000 8 5 4 0.9 1 5 100 100 2 2 3 2 0")
  for c in "${cases[@]}"; do
    read -r N D K F H S TR V U SEED NP LV BR ESC <<<"$c"
    out="$T/st.h5"
    rm -f "$out"
    tree=()
    [ -n "${LV:-}" ] && tree=(--model hsbm --levels "$LV" --branching "$BR" --escape "$ESC")
    if ! timeout 120 "$MPIEXEC" -n "$NP" --oversubscribe "$ERASE_BIN" generate --nodes "$N" \
        --avg-degree "$D" --classes "$K" --features "$F" --homophily "$H" --feature-snr "$S" \
        --train-per-class "$TR" --val "$V" --test "$U" --seed "$SEED" "${tree[@]}" \
        --out "$out" >"$T/log" 2>&1; then
      fail "generate $c failed"; cat "$T/log"; continue
    fi
    grep -q "homophily" "$T/log" || fail "no summary line printed"
    if $PY - "$out" $N $D $K $F $H $S $TR $V $U ${LV:+$LV $BR $ESC} <<'EOF'; then echo "ok: structure of case: $c"; else fail "structure of case: $c"; fi
import sys
import h5py, numpy as np
path = sys.argv[1]
N, D, K, F, H, S, T, V, U = (int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]),
    int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]),
    int(sys.argv[9]), int(sys.argv[10]))
hsbm = len(sys.argv) > 11
if hsbm:
    LV, BR, ESC = int(sys.argv[11]), int(sys.argv[12]), float(sys.argv[13])
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
check(src.startswith("generate:%s n=%d " % ("hsbm" if hsbm else "csbm", N)), "source attr: " + src)
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
extra = ""
if hsbm:
    # the tree: b^L leaves of floor/ceil(N / b^L) nodes, every class in every leaf (+-1)
    leaf = f["generate/leaf"][()]
    la = dict(f["generate/leaf"].attrs)
    L, B = int(la["levels"]), int(la["branching"])
    if LV: check(L == LV, "levels %d vs %d" % (L, LV))
    else:  # auto: the deepest tree whose leaves hold >= max(128, K) nodes
        check(N // B ** L >= max(128, K) and (L == 40 or N // B ** (L + 1) < max(128, K)),
              "auto levels %d" % L)
    check(B == BR and abs(float(la["escape"]) - ESC) < 1e-12, "branching/escape attributes")
    nleaf = B ** L
    check(leaf.dtype == np.int64 and leaf.shape == (N,), "leaf dtype/shape")
    size = np.bincount(leaf, minlength=nleaf)
    check(leaf.min() >= 0 and leaf.max() < nleaf and len(size) == nleaf, "leaf ids in range")
    check(size.min() == N // nleaf and size.max() == -(-N // nleaf), "leaf sizes %d..%d"
          % (size.min(), size.max()))
    per = np.zeros((nleaf, K), np.int64)
    np.add.at(per, (leaf, y), 1)
    check(np.all(per.max(1) - per.min(1) <= 1), "every leaf holds every class, balanced")
    if nleaf >= 32:  # blocks are not readable from ids
        check(np.mean(leaf[1:] == leaf[:-1]) < 0.1, "leaf readable from consecutive ids")
    # edge levels (smallest common block) against P(level = l) = R^l (1 - R), root R^L; the
    # dropped duplicates and self loops fall mostly on the low levels: 0.04 absolute
    lu, lv = leaf[rows], leaf[ix]
    lev = np.zeros(len(ix), np.int64)
    for l in range(1, L + 1):
        lev[(lu // B ** (l - 1)) != (lv // B ** (l - 1))] = l
    got = np.bincount(lev, minlength=L + 1) / len(ix)
    want = np.array([ESC ** l * (1 - ESC) for l in range(L)] + [ESC ** L])
    check(np.all(np.abs(got - want) < 0.04), "edge levels %s vs %s" %
          (np.round(got, 3), np.round(want, 3)))
    inleaf = got[0]
    check(inleaf > 1 - ESC - 0.04, "fraction of edges inside leaves %.3f" % inleaf)
    # homophily holds at every level, not only overall
    for l in range(L + 1):
        m = lev == l
        if m.sum() > 2000:
            hl = float(np.mean(y[rows[m]] == y[ix[m]]))
            check(abs(hl - H) <= 0.06, "homophily %.3f at level %d vs %g" % (hl, l, H))
    # the splits spread over the leaves (not the first leaves in position order)
    exp = nleaf * (1 - (1 - 1 / nleaf) ** len(tr))
    check(len(np.unique(leaf[tr])) > 0.6 * exp, "training nodes in %d leaves, expected ~%.0f"
          % (len(np.unique(leaf[tr])), exp))
    extra = " levels %d leaves %d in-leaf %.3f" % (L, nleaf, inleaf)
print("deg %.3f homophily %.4f noise var %.4f |mu|^2 %.3f%s" % (deg, hom, var, s2, extra))
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
    "model|--model|--model sbm"
    "levels_deep|fewer than --classes|--model hsbm --levels 5"
    "levels_many|more leaf blocks|--model hsbm --levels 8"
    "levels_big|--levels|--model hsbm --levels 41"
    "branching1|--branching|--model hsbm --branching 1"
    "escape_big|--escape|--model hsbm --escape 1.5"
    "tree_csbm|--model hsbm|--levels 2"
    "tree_csbm_escape|--model hsbm|--model csbm --escape 0.3"
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
  grep -q "hsbm" "$d/stdout" || fail "help: hsbm description missing"
  ;;
*)
  echo "unknown mode $mode"; exit 2 ;;
esac

[ "$fails" -eq 0 ] && echo "PASS generate_$mode" || echo "FAILED generate_$mode: $fails"
[ "$fails" -eq 0 ]
