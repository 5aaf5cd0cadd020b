#!/usr/bin/env bash
# bench_shaped_scaling.sh [NODES_IN_GRAPH]: a strong-scaling study across 1, 2 and 3 cluster nodes
# (one rank per node; scripts/cluster-up.sh) with the links unshaped and shaped to each rate of
# RATES (tbf, both directions of every node's link), measured, beside a prediction.
# For every rate and node count it trains the same generated graph (METIS partition for the node
# count) twice, for E1 and E2 epochs, and takes per epoch the difference / (E2 - E1) (setup, load
# and output cancel) of the bytes each node's link sent and received (/sys/class/net/eth0
# statistics); the epoch time is the median of the E2 run's epochs after the first (slowest rank
# per phase, JSON log), with its halo waits.
# The prediction for a shaped run: the unshaped epoch at the same node count (the compute rate
# measured here) plus the busiest node's bytes per epoch (max of sent and received) over the
# link rate, either all exposed (no overlap) or less the interior work the split-phase halos can
# hide it behind. No delay: this kernel has no netem qdisc (LINK_DELAY fails), so links differ in
# rate only; the veth links' own latency is what it is.
# Prints markdown tables. As root; needs Slurm, munge, `ip netns`, tc (tests/test_cluster_smoke.sh).
#   benchmarks/bench_shaped_scaling.sh 50000
#   env: RATES ("10gbit 1gbit"), NODECOUNTS ("1 2 3"), E1 (2), E2 (7), GEN_ARGS (""),
#        WORK (/var/tmp/er-shaped: the graph is kept there), ERASE_BIN (build/erase-mpi)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
scripts=$root/scripts
N=${1:-50000}
RATES=${RATES:-10gbit 1gbit}
NODECOUNTS=${NODECOUNTS:-1 2 3}
E1=${E1:-2}; E2=${E2:-7}
WORK=${WORK:-/var/tmp/er-shaped}
BIN=$(realpath "${ERASE_BIN:-$root/build/erase-mpi}")
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
dir=$WORK/cluster
trap '"$scripts/cluster-down.sh" "$dir" >/dev/null 2>&1 || true' EXIT
cd "$WORK"
WIDTHS=(--hidden 64 --heads 4 --embed 128)
MODEL=("${WIDTHS[@]}" --solver lapack --feature-norm none --quiet 1)
maxn=0; for n in $NODECOUNTS; do [ "$n" -gt "$maxn" ] && maxn=$n; done
if [ ! -s g.h5 ]; then
  source "$scripts/env.sh"
  mpirun -n 2 "$BIN" generate --nodes "$N" --classes 8 --features 128 ${GEN_ARGS:-} \
    --out g.h5 --quiet >/dev/null
  for n in $NODECOUNTS; do
    [ "$n" -eq 1 ] || mpirun -n 2 "$BIN" partition --data g.h5 --parts "$n" --quiet >/dev/null
  done
fi
bytes() { # bytes NODES: "tx rx" of each node's eth0, one line per node
  local i
  for ((i = 1; i <= $1; i++)); do
    ip netns exec "$prefix-n$i" sh -c \
      'echo $(cat /sys/class/net/eth0/statistics/tx_bytes) $(cat /sys/class/net/eth0/statistics/rx_bytes)'
  done
}
for rate in none $RATES; do
  if [ "$rate" = none ]; then
    "$scripts/cluster-up.sh" "$dir" "$maxn" >/dev/null
  else
    LINK_RATE=$rate "$scripts/cluster-up.sh" "$dir" "$maxn" >/dev/null
  fi
  prefix=$(sed -n 's/^prefix=//p' "$dir/cluster.conf")
  for n in $NODECOUNTS; do
    [ "$rate" = none ] || [ "$n" -gt 1 ] || continue # one node: no link in use
    for E in $E1 $E2; do
      bytes "$n" >"b0"
      echo "$(date +%T) rate $rate, $n node(s), $E epochs (load $(cut -d' ' -f1 /proc/loadavg))" >&2
      "$scripts/cluster-exec.sh" "$dir" n1 srun -N "$n" -n "$n" --mpi=pmix "$BIN" train \
        --data g.h5 --epochs "$E" --patience "$E" "${MODEL[@]}" \
        --log-json "r_${rate}_${n}_$E.jsonl" >/dev/null
      bytes "$n" >"b1"
      paste b0 b1 | awk '{ print $3 - $1, $4 - $2 }' >"bytes_${rate}_${n}_$E"
    done
  done
  "$scripts/cluster-down.sh" "$dir" >/dev/null
done

/usr/bin/python3 - "$WORK" "$RATES" "$NODECOUNTS" "$E1" "$E2" <<'PY'
import json, re, statistics as st, sys
work, rates, ncs, e1, e2 = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), int(sys.argv[4]), int(sys.argv[5])
def bps(r):
    m = re.fullmatch(r"([\d.]+)([kmgt]?)(bit|bps)", r)
    v = float(m.group(1)) * 1000 ** ("kmgt".index(m.group(2)) + 1 if m.group(2) else 0)
    return v / 8 if m.group(3) == "bit" else v
def run(rate, n):
    ep = [o for o in map(json.loads, open(f"{work}/r_{rate}_{n}_{e2}.jsonl")) if "phases" in o][1:]
    epoch = st.median(sum(o["phases"].values()) for o in ep)
    wait = st.median(sum(o.get("halo_wait", {}).values()) for o in ep)
    fwd = st.median(o["phases"]["encoder_fwd"] + o["phases"]["eval_fwd"] for o in ep)
    bwd = st.median(o["phases"]["encoder_bwd"] for o in ep)
    b = lambda E: [tuple(map(int, l.split())) for l in open(f"{work}/bytes_{rate}_{n}_{E}")]
    per = [((t2 - t1) / (e2 - e1), (r2 - r1) / (e2 - e1)) for (t1, r1), (t2, r2) in zip(b(e1), b(e2))]
    busiest = max(max(t, r) for t, r in per)
    return epoch, wait, busiest, fwd + bwd
base = {n: run("none", n) for n in ncs}
print("\nMeasured: median epoch (s), the halo waits inside it (s), the busiest node's link bytes "
      "per epoch (MB, max of sent and received):\n")
print("| links | " + " | ".join(f"{n} node(s): epoch / waits / MB" for n in ncs) + " |")
print("|---|" + "---|" * len(ncs))
for rate in ["none"] + rates:
    cells = []
    for n in ncs:
        e, w, b, _ = run(rate, n) if rate == "none" or n != "1" else base[n]
        cells.append(f"{e:.3f} / {w:.3f} / {b / 1e6:.2f}")
    print(f"| {rate} | " + " | ".join(cells) + " |")
print("\nPredicted from the unshaped epoch at the same node count plus the busiest node's bytes "
      "at the link rate (A: all exposed; B: less the GAT passes' time, the most the split-phase "
      "overlap could hide); 'hidden' = the part of the transfer time the measured epoch did not "
      "add:\n")
print("| links | nodes | measured epoch (s) | transfer at the rate (s) | predicted A (s) | A / measured "
      "| predicted B (s) | B / measured | hidden |")
print("|---|---|---|---|---|---|---|---|---|")
for rate in rates:
    for n in ncs:
        if n == "1":
            continue
        e, w, b, gat = run(rate, n)
        e0, _, b0, gat0 = base[n]
        xfer = b0 / bps(rate)
        a = e0 + xfer
        bb = e0 + max(0.0, xfer - gat0)
        hidden = 1 - (e - e0) / xfer if xfer > 0 else 0
        print(f"| {rate} | {n} | {e:.3f} | {xfer:.3f} | {a:.3f} | {a / e:.2f} | {bb:.3f} | "
              f"{bb / e:.2f} | {100 * hidden:.0f} % |")
PY
