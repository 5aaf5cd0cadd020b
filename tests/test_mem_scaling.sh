#!/bin/bash
# test_mem_scaling.sh: a training rank's memory falls with the rank count and stays what the
# buffer tables say. On a generated 40K-node graph (METIS partitions) and a 1000-node one (the
# baseline: runtime and every fixed-size buffer), `train --epochs 1` at 1, 2 and 4 ranks with
# ERASE_MEM_REPORT=1 (each rank's peak RSS, table peak and largest allocation outside the tables).
# Fails when
#   - the largest peak RSS per rank at 4 ranks, minus the baseline's at 4 ranks, exceeds 0.45 of
#     that at 1 rank (0.65 at 2 ranks): a replicated O(N) or O(E) array of the size of the model's
#     per-row data (features, embeddings, a CSR) on every rank breaks it;
#   - a rank's peak RSS is more than 3% off `erase-mpi estimate`'s prediction for it: an
#     allocation the tables do not know, from any allocator, of a few percent of a rank;
#   - any rank makes an allocation outside the buffer tables (ER_MALLOC / ER_CALLOC) larger than
#     64 KiB: at 40K nodes an owner array of N int32 (160 KB) or a whole-graph CSR (3.5 MB), too
#     small for the two checks above, is caught here.
# A table row that grows with N or E instead of the rank's counts is test_mem_model's to catch.
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/ermem.XXXXXX")
trap 'rm -rf "$T"' EXIT
run() { "$@" > "$T/cmd.log" 2>&1 || { cat "$T/cmd.log"; echo "FAIL: $*"; exit 1; }; }
run "$MPIEXEC" -n 2 "$ERASE_BIN" generate --nodes 40000 --out "$T/big.h5"
run "$MPIEXEC" -n 2 "$ERASE_BIN" generate --nodes 1000 --train-per-class 5 --val 50 --test 100 \
  --out "$T/tiny.h5"
for g in big tiny; do
  for p in 2 4; do run "$MPIEXEC" -n $p "$ERASE_BIN" partition --data "$T/$g.h5" --parts $p; done
done
for g in big tiny; do
  for p in 1 2 4; do
    ERASE_MEM_REPORT=1 run "$MPIEXEC" -n $p "$ERASE_BIN" train --data "$T/$g.h5" --epochs 1 \
      --feature-norm none --quiet 1
    grep "erase-mpi: memory rank" "$T/cmd.log" > "$T/$g$p.mem"
    run "$ERASE_BIN" estimate --data "$T/$g.h5" --ranks $p --epochs 1
    cp "$T/cmd.log" "$T/$g$p.est"
  done
done
/usr/bin/python3 - "$T" <<'PY'
import re, sys
T = sys.argv[1]
def mem(g, p):  # rank -> (peak RSS MiB, table peak MiB, largest outside bytes, site)
    out = {}
    for l in open(f"{T}/{g}{p}.mem"):
        m = re.search(r"rank (\d+): peak RSS (\d+) KB, tables peak (\d+) B, largest allocation "
                      r"outside the tables (\d+) B \((.*)\)", l)
        out[int(m.group(1))] = (int(m.group(2)) / 1024, int(m.group(3)) / 2**20, int(m.group(4)),
                                m.group(5))
    assert len(out) == p, f"{g} at {p} ranks: {len(out)} memory lines"
    return out
def est(g, p):  # rank -> predicted peak MiB of a run without --out
    return {int(r): float(v) for r, v in
            re.findall(r"rank (\d+): .* MiB \(training ([\d.]+),", open(f"{T}/{g}{p}.est").read())}
ok = True
peak = {}
print("P | peak RSS per rank (max), 40K | 1000-node baseline | above baseline | ratio to P=1 | "
      "predicted (max) | worst rank off by")
for p in (1, 2, 4):
    big, tiny, pred = mem("big", p), mem("tiny", p), est("big", p)
    peak[p] = max(v[0] for v in big.values()) - max(v[0] for v in tiny.values())
    off = max(abs(big[r][0] / pred[r] - 1) for r in big)
    for g, m in (("40K", big), ("1000-node", tiny)):
        for r, (rss, tab, outside, site) in m.items():
            if outside > 65536:
                print(f"FAIL: {g} graph at {p} ranks, rank {r}: an allocation of {outside} B "
                      f"outside the buffer tables at {site} (limit 64 KiB)")
                ok = False
    ok &= off <= 0.03
    print(f"{p} | {max(v[0] for v in big.values()):.1f} MiB | "
          f"{max(v[0] for v in tiny.values()):.1f} MiB | {peak[p]:.1f} MiB | "
          f"{peak[p] / peak[1]:.3f} | {max(pred.values()):.1f} MiB | {100 * off:.1f} % (bound 3 %)")
for p, bound in ((2, 0.65), (4, 0.45)):
    if peak[p] > bound * peak[1]:
        print(f"FAIL: at {p} ranks a rank holds {peak[p] / peak[1]:.3f} of what one rank holds "
              f"(bound {bound})")
        ok = False
print("test_mem_scaling:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
