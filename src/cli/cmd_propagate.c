/* cmd_propagate.c: `erase-mpi propagate`: build the distributed graph, run ERASE's denoising
 * propagation and a semantic propagation pass, and report what they did (label agreement on
 * train/val/test, halo traffic, time). A diagnostic of the propagation stack, not training. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/h5.h"
#include "erase/noise.h"
#include "erase/prop.h"

typedef struct {
  char data[4096], partition[64];
  er_denoise_variant denoise;
  er_noise_type noise;
  double alpha, noise_ratio;
  int64_t T, noise_seed;
  er_order_kind reorder;
} propagate_args;

#define A propagate_args
static const er_opt propagate_opts[] = {
    ER_OPT_S(A, "data", data, "FILE", "dataset (required)"),
    ER_OPT_S(A, "partition", partition, "P",
             "auto: /partitions/<ranks> if present, else block; block; or a part\n"
             "count equal to the number of ranks"),
    ER_OPT_E(A, "denoise", denoise, er_denoise_variants, "denoising propagation"),
    ER_OPT_F(A, "alpha", alpha, 0, 1, "A", "propagation weight in [0,1]"),
    ER_OPT_I(A, "T", T, 0, 1000, "T", "propagation steps"),
    ER_OPT_E(A, "noise", noise, er_noise_types, "corrupt training labels first"),
    ER_OPT_F(A, "noise-ratio", noise_ratio, 0, 0.999999, "R", "noise ratio in [0,1)"),
    ER_OPT_I(A, "noise-seed", noise_seed, 0, INT64_MAX, "S", "noise seed (as train)"),
    ER_OPT_E(A, "reorder", reorder, er_order_kinds, "local row order (as train)"),
};
#undef A

static const er_cmd_spec propagate_spec = {
    .cmd = "propagate",
    .usage = "usage: erase-mpi propagate --data DATA.h5 [options]\n"
             "Distributed ERASE label propagation (ERASE.md sections 2 and 4) and a report.\n",
    .opts = propagate_opts,
    .n_opts = (int)(sizeof propagate_opts / sizeof propagate_opts[0]),
};

typedef struct {
  int64_t agree[3], total[3]; /* train, val, test */
} er_acc;

static void tally(const er_dgraph *g, const double *Y, int K, const int32_t *truth, er_acc *a) {
  for (er_lidx i = 0; i < g->n_own; ++i) {
    const double *y = Y + (size_t)i * K;
    int best = 0;
    for (int c = 1; c < K; ++c)
      if (y[c] > y[best]) best = c;
    for (int s = 0; s < 3; ++s)
      if ((g->split[i] & (1 << s)) && truth[i] >= 0) {
        a->total[s]++;
        a->agree[s] += best == truth[i] && y[best] > 0;
      }
  }
}

er_err er_cmd_propagate(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  propagate_args a = {.partition = "auto", .denoise = ER_DENOISE_TRAIN_SUBGRAPH,
                      .noise = ER_NOISE_NONE, .alpha = 0.6, .noise_ratio = 0.3, .T = 5,
                      .noise_seed = 123}; /* train's defaults */
  hid_t fid = -1;
  er_dgraph *g = NULL;
  double *Y = NULL, *W = NULL;
  int32_t *noisy = NULL;
  uint8_t *mask = NULL;
  ER_CALL(er_opts_parse(comm, &propagate_spec, &a, argc, argv, NULL, NULL));
  ER_CHECK(a.data[0], ER_ERR_INPUT, "propagate: --data is required (see --help)");
  er_part_choice part;
  ER_CALL(er_part_choice_parse(a.partition, &part));
  const char *data = a.data;
  er_denoise_variant variant = a.denoise;
  er_noise_type noise = a.noise;
  double alpha = a.alpha, ratio = a.noise_ratio;
  int64_t T = a.T, nseed = a.noise_seed;

  double t0 = er_wtime();
  ER_CALL(er_h5_open(comm, data, 0, &fid));
  ER_CALL(er_dgraph_create(comm, fid, part, 0, &g));
  er_h5_close(&fid);
  ER_CALL(er_dgraph_reorder(g, a.reorder));
  double t_load = er_wtime() - t0;
  int K = g->K;
  size_t n_tot = (size_t)g->n_own + g->n_ghost;
  ER_MALLOC(Y, n_tot * K);
  ER_MALLOC(W, (n_tot + g->n_own) * K); /* er_propagate scratch */
  ER_MALLOC(noisy, g->n_own);
  ER_MALLOC(mask, g->n_own);
  for (er_lidx i = 0; i < g->n_own; ++i) mask[i] = (g->split[i] & ER_SPLIT_TRAIN) != 0;
  err = er_noise_apply(g->labels, g->gid, mask, g->n_own, K, noise, ratio, (uint64_t)nseed, noisy);
  ER_CALL(er_agree(comm, err));
  er_acc acc_noisy = {0}, acc_den = {0}, acc_sem = {0}, sum;
  /* how many training labels are correct before denoising */
  for (er_lidx i = 0; i < g->n_own; ++i)
    if ((g->split[i] & ER_SPLIT_TRAIN) && g->labels[i] >= 0) {
      acc_noisy.total[0]++;
      acc_noisy.agree[0] += noisy[i] == g->labels[i];
    }
  double t1 = er_wtime();
  ER_CALL(er_denoise(g, noisy, K, variant, alpha, (int)T, Y));
  double t_den = er_wtime() - t1;
  tally(g, Y, K, g->labels, &acc_den);
  t1 = er_wtime();
  ER_CALL(er_propagate(g, K, alpha, (int)T, Y, W));
  double t_sem = er_wtime() - t1;
  tally(g, Y, K, g->labels, &acc_sem);

  er_acc *all[3] = {&acc_noisy, &acc_den, &acc_sem};
  const char *what[3] = {"noisy training labels", "denoised (argmax Y_den)",
                         "after semantic propagation"};
  er_halo_stats hs;
  er_halo_get_stats(g->halo, &hs);
  int64_t ghosts = g->n_ghost, tg;
  MPI_Allreduce(&ghosts, &tg, 1, MPI_INT64_T, MPI_SUM, comm);
  double bytes;
  MPI_Allreduce(&hs.bytes_sent, &bytes, 1, MPI_DOUBLE, MPI_SUM, comm);
  int size;
  MPI_Comm_size(comm, &size);
  er_log(comm, "propagate: %s, N=%lld, K=%d, %d ranks, partition %s, %lld ghosts in total%s%s\n",
         data, (long long)g->n_global, K, size, g->partition, (long long)tg,
         a.reorder == ER_ORDER_NONE ? "" : ", row order ",
         a.reorder == ER_ORDER_NONE ? "" : er_order_kinds.names[a.reorder]);
  er_log(comm, "  noise %s ratio %.2f seed %lld; denoise %s alpha %.2f T %lld\n",
         er_noise_types.names[noise], noise == ER_NOISE_NONE ? 0.0 : ratio, (long long)nseed,
         er_denoise_variants.names[variant], alpha, (long long)T);
  for (int k = 0; k < 3; ++k) {
    MPI_Allreduce(all[k], &sum, 6, MPI_INT64_T, MPI_SUM, comm);
    er_log(comm, "  %-28s", what[k]);
    const char *sn[3] = {"train", "val", "test"};
    for (int s = 0; s < 3; ++s)
      if (sum.total[s])
        er_log(comm, "  %s %.2f%% (%lld/%lld)", sn[s], 100.0 * sum.agree[s] / sum.total[s],
               (long long)sum.agree[s], (long long)sum.total[s]);
    er_log(comm, "\n");
  }
  er_log(comm, "  time: load %.3f s, denoise %.4f s, semantic %.4f s; halo %.3f MB sent\n",
         t_load, t_den, t_sem, bytes / 1e6);
cleanup:
  er_h5_close(&fid);
  free(Y);
  free(W);
  free(noisy);
  free(mask);
  er_dgraph_destroy(&g);
  return err;
}
