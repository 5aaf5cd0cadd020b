#!/usr/bin/env bash
# bench_wire_bytes.sh [NODES_IN_GRAPH]: bytes on the wire of a 3-node training against the model.
# On a 3-node cluster of network namespaces (scripts/cluster-up.sh) it trains a generated graph
# (METIS partition for 3) with srun -N 3 -n 3 for 2 and for 6 epochs, and takes per epoch the
# difference / 4 (setup, load and output cancel) of
#   wire: the bytes the three nodes' eth0 links sent (/sys/class/net/eth0/statistics/tx_bytes;
#         every byte one node sends another receives, through the bridge);
#   MPI:  the bytes Open MPI's own pml monitoring counted (point-to-point = the halos, internal
#         = the collectives' messages);
#   model: the halo volume of that partition (`estimate`: bytes per ghost row x ghosts) plus the
#         epoch's collectives from their payloads (MCR2 Grams, semantic prototypes, gradients,
#         the allgather of the coding-rate inverses, the probe's sums: one reduce + broadcast of
#         its K (d + 1) + 1 doubles per L-BFGS evaluation, counted in the JSON log), each
#         times the bytes Open MPI moves per payload byte on these 3 nodes, measured here for
#         the same payload sizes with benchmarks/mpi_volume.c (the stated MPI overhead: the
#         bandwidth-optimal volumes are 4 S for an allreduce and 2 S for an allgather at P = 3).
# Prints one table. As root; needs Slurm, munge, `ip netns` (as tests/test_cluster_smoke.sh).
#   benchmarks/bench_wire_bytes.sh 20000
#   GEN_ARGS="--model hsbm" benchmarks/bench_wire_bytes.sh 20000   # a graph with locality
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
scripts=$root/scripts
N=${1:-20000}
BIN=$(realpath "${ERASE_BIN:-$root/build/erase-mpi}")
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
dir=$(mktemp -d /var/tmp/er-wire.XXXXXX)
trap '"$scripts/cluster-down.sh" "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$scripts/cluster-up.sh" "$dir" 3 >/dev/null
prefix=$(sed -n 's/^prefix=//p' "$dir/cluster.conf")
mkdir -p "$dir/work"
cd "$dir/work"
on() { "$scripts/cluster-exec.sh" "$dir" "$@"; }
tx() { # sum of the nodes' eth0 tx bytes
  local s=0 i b
  for i in 1 2 3; do
    b=$(ip netns exec "$prefix-n$i" cat /sys/class/net/eth0/statistics/tx_bytes)
    s=$((s + b))
  done
  echo $s
}
WIDTHS=(--hidden 64 --heads 4 --embed 128)
MODEL=("${WIDTHS[@]}" --solver lapack --quiet 1)
on n1 srun -N 3 -n 3 --mpi=pmix "$BIN" generate --nodes "$N" --classes 8 --features 128 \
  ${GEN_ARGS:-} --out g.h5 --quiet >/dev/null
on n1 srun -N 3 -n 3 --mpi=pmix "$BIN" partition --data g.h5 --parts 3 >/dev/null
"$BIN" estimate --data g.h5 --ranks 3 "${WIDTHS[@]}" >estimate.txt
mpicc -O2 "$here/mpi_volume.c" -o mpi_volume
for E in 2 6; do
  t0=$(tx)
  OMPI_MCA_pml_monitoring_enable=2 OMPI_MCA_pml_monitoring_enable_output=3 \
    OMPI_MCA_pml_monitoring_filename=$PWD/mon$E \
    on n1 srun -N 3 -n 3 --mpi=pmix "$BIN" train --data g.h5 --epochs $E "${MODEL[@]}" \
    --log-json log$E.jsonl >train$E.txt
  echo "$(($(tx) - t0))" >wire$E
done
# the volume factor of each payload size the model uses (monitored totals of 1 and 11 calls)
sizes() { /usr/bin/python3 -c '
import h5py, re, sys
K = int(re.search(r"K=(\d+)", open("train6.txt").read()).group(1))
p = int(re.search(r"(\d+) params", open("train6.txt").read()).group(1))
d = 128; plen = d * (d + 1) // 2
n = h5py.File("g.h5", "r")["/split/train"].shape[0]
print("allreduce", (K * plen + K + 2) * 8); print("allreduce", (K * d + K) * 8)
print("allreduce", p * 4); print("allgatherv", (K + 1) * (plen + 2) * 8)
print("reduce_bcast", (K * (d + 1) + 1) * 8)'; }
sizes >payloads
while read -r op S; do
  for r in 1 11; do
    OMPI_MCA_pml_monitoring_enable=2 OMPI_MCA_pml_monitoring_enable_output=3 \
      OMPI_MCA_pml_monitoring_filename=$PWD/vol$r on n1 srun -N 3 -n 3 --mpi=pmix \
      ./mpi_volume "$op" "$S" $r </dev/null
  done
  a=$(cat vol1.*.prof | awk -F'\t' '/^I/ { split($4, x, " "); s += x[1] } END { print s }')
  b=$(cat vol11.*.prof | awk -F'\t' '/^I/ { split($4, x, " "); s += x[1] } END { print s }')
  echo "$op $S $(((b - a) / 10))" >>volumes
done <payloads
/usr/bin/python3 - "$dir/work" <<'PY'
import glob, json, re, sys, os
os.chdir(sys.argv[1])
est = open("estimate.txt").read()
row_b, ghosts = re.search(r"halo per epoch: (\d+) B per ghost row .* total ghosts (\d+)", est).groups()
hdr = open("train6.txt").read()
N, K = (int(x) for x in re.search(r"N=(\d+) .* K=(\d+)", hdr).groups())
nparams = int(re.search(r"(\d+) params", hdr).group(1))
setup = json.loads(open("log6.jsonl").readline())
P, d = 3, 128
import h5py
with h5py.File("g.h5", "r") as f: ntrain = f["/split/train"].shape[0]
def mon(E):
    e = i = 0
    for f in glob.glob(f"mon{E}.*.prof"):
        for l in open(f):
            m = re.match(r"([EI])\t\d+\t\d+\t(\d+) bytes", l)
            if m:
                if m.group(1) == "E": e += int(m.group(2))
                else: i += int(m.group(2))
    return e, i
e2, i2 = mon(2); e6, i6 = mon(6)
w2, w6 = int(open("wire2").read()), int(open("wire6").read())
pe = lambda a, b: (b - a) / 4
plen = d * (d + 1) // 2
vol = {(l.split()[0], int(l.split()[1])): int(l.split()[2]) for l in open("volumes")}
f = lambda op, S: vol[(op, S)]            # bytes all ranks send for one call of payload S
model = {
    "halo (estimate: %s B x %s ghosts)" % (row_b, ghosts): int(row_b) * int(ghosts),
    "MCR2 Grams allreduce (K plen + K + 2 doubles)": f("allreduce", (K * plen + K + 2) * 8),
    "semantic prototypes allreduce (K d + K doubles)": f("allreduce", (K * d + K) * 8),
    "gradient allreduce (%d floats)" % nparams: f("allreduce", nparams * 4),
    "coding-rate inverses allgather ((K+1)(plen+2) doubles)":
        f("allgatherv", (K + 1) * (plen + 2) * 8),
}
# the probe's sums: one reduce + broadcast per L-BFGS evaluation of its (present classes) x
# (d + 1) + 1 doubles; K classes are all present in the generated graph's training rows
epochs = [o for o in map(json.loads, open("log6.jsonl")) if "phases" in o]
per_epoch = sum(o["probe_evaluations"] for o in epochs[2:6]) / 4  # the epochs 6 has and 2 lacks
model["probe: %.1f reduce + broadcast of %d doubles" % (per_epoch, K * (d + 1) + 1)] = \
    per_epoch * f("reduce_bcast", (K * (d + 1) + 1) * 8)
print("Open MPI volume per payload byte (all ranks, measured):",
      ", ".join(f"{op} {S} B: {v / S:.2f}" for (op, S), v in sorted(vol.items())))
tot = sum(model.values())
print(f"graph N={N} K={K}, d={d}, {nparams} params, 3 nodes x 1 rank; per epoch:")
for k, v in model.items(): print(f"  model {k:<48} {v/1e6:9.3f} MB")
print(f"  model total                                           {tot/1e6:9.3f} MB")
print(f"  MPI pt2pt (pml monitoring, halos)                     {pe(e2, e6)/1e6:9.3f} MB")
print(f"  MPI internal (pml monitoring, collectives)            {pe(i2, i6)/1e6:9.3f} MB")
print(f"  wire (sum of eth0 tx of the 3 nodes)                  {pe(w2, w6)/1e6:9.3f} MB")
print(f"  wire / model = {pe(w2, w6)/tot:.3f}; wire / MPI = {pe(w2, w6)/(pe(e2, e6)+pe(i2, i6)):.3f}")
PY
