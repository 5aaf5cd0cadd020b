/* profile.c: per-part nodes, CSR entries, ghost rows and sent rows of a partition: the counts
 * that per-rank memory and halo volume are proportional to (erase-mpi estimate, benchmarks),
 * and the statistics both partitioners report from them. O(N + E + P); does not partition. */
#include <stdlib.h>
#include <string.h>

#include "erase/partition.h"
#include "part_internal.h"

er_err er_partition_profile(int64_t n, const int64_t *indptr, const int64_t *indices,
                            const int32_t *owner, int P, int64_t *nodes, int64_t *nnz,
                            int64_t *ghosts, int64_t *sends) {
  er_err err = ER_OK;
  int32_t *stamp = NULL;  /* stamp[u] = last part that counted u as its ghost */
  int64_t *rstamp = NULL; /* rstamp[q] = last row that counted a send to part q */
  int64_t *start = NULL, *order = NULL;
  memset(nodes, 0, (size_t)P * sizeof(int64_t));
  memset(nnz, 0, (size_t)P * sizeof(int64_t));
  memset(ghosts, 0, (size_t)P * sizeof(int64_t));
  memset(sends, 0, (size_t)P * sizeof(int64_t));
  ER_MALLOC(stamp, n);
  ER_MALLOC(rstamp, P);
  ER_CALLOC(start, P + 1);
  ER_MALLOC(order, n);
  /* visit rows part by part (counting sort by owner) so one stamp array serves every part */
  for (int64_t v = 0; v < n; ++v) start[owner[v] + 1]++;
  for (int p = 0; p < P; ++p) start[p + 1] += start[p];
  for (int64_t v = 0; v < n; ++v) order[start[owner[v]]++] = v;
  for (int p = P; p > 0; --p) start[p] = start[p - 1];
  start[0] = 0;
  for (int64_t v = 0; v < n; ++v) stamp[v] = -1;
  for (int q = 0; q < P; ++q) rstamp[q] = -1;
  for (int p = 0; p < P; ++p)
    for (int64_t k = start[p]; k < start[p + 1]; ++k) {
      int64_t v = order[k];
      nodes[p]++;
      nnz[p] += indptr[v + 1] - indptr[v];
      for (int64_t e = indptr[v]; e < indptr[v + 1]; ++e) {
        int64_t u = indices[e];
        int q = owner[u];
        if (q == p) continue;
        if (stamp[u] != p) stamp[u] = p, ghosts[p]++;
        if (rstamp[q] != v) rstamp[q] = v, sends[p]++;
      }
    }
cleanup:
  free(stamp), free(rstamp), free(start), free(order);
  return err;
}

void er_part_report_free(er_part_report *rep) {
  ER_FREE(rep->size);
  ER_FREE(rep->nnz);
  ER_FREE(rep->ghosts);
  ER_FREE(rep->try_ghosts);
}

void er_part_report_stats(er_part_report *rep, int parts, int64_t cut, er_part_stats *st) {
  int64_t total_ghosts = 0, max_work = 0;
  rep->min_size = INT64_MAX;
  st->max_part_size = 0;
  st->max_ghosts = 0;
  for (int p = 0; p < parts; ++p) {
    int64_t work = rep->size[p] + rep->nnz[p] + rep->ghosts[p];
    if (rep->size[p] < rep->min_size) rep->min_size = rep->size[p];
    if (rep->size[p] > st->max_part_size) st->max_part_size = rep->size[p];
    if (rep->ghosts[p] > st->max_ghosts) st->max_ghosts = rep->ghosts[p];
    if (work > max_work) max_work = work;
    total_ghosts += rep->ghosts[p];
  }
  double mean_work = (double)(rep->n + rep->nnz_total + total_ghosts) / parts;
  st->edge_cut = cut;
  st->mean_part_size = (double)rep->n / parts;
  st->total_ghosts = total_ghosts;
  st->work_imbalance = mean_work > 0 ? max_work / mean_work : 1.0;
}
