/* cmd_estimate.c: `erase-mpi estimate`: predict each rank's peak memory for a training run (and
 * the peak of import and partition) before running it, from a dataset and its partition, or from
 * sizes alone. Rank 0 computes; the partition's per-part counts come from er_partition_profile;
 * the model is src/train/estimate.c over the modules' buffer tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"
#include "erase/estimate.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/loss.h"
#include "erase/partition.h"
#include "erase/train.h"

typedef struct {
  char data[4096], partition[64];
  int64_t ranks, hidden, heads, embed, epochs, runs;
  int64_t nodes, edges, features, classes, train_rows;
  double ghost_fraction, density;
  int gather_precision; /* er_gather_precision */
  int reorder;          /* er_order_kind */
} estimate_args;

#define A estimate_args
static const er_opt estimate_opts[] = {
    ER_OPT_S(A, "data", data, "DATA.h5", "dataset (or give its sizes: --nodes ... --classes)"),
    ER_OPT_I(A, "ranks", ranks, 1, 1 << 24, "P", "ranks of the training run (required)"),
    ER_OPT_S(A, "partition", partition, "auto|block",
             "auto: /partitions/<P> when present, else contiguous blocks"),
    ER_OPT_I(A, "hidden", hidden, 1, 1 << 20, "N", "hidden width of GAT layer 1"),
    ER_OPT_I(A, "heads", heads, 1, 1024, "N", "attention heads of layer 1"),
    ER_OPT_I(A, "embed", embed, 1, 1 << 16, "D", "embedding width d"),
    ER_OPT_I(A, "epochs", epochs, 1, 1 << 30, "N", "epochs per run (the metric history)"),
    ER_OPT_I(A, "runs", runs, 1, 1 << 20, "N", "runs"),
    ER_OPT_E(A, "gather-precision", gather_precision, er_gather_precisions,
             "train's --gather-precision (bf16: the encoder's bf16 rows, 2-byte\n"
             "halo values)"),
    ER_OPT_E(A, "reorder", reorder, er_order_kinds,
             "train's --reorder (rcm: its scratch at setup)"),
    ER_OPT_I(A, "nodes", nodes, 0, INT64_MAX / 4, "N", "without --data: nodes"),
    ER_OPT_I(A, "edges", edges, 0, INT64_MAX / 4, "E", "without --data: undirected edges"),
    ER_OPT_I(A, "features", features, 0, 1 << 24, "F", "without --data: input features"),
    ER_OPT_I(A, "classes", classes, 0, 1 << 20, "K", "without --data: classes"),
    ER_OPT_F(A, "ghost-fraction", ghost_fraction, -1, 1e6, "G",
             "without --data: ghost rows per owned row (default: METIS on the 1M CSBM,\n"
             "interpolated in P; see benchmarks/RESULTS.md)"),
    ER_OPT_F(A, "density", density, 0, 1, "D",
             "without --data: fraction of nonzero input features (below 0.25 the first\n"
             "layer runs sparse)"),
    ER_OPT_I(A, "train-rows", train_rows, -1, INT64_MAX / 4, "T",
             "without --data: training rows (default 20 per class, as generate)"),
};
#undef A

static const er_cmd_spec estimate_spec = {
    .cmd = "estimate",
    .usage = "usage: erase-mpi estimate --data DATA.h5 --ranks P [options]\n"
             "       erase-mpi estimate --nodes N --edges E --features F --classes K --ranks P\n"
             "                          [--ghost-fraction G] [options]\n"
             "Predict the peak memory of each rank of `mpirun -n P erase-mpi train` step by step\n"
             "(graph build, setup, epoch, writing --out) from the partition or from sizes alone,\n"
             "and the per-rank peak of import and partition. Runs on one process.\n",
    .opts = estimate_opts,
    .n_opts = (int)(sizeof estimate_opts / sizeof estimate_opts[0]),
};

static double mib(double b) { return b / 1048576.0; }

/* The table: per-rank bytes of every step and command, max and mean over the ranks, then the
 * lines that scripts read (rank lines, "peak per rank", "halo per epoch"). */
static void print_model(const estimate_args *a, int P, const er_mem_counts *c, int T) {
  er_mem_train m, worst_m;
  memset(&worst_m, 0, sizeof worst_m);
  double step_max[ER_MEM_NSTEP] = {0}, step_sum[ER_MEM_NSTEP] = {0};
  double worst = 0, total = 0, worst_train = 0, setup_max = 0, setup_sum = 0;
  double res_max = 0, res_sum = 0;
  double imp_max = 0, scotch_max = 0, hmax = 0, hsum = 0, gsum = 0;
  const double halo_row = er_mem_halo_row_bytes(&c[0], T);
  int worst_rank = 0;
  for (int p = 0; p < P; ++p) {
    er_mem_train_model(&c[p], &m);
    for (int k = 0; k < ER_MEM_NSTEP; ++k) {
      step_sum[k] += m.step[k];
      if (m.step[k] > step_max[k]) step_max[k] = m.step[k];
    }
    setup_sum += m.setup, res_sum += m.setup_resident;
    if (m.setup > setup_max) setup_max = m.setup;
    if (m.setup_resident > res_max) res_max = m.setup_resident;
    total += m.with_out;
    if (m.with_out > worst) worst = m.with_out, worst_rank = p, worst_m = m;
    if (m.train > worst_train) worst_train = m.train;
    double imp = er_mem_import(&c[p]), sc = er_mem_partition_ptscotch(&c[p]);
    if (imp > imp_max) imp_max = imp;
    if (sc > scotch_max) scotch_max = sc;
    double h = halo_row * (double)c[p].g;
    hsum += h, gsum += (double)c[p].g;
    if (h > hmax) hmax = h;
  }
  printf("  memory model: the modules' buffer tables (*_BUFFERS in src/), live together step by "
         "step, + %.1f MiB runtime + OpenBLAS's buffer from epoch 1 (%.1f MiB on the largest "
         "rank); %s first layer\n", mib(worst_m.runtime), mib(worst_m.blas),
         worst_m.sparse ? "sparse" : "dense");
  printf("  halo per epoch: %.0f B per ghost row (T=%d): max %.1f MB, mean %.1f MB received per "
         "rank; total ghosts %.0f\n", halo_row, T, hmax / 1e6, hsum / P / 1e6, gsum);
  printf("  per-rank peak, MiB:             max     mean\n");
  static const char *const what[ER_MEM_NSTEP] = {
      "train: read + build graph", "train: normalize features", "train: label noise",
      "train: denoise",            "train: build model",        "train: epoch (steady)",
      "train: write --out"};
  for (int k = 0; k < ER_MEM_NSTEP; ++k)
    printf("  %-28s %8.1f %8.1f\n", what[k], mib(step_max[k]), mib(step_sum[k] / P));
  printf("  %-28s %8.1f %8.1f\n", "train: setup (before epoch 1)", mib(setup_max),
         mib(setup_sum / P));
  printf("  %-28s %8.1f %8.1f   (the model's buffers untouched until epoch 1)\n",
         "train: setup, resident", mib(res_max), mib(res_sum / P));
  printf("  %-28s %8.1f\n", "import", mib(imp_max));
  printf("  %-28s %8.1f   (other ranks: runtime)\n", "partition: METIS on rank 0",
         mib(er_mem_partition_metis(&c[0])));
  printf("  %-28s %8.1f\n", "partition: PT-Scotch*", mib(scotch_max));
  printf("  * PT-Scotch's work space taken as METIS's: a lower bound (it also gathers its "
         "coarsest graphs on every rank)\n");
  for (int p = 0; P <= 16 && p < P; ++p) {
    er_mem_train_model(&c[p], &m);
    printf("  rank %d: %lld nodes, %lld ghosts, %lld edges, %lld sent rows -> %.1f MiB "
           "(training %.1f, setup %.1f; tables %.1f, training %.1f)\n", p, (long long)c[p].n,
           (long long)c[p].g, (long long)c[p].e, (long long)c[p].s, mib(m.with_out),
           mib(m.train), mib(m.setup), mib(m.tables_out), mib(m.tables_train));
  }
  int at = 0;
  for (int k = 1; k < ER_MEM_NSTEP; ++k)
    if (worst_m.step[k] > worst_m.step[at]) at = k;
  printf("  peak per rank: max %.1f MiB (rank %d, step %s), mean %.1f MiB; all ranks %.2f GiB "
         "(with --out; training alone: max %.1f MiB)\n", mib(worst), worst_rank,
         er_mem_step_names[at], mib(total / P), total / 1073741824.0, mib(worst_train));
  (void)a;
  fflush(stdout);
}

/* Counts every rank of a run shares. */
static void run_counts(const estimate_args *a, int P, int64_t N, int64_t E, int64_t F,
                       int64_t K, const int64_t split[3], double density, er_mem_counts *c) {
  memset(c, 0, sizeof *c);
  c->P = P, c->N = N, c->E = E, c->F = F, c->K = K;
  c->hidden = a->hidden, c->heads = a->heads, c->embed = a->embed;
  memcpy(c->split, split, sizeof c->split);
  c->density = density;
  c->solver = ER_MCR2_AUTO;
  c->gamma1 = 1.0;
  c->runs = a->runs, c->epochs = a->epochs;
  c->gather_bf16 = a->gather_precision == ER_GATHER_BF16;
  c->reorder = a->reorder == ER_ORDER_RCM;
}

/* Rows of each part in the encoder's evaluation subsets (er_encoder_eval_rows): the labelled
 * rows, their neighbourhood (layer 1) and its neighbourhood (layer-1 input), planned only when
 * the layer-1 rows are at most half of the graph. */
static er_err eval_subsets(const er_csr *A, const int32_t *owner, const uint8_t *labelled, int P,
                           er_mem_counts *c) {
  er_err err = ER_OK;
  uint8_t *f1 = NULL, *f0 = NULL;
  ER_CALLOC(f1, A->n);
  ER_CALLOC(f0, A->n);
  int64_t n1 = 0;
  for (int64_t v = 0; v < A->n; ++v)
    if (labelled[v]) {
      f1[v] = 1;
      for (int64_t k = A->indptr[v]; k < A->indptr[v + 1]; ++k) f1[A->indices[k]] = 1;
    }
  for (int64_t v = 0; v < A->n; ++v) n1 += f1[v];
  if ((double)n1 > 0.5 * (double)A->n) goto cleanup; /* no plan: every row is computed */
  for (int64_t v = 0; v < A->n; ++v)
    if (f1[v]) {
      f0[v] = 1;
      for (int64_t k = A->indptr[v]; k < A->indptr[v + 1]; ++k) f0[A->indices[k]] = 1;
    }
  for (int64_t v = 0; v < A->n; ++v) {
    er_mem_counts *r = &c[owner[v]];
    r->sub[0] += labelled[v] != 0, r->sub[1] += f1[v], r->sub[2] += f0[v];
  }
  (void)P;
cleanup:
  free(f1), free(f0);
  return err;
}

static er_err estimate_root(const estimate_args *a, int P) {
  er_err err = ER_OK;
  hid_t fid = -1, pfid = -1;
  er_csr A = {0};
  int32_t *owner = NULL;
  int64_t *nodes = NULL, *nnz = NULL, *ghosts = NULL, *sends = NULL, *ids = NULL;
  uint8_t *labelled = NULL;
  float *sample = NULL;
  er_mem_counts *c = NULL;
  er_meta meta;
  ER_CALL(er_h5_open(MPI_COMM_SELF, a->data, 0, &fid));
  ER_CALL(er_dataset_meta(MPI_COMM_SELF, fid, &meta));
  ER_CHECK(P >= 1 && P <= meta.num_nodes, ER_ERR_INPUT, "--ranks %d outside [1, N=%lld]", P,
           (long long)meta.num_nodes);
  ER_CALL(er_csr_read(MPI_COMM_SELF, fid, &A));
  ER_MALLOC(owner, A.n);
  char pname[64];
  snprintf(pname, sizeof pname, "%s/%d", ER_DS_PARTITIONS, P);
  if (strcmp(a->partition, "block") && P > 1)
    ER_CALL(er_partition_locate(fid, P, &pfid, pname, sizeof pname));
  int block = pfid < 0;
  if (block) {
    for (int r = 0; r < P; ++r) {
      int64_t lo, hi;
      er_block_range(A.n, P, r, &lo, &hi);
      for (int64_t i = lo; i < hi; ++i) owner[i] = r;
    }
  } else {
    ER_CALL(er_h5_read_all(pfid, pname, H5T_NATIVE_INT32, owner));
  }
  /* input density from the first rows (the sparse first layer switches at 25%) */
  int64_t ns = A.n < 20000 ? A.n : 20000, nzf = 0;
  ER_MALLOC(sample, ns * meta.num_features);
  ER_CALL(er_h5_read_rows(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, 0, ns, sample));
  for (int64_t k = 0; k < ns * meta.num_features; ++k) nzf += sample[k] != 0.0f;
  double density = (double)nzf / (double)(ns * meta.num_features);
  ER_CALLOC(nodes, P);
  ER_CALLOC(nnz, P);
  ER_CALLOC(ghosts, P);
  ER_CALLOC(sends, P);
  ER_CALL(er_partition_profile(A.n, A.indptr, A.indices, owner, P, nodes, nnz, ghosts, sends));
  printf("estimate: %s N=%lld E=%lld F=%lld K=%lld on %d ranks (partition %s)\n", a->data,
         (long long)meta.num_nodes, (long long)meta.num_edges, (long long)meta.num_features,
         (long long)meta.num_classes, P, block ? "block" : pname + 12);
  printf("  model widths: hidden %lld (%lld heads), embed %lld; input density %.3f\n",
         (long long)a->hidden, (long long)a->heads, (long long)a->embed, density);

  //---- the model's counts of every rank ----
  const int64_t split[3] = {meta.n_train, meta.n_val, meta.n_test};
  static const char *const split_ds[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  ER_CALLOC(c, P);
  ER_CALLOC(labelled, A.n);
  for (int s = 0; s < 3; ++s) {
    ER_MALLOC(ids, split[s]);
    ER_CALL(er_h5_read_all(fid, split_ds[s], H5T_NATIVE_INT64, ids));
    for (int64_t k = 0; k < split[s]; ++k) labelled[ids[k]] |= (uint8_t)(1 << s);
    ER_FREE(ids);
  }
  for (int p = 0; p < P; ++p) {
    int64_t lo, hi;
    er_block_range(A.n, P, p, &lo, &hi);
    run_counts(a, P, meta.num_nodes, meta.num_edges, meta.num_features, meta.num_classes, split,
               density, &c[p]);
    c[p].n = nodes[p], c[p].g = ghosts[p], c[p].e = nnz[p], c[p].s = sends[p];
    c[p].b = hi - lo, c[p].be = A.indptr[hi] - A.indptr[lo];
  }
  for (int64_t v = 0; v < A.n; ++v) c[owner[v]].t += labelled[v] & 1;
  for (int64_t v = 0; v < A.n; ++v) /* entries whose column another rank owns */
    for (int64_t k = A.indptr[v]; k < A.indptr[v + 1]; ++k)
      c[owner[v]].cut += owner[A.indices[k]] != owner[v];
  ER_CALL(eval_subsets(&A, owner, labelled, P, c));
  print_model(a, P, c, 5);
cleanup:
  er_partition_release(fid, &pfid);
  er_h5_close(&fid);
  er_csr_free(&A);
  free(owner), free(nodes), free(nnz), free(ghosts), free(sends), free(sample), free(c);
  free(labelled), free(ids);
  return err;
}

/* Without a dataset: every rank holds N/P rows (the first, largest block), 2E/P entries, G ghost
 * rows per owned row and sends as many rows as it holds ghosts. */
static er_err estimate_sizes(const estimate_args *a, int P) {
  er_err err = ER_OK;
  er_mem_counts *c = NULL;
  ER_CHECK(a->nodes > 0 && a->features > 0 && a->classes > 1, ER_ERR_INPUT, "estimate: give "
           "--data, or --nodes, --edges, --features and --classes (see --help)");
  ER_CHECK(P <= a->nodes, ER_ERR_INPUT, "--ranks %d outside [1, N=%lld]", P,
           (long long)a->nodes);
  const int64_t N = a->nodes, E = a->edges, K = a->classes;
  const double density = a->density >= 0 ? a->density : 1.0;
  const int64_t train = a->train_rows >= 0 ? a->train_rows : 20 * K;
  const int64_t split[3] = {train < N ? train : N, 0, 0};
  const int given = a->ghost_fraction >= 0;
  const double G = given ? a->ghost_fraction : er_mem_ghost_fraction(P);
  ER_CALLOC(c, P);
  for (int p = 0; p < P; ++p) {
    int64_t lo, hi;
    er_block_range(N, P, p, &lo, &hi);
    run_counts(a, P, N, E, a->features, K, split, density, &c[p]);
    const int64_t n = hi - lo, e = (int64_t)llround(2.0 * (double)E * (double)n / (double)N);
    double g = G * (double)n;
    if (g > (double)(N - n)) g = (double)(N - n);
    if (g > (double)e) g = (double)e;
    c[p].n = n, c[p].e = e, c[p].g = (int64_t)llround(g), c[p].s = c[p].g;
    /* entries per ghost: 1.6 on METIS partitions of the CSBM at 2 parts (RESULTS.md) */
    c[p].cut = (int64_t)llround(1.6 * g < (double)e ? 1.6 * g : (double)e);
    c[p].b = n, c[p].be = e;
    c[p].t = (int64_t)ceil((double)split[0] * (double)n / (double)N);
  }
  printf("estimate: sizes N=%lld E=%lld F=%lld K=%lld on %d ranks (no dataset)\n", (long long)N,
         (long long)E, (long long)a->features, (long long)K, P);
  printf("  model widths: hidden %lld (%lld heads), embed %lld; input density %.3f; %lld "
         "training rows\n", (long long)a->hidden, (long long)a->heads, (long long)a->embed,
         density, (long long)split[0]);
  printf("  ghost rows per owned row %.3f (%s)\n", G, given ? "--ghost-fraction" :
         "default: METIS partitions of the 1M-node CSBM, average degree 10, interpolated in P "
         "(benchmarks/RESULTS.md, halo table)");
  print_model(a, P, c, 5);
cleanup:
  free(c);
  return err;
}

er_err er_cmd_estimate(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  estimate_args a = {.partition = "auto", .hidden = 256, .heads = 8, .embed = 512, .epochs = 400,
                     .runs = 1, .ghost_fraction = -1, .density = -1, .train_rows = -1};
  ER_CALL(er_opts_parse(comm, &estimate_spec, &a, argc, argv, NULL, NULL));
  ER_CHECK(a.ranks > 0, ER_ERR_INPUT, "estimate: --ranks is required (see --help)");
  ER_CHECK(a.hidden % a.heads == 0, ER_ERR_INPUT, "--heads %lld does not divide --hidden %lld",
           (long long)a.heads, (long long)a.hidden);
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0)
    err = a.data[0] ? estimate_root(&a, (int)a.ranks) : estimate_sizes(&a, (int)a.ranks);
cleanup:
  return err;
}
