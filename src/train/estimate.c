/* estimate.c: the memory model of one rank of erase-mpi train, step by step. The bytes are the
 * buffer tables of the modules (erase/mem.h: each module's size function sums the table its
 * create allocates from); this file only says which of them are live together at each step, in
 * the order train runs them, and adds the runtime. Import and partition are models of their
 * designs, not tables. benchmarks/bench_memory.sh compares the model to measured peak RSS. */
#include "erase/estimate.h"

#include <math.h>

#include "erase/dataset.h"
#include "erase/encoder.h"
#include "erase/h5.h"
#include "erase/loss.h"
#include "erase/prop.h"
#include "erase/semantic.h"
#include "train_private.h"

/* Resident set of the binary, its libraries, MPI and HDF5 that no table holds, per rank:
 * the peak RSS of `train` on a 1000-node graph (2 epochs, reference widths) minus the table bytes
 * it touched and OpenBLAS's buffer below, 22.5-28.5 MB over the ranks of 1, 2 and 4-rank runs
 * (benchmarks/RESULTS.md "Memory model (buffer tables)"). */
#define ER_MEM_RUNTIME (24.0 * 1048576)

/* OpenBLAS (0.3.21, pthread build, one thread, this machine's Zen kernels) packs the panels of a
 * GEMM into one 128 MiB buffer: a row-major product over m rows with inner dimension k touches
 * 4 l min(m, R) bytes of it, l = k up to Q, about k/2 up to 2Q, Q beyond, and R the rows that fit
 * the buffer. The epoch's products run over the owned rows with k = the input features (dense
 * layer 1), hidden and embed. Q = 320 and R are inferred from the buffer's resident set measured
 * at 50K and 150K owned rows (51.6 and 107.4 MB; reference widths: l = 256). */
#define ER_BLAS_BUFFER (128.0 * 1048576)
#define ER_BLAS_Q 320.0

static double blas_panel(double k) {
  if (k <= ER_BLAS_Q) return k;
  if (k < 2 * ER_BLAS_Q) return 8 * ceil(k / 16); /* half, rounded up to the 8-row unroll */
  return ER_BLAS_Q;
}

static double blas_bytes(const er_mem_counts *c, int sparse) {
  double l = fmax(blas_panel((double)c->hidden), blas_panel((double)c->embed));
  if (!sparse) l = fmax(l, blas_panel((double)c->F));
  const double rows_fit = ER_BLAS_BUFFER / (4 * ER_BLAS_Q) - 15;
  return 4 * l * fmin((double)c->n, rows_fit);
}

const char *const er_mem_step_names[ER_MEM_NSTEP] = {
    "graph", "normalize", "noise", "denoise", "build", "epoch", "output"};

static double max2(double a, double b) { return a > b ? a : b; }

void er_mem_train_model(const er_mem_counts *c, er_mem_train *m) {
  er_encoder_mem enc;
  er_encoder_mem_f(c, &enc);
  const double graph = er_dgraph_bytes(c, 0), graph_x = er_dgraph_bytes(c, 1);
  const double trainer = er_trainer_bytes(c);
  /* the halo's packing buffer grows with the widest exchange so far: K doubles in the
   * denoising, then the encoder's hidden-wide rows in the first epoch */
  const double halo_den = er_halo_buffer_bytes(c, 8.0 * (double)c->K);
  const double halo_all = er_halo_buffer_bytes(c, max2(enc.halo_row, 8.0 * (double)c->K));
  const double model = enc.kept + enc.scratch + er_semantic_bytes(c) + er_mcr2_bytes(c, 0);
  const double planning = graph + trainer + halo_den + model + er_eval_bytes(c, 1) +
                          enc.eval_plan;
  const double built = graph + trainer + halo_den + model + er_eval_bytes(c, 0) +
                       enc.eval_rows + er_train_state_bytes(c, (int64_t)enc.n_params) +
                       er_trainer_adam_bytes((int64_t)enc.n_params);
  /* from the first epoch on: the packing buffer at its widest, the loss's row permutation */
  const double steady = built + (halo_all - halo_den) + er_mcr2_bytes(c, c->n) -
                        er_mcr2_bytes(c, 0);
  double epoch = er_eval_run_bytes(c, 0);
  if (c->checkpoint) epoch = max2(epoch, er_checkpoint_write_bytes(c));
  if (c->floor) epoch = max2(epoch, er_floor_bytes(c));
  m->runtime = ER_MEM_RUNTIME;
  m->blas = blas_bytes(c, enc.sparse);
  m->sparse = enc.sparse;
  double *t = m->tables;
  t[ER_MEM_GRAPH] = er_dgraph_create_peak(c, 1);
  if (c->reorder) t[ER_MEM_GRAPH] = max2(t[ER_MEM_GRAPH], graph_x + er_dgraph_reorder_bytes(c));
  t[ER_MEM_NORMALIZE] = graph_x + trainer;
  t[ER_MEM_NOISE] = graph + trainer + er_trainer_noise_bytes(c);
  t[ER_MEM_DENOISE] = graph + trainer + halo_den + er_denoise_bytes(c);
  t[ER_MEM_BUILD] = max2(planning, built);
  t[ER_MEM_EPOCH] = steady + epoch;
  /* outputs: the backward scratch and the evaluation rows go, an evaluation of every row, then
   * the labels, the block and the rows moved to it */
  t[ER_MEM_OUTPUT] = steady - enc.scratch - enc.eval_rows +
                     max2(er_eval_run_bytes(c, 1), er_output_bytes(c, er_h5_seal_bytes()));
  m->setup = m->setup_resident = m->train = m->with_out = m->tables_train = m->tables_out = 0;
  for (int k = 0; k < ER_MEM_NSTEP; ++k) {
    /* OpenBLAS's buffer is touched from the first epoch on */
    m->step[k] = t[k] + m->runtime + (k >= ER_MEM_EPOCH ? m->blas : 0);
    if (k < ER_MEM_EPOCH) m->setup = max2(m->setup, m->step[k]);
    if (k < ER_MEM_BUILD) m->setup_resident = max2(m->setup_resident, m->step[k]);
    if (k < ER_MEM_OUTPUT) {
      m->train = max2(m->train, m->step[k]);
      m->tables_train = max2(m->tables_train, t[k]);
    }
    m->with_out = max2(m->with_out, m->step[k]);
    m->tables_out = max2(m->tables_out, t[k]);
  }
}

double er_mem_halo_row_bytes(const er_mem_counts *c, int T) {
  const double v = c->gather_bf16 ? 2.0 : 4.0; /* bytes of a value of the encoder's rows */
  return 2.0 * v * (2.0 * (double)c->hidden) + v * (2.0 * (double)c->hidden) +
         (double)T * 8 * (double)c->K;
}

//---- import and partition ----------------------------------------------------------------------

/* `import` as src/io/import_*.c run it, on this rank's block of rows (c->b) and its share of the
 * edge lines (E / P, each undirected edge once in the input). Features: the block's rows (F
 * floats) and a bit per cell (coordinate input), beside the exchange rounds. Edges: the rank's
 * (u, v) pairs and its row pointers, then either the row lengths (an int per node on every rank
 * when N <= 4 E / P, Reduce_scatter) or the columns of both orientations (before duplicates
 * are dropped), their fill pointers and one routing round (4 ROUND_PAIRS int64 sent, as many
 * pairs received; one rank places its pairs without the round, and this 8 MiB over-count is
 * kept there: the model without it came 2.6 % under the measured peak). */
#define ER_IMPORT_ROUND_PAIRS ((double)(1 << 17)) /* import_graph.c ROUND_PAIRS */
#define ER_IMPORT_ROUND_ITEMS ((double)(1 << 16)) /* ingest.h IMP_ROUND */
double er_mem_import(const er_mem_counts *c) {
  const double P = (double)c->P, N = (double)c->N, rows = (double)c->b;
  const double pairs = (double)c->E / P, entries = 2 * pairs;
  const double feat = rows * (4.0 * (double)c->F) + rows * (double)c->F / 8 +
                      2 * ER_IMPORT_ROUND_ITEMS * 16 + (double)(1 << 20);
  const double dense = c->P > 1 && N <= 4 * (pairs + 1) ? 4 * N + 4 * rows : 0;
  const double route = 4 * ER_IMPORT_ROUND_PAIRS * 8 + 2 * ER_IMPORT_ROUND_PAIRS * 16;
  const double edges = 16 * pairs + 8 * (rows + 1) + max2(dense, 8 * entries + 8 * rows + route);
  return ER_MEM_RUNTIME + max2(feat, edges);
}

/* METIS's own work space (graph copies, coarsening levels, refinement) in units of the graph it
 * is given (4 (N + 1) + 4 * 2E bytes of idx_t): measured on rank 0 of `partition --parts 2` on
 * the 300K CSBM (benchmarks/RESULTS.md "Memory model (buffer tables)"). */
#define ER_METIS_WORK 2.6

double er_mem_partition_metis(const er_mem_counts *c) {
  const double N = (double)c->N, nnz = 2.0 * (double)c->E;
  const double csr64 = 8 * (N + 1) + 8 * nnz, idx = 4 * (N + 1) + 4 * nnz;
  const double owner = 4 * N, where = 4 * N;
  return ER_MEM_RUNTIME + csr64 + owner + idx + where + ER_METIS_WORK * idx;
}

double er_mem_partition_ptscotch(const er_mem_counts *c) {
  const double rows = (double)c->b, entries = (double)c->be;
  const double block = 4 * (rows + 1) + 4 * entries, owner = 4 * rows;
  return ER_MEM_RUNTIME + block + owner + ER_METIS_WORK * block;
}

//---- ghosts without a partition ------------------------------------------------------------------

double er_mem_ghost_fraction(int64_t P) {
  /* mean ghosts / owned rows of METIS partitions of the 1M-node CSBM (average degree 10) at
   * P = 2..64 (RESULTS.md, "Halo volume per rank per epoch"); beyond 64 the ghosts per rank
   * follow the measured P^-0.6 trend, i.e. the fraction grows as P^0.4 */
  static const double p[] = {1, 2, 4, 8, 16, 32, 64};
  static const double f[] = {0, 0.681, 1.597, 2.165, 3.522, 4.595, 5.522};
  const int n = (int)(sizeof p / sizeof p[0]);
  double x = (double)P;
  if (x <= 1) return 0;
  if (x >= p[n - 1]) return f[n - 1] * pow(x / p[n - 1], 0.4);
  int k = 1;
  while (p[k] < x) ++k;
  double t = (log(x) - log(p[k - 1])) / (log(p[k]) - log(p[k - 1]));
  return f[k - 1] + t * (f[k] - f[k - 1]);
}
