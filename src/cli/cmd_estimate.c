/* cmd_estimate.c: `erase-mpi estimate`: predict each rank's peak memory for a training run
 * from the dataset, a partition and the model widths, before running it. Rank 0 computes; the
 * partition's per-part counts come from er_partition_profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"
#include "erase/estimate.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"

typedef struct {
  char data[4096], partition[64];
  int64_t ranks, hidden, heads, embed;
} estimate_args;

#define A estimate_args
static const er_opt estimate_opts[] = {
    ER_OPT_S(A, "data", data, "DATA.h5", "dataset (required)"),
    ER_OPT_I(A, "ranks", ranks, 1, 1 << 24, "P", "ranks of the training run (required)"),
    ER_OPT_S(A, "partition", partition, "auto|block",
             "auto: /partitions/<P> when present, else contiguous blocks"),
    ER_OPT_I(A, "hidden", hidden, 1, 1 << 20, "N", "hidden width of GAT layer 1"),
    ER_OPT_I(A, "heads", heads, 1, 1024, "N", "attention heads of layer 1"),
    ER_OPT_I(A, "embed", embed, 1, 1 << 16, "D", "embedding width d"),
};
#undef A

static const er_cmd_spec estimate_spec = {
    .cmd = "estimate",
    .usage = "usage: erase-mpi estimate --data DATA.h5 --ranks P [options]\n"
             "Predict the peak memory of each rank of `mpirun -n P erase-mpi train` from the\n"
             "partition and the model widths, and print the memory model (bytes per node, row,\n"
             "ghost, edge, sent row). Runs on one process.\n",
    .opts = estimate_opts,
    .n_opts = (int)(sizeof estimate_opts / sizeof estimate_opts[0]),
};

static er_err estimate_root(const char *data, int P, const char *partition, int64_t hidden,
                            int64_t heads, int64_t embed) {
  er_err err = ER_OK;
  hid_t fid = -1, pfid = -1;
  er_csr A = {0};
  int32_t *owner = NULL;
  int64_t *nodes = NULL, *nnz = NULL, *ghosts = NULL, *sends = NULL;
  float *sample = NULL;
  er_meta meta;
  ER_CALL(er_h5_open(MPI_COMM_SELF, data, 0, &fid));
  ER_CALL(er_dataset_meta(MPI_COMM_SELF, fid, &meta));
  ER_CHECK(P >= 1 && P <= meta.num_nodes, ER_ERR_INPUT, "--ranks %d outside [1, N=%lld]", P,
           (long long)meta.num_nodes);
  ER_CALL(er_csr_read(MPI_COMM_SELF, fid, &A));
  ER_MALLOC(owner, A.n);
  char pname[64];
  snprintf(pname, sizeof pname, "%s/%d", ER_DS_PARTITIONS, P);
  if (strcmp(partition, "block") && P > 1)
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
  er_mem_shape sh = {meta.num_features, meta.num_classes, hidden, heads, embed, density < 0.25,
                     density};
  er_mem_model m;
  er_mem_model_make(&sh, &m);
  printf("estimate: %s N=%lld E=%lld F=%lld K=%lld on %d ranks (partition %s)\n", data,
         (long long)meta.num_nodes, (long long)meta.num_edges, (long long)meta.num_features,
         (long long)meta.num_classes, P, block ? "block" : pname + 12);
  printf("  model widths: hidden %lld (%lld heads), embed %lld; input density %.3f (%s first layer)\n",
         (long long)hidden, (long long)heads, (long long)embed, density,
         sh.sparse_input ? "sparse" : "dense");
  printf("  memory model: %.0f B per owned node + %.0f B per resident row (owned + ghost) + %.0f B"
         " per ghost + %.0f B per local edge + %.0f B per sent halo row + %.1f MiB constant\n",
         m.per_node, m.per_row, m.per_ghost, m.per_edge, m.per_send, m.constant / 1048576.0);
  printf("  writing --out: - %.0f B per resident row (backward scratch freed) + %.0f B per owned "
         "node (embedding redistribution and parallel write); the peak is the larger phase\n",
         m.out_release_per_row, m.out_per_node);
  /* halo rows received per epoch: forward of h1 and a1 (layer 2 aggregates its hidden-wide
   * input) in the training and the evaluation forward, reverse of both layers' dh, and T
   * semantic-propagation steps of K doubles; every ghost row crosses once per exchange, which
   * is also the lower bound for that exchange */
  double halo_row = 2.0 * 4 * (2 * hidden) + 4.0 * (2 * hidden) + 5.0 * 8 * meta.num_classes;
  double hmax = 0, hsum = 0;
  for (int p = 0; p < P; ++p) {
    double h = halo_row * (double)ghosts[p];
    hsum += h;
    if (h > hmax) hmax = h;
  }
  printf("  halo per epoch: %.0f B per ghost row (T=5): max %.1f MB, mean %.1f MB received per rank;"
         " total ghosts %lld\n", halo_row, hmax / 1e6, hsum / P / 1e6,
         (long long)(hsum / halo_row));
  double worst = 0, total = 0, worst_train = 0;
  for (int p = 0; p < P; ++p) {
    double tr, ou;
    er_mem_predict_phases(&m, nodes[p], ghosts[p], nnz[p], sends[p], &tr, &ou);
    double feat = sh.sparse_input ? (double)nodes[p] * meta.num_features * density * 16 : 0;
    tr += feat, ou += feat;
    double b = tr > ou ? tr : ou;
    total += b;
    if (b > worst) worst = b;
    if (tr > worst_train) worst_train = tr;
    if (P <= 16)
      printf("  rank %d: %lld nodes, %lld ghosts, %lld edges, %lld sent rows -> %.1f MiB\n", p,
             (long long)nodes[p], (long long)ghosts[p], (long long)nnz[p], (long long)sends[p],
             b / 1048576.0);
  }
  printf("  peak per rank: max %.1f MiB, mean %.1f MiB; all ranks %.2f GiB (with --out; training "
         "alone: max %.1f MiB)\n", worst / 1048576.0, total / P / 1048576.0,
         total / 1073741824.0, worst_train / 1048576.0);
  fflush(stdout);
cleanup:
  er_partition_release(fid, &pfid);
  er_h5_close(&fid);
  er_csr_free(&A);
  free(owner), free(nodes), free(nnz), free(ghosts), free(sends), free(sample);
  return err;
}

er_err er_cmd_estimate(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  estimate_args a = {.partition = "auto", .hidden = 256, .heads = 8, .embed = 512};
  ER_CALL(er_opts_parse(comm, &estimate_spec, &a, argc, argv, NULL, NULL));
  ER_CHECK(a.data[0] && a.ranks > 0, ER_ERR_INPUT,
           "estimate: --data and --ranks are required (see --help)");
  ER_CHECK(a.hidden % a.heads == 0, ER_ERR_INPUT, "--heads %lld does not divide --hidden %lld",
           (long long)a.heads, (long long)a.hidden);
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) err = estimate_root(a.data, (int)a.ranks, a.partition, a.hidden, a.heads, a.embed);
cleanup:
  return err;
}
