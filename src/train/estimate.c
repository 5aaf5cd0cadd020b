/* estimate.c: the memory model of a training rank, term by term from the allocations of
 * dgraph.c, train.c, encoder_template.h, nn/gat_template.h, semantic.c, prop.c, halo.c and
 * loss/mcr2.c. Keep it in step with them; benchmarks/bench_memory.sh compares it to peak RSS. */
#include "erase/estimate.h"

/* resident set of the MPI / HDF5 / BLAS runtime and the binary, measured on this machine
 * (`mpirun -n 2 /usr/bin/time -v erase-mpi info` on Cora: 33 MiB per rank) */
#define ER_MEM_RUNTIME (33.0 * 1024 * 1024)

void er_mem_model_make(const er_mem_shape *s, er_mem_model *m) {
  double F = (double)s->F, K = (double)s->K, Hd = (double)s->hidden, H = (double)s->heads;
  double d = (double)s->embed;
  /* owned rows: dgraph (gid, indptr, labels, split, row_order), trainer (normalized features,
   * noisy, L, probe labels, predictions), encoder (u2, n1, o2, zl (= Z), n2, d1, dropout input
   * when dense), GAT caches (s_dst, self-loop attention and its dal), semantic (dots,
   * den_class), propagation scratch (py, allocated once in semantic.c), evaluation row lists
   * (labelled rows in train.c, the encoder's three subset lists: at most 4 x 4 B) */
  m->per_node = 8 + 8 + 4 + 1 + 4 + 4 * F + 4 * 4 + (s->sparse_input ? 0 : 4 * F) + 4 * Hd +
                4 + 2 * 4 * d + 4 + 4 * Hd + 4 * (H + 1) + 2 * 4 * (H + 1) + 4 * K + 4 +
                8 * K + 4 * 4;
  /* every resident row (owned and ghost): h1, a1, dh (both layers' input gradient), Y_den,
   * semantic Y and work, GAT s_src, ds_src and the transposed-list row pointers of both layers */
  m->per_row = 3 * 4 * Hd + 3 * 8 * K + 2 * 4 * (H + 1) + 2 * 8;
  m->per_ghost = 8 + 4; /* gid, owner */
  /* local column id; per GAT layer: attention and its gradient dal per slot, the transposed
   * edge list (target row int32, slot int64) */
  m->per_edge = 4 + 2 * 4 * (H + 1) + 2 * (4 + 8);
  /* halo packing buffer at the widest exchange (both GAT layers exchange hidden-wide rows) */
  m->per_send = 4 * Hd > 8 * K ? 4 * Hd : 8 * K;
  m->per_feat_nnz = s->sparse_input ? 2 * (4 + 4) : 0; /* CSR input and its dropout copy */
  /* output phase (train.c, output.c): dh freed; the embedding block, the redistribution's
   * send buffer and the parallel-HDF5/MPI-IO collective buffer, each (rows x d) floats, measured
   * on the 1M graph at 2 ranks (benchmarks/RESULTS.md: 9403 MiB measured, 9292 predicted) */
  m->out_release_per_row = 4 * Hd;
  m->out_per_node = 3 * 4 * d;
  double params = F * Hd + 3 * Hd + Hd * d + 3 * d;
  /* params, grads, 3 Adam moments, best copy; MCR2 matrices (K+1 double + K float), chunks,
   * the gathered packed inverses of the LAPACK path (on more than one rank) */
  m->constant = ER_MEM_RUNTIME + params * 4 * 6 + (K + 1) * d * d * 8 + K * d * d * 4 +
                4 * 256 * d * 8 + (K + 1) * (d * (d + 1) / 2 + 2) * 8;
}

void er_mem_predict_phases(const er_mem_model *m, int64_t n, int64_t g, int64_t e, int64_t s,
                           double *train, double *out) {
  *train = m->constant + m->per_node * n + m->per_row * (double)(n + g) + m->per_ghost * g +
           m->per_edge * (double)e + m->per_send * (double)s;
  *out = *train - m->out_release_per_row * (double)(n + g) + m->out_per_node * n;
}

