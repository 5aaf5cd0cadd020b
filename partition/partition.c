/* partition.c: owner ranks for every node, by METIS k-way (serial, on rank 0), PT-Scotch
 * (distributed, ptscotch.c) or contiguous blocks; measures edge cut, part sizes, ghosts and work,
 * and stores /partitions/<P> in the dataset's sidecar (src/io/partfile.c). The dataset is only
 * read; features and labels never are. */
#include <limits.h>
#include <metis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/progress.h"
#include "erase/sort.h"
#include "part_internal.h"

static const char *const method_names[] = {"metis", "block", "ptscotch"};
static const char *const objective_names[] = {"cut", "vol"};
static const char *const weights_names[] = {"none", "degree"};

//---- partitioners ---------------------------------------------------------------------------

static void part_block(int64_t n, int parts, int32_t *owner) {
  for (int64_t u = 0; u < n; ++u) owner[u] = er_block_owner(n, parts, u);
}

static const char *part_metis_status(int rc) {
  switch (rc) {
    case METIS_ERROR_INPUT: return "erroneous input";
    case METIS_ERROR_MEMORY: return "out of memory";
    default: return "unspecified error";
  }
}

/* METIS k-way with the edge-cut or the communication-volume objective, vertex weights 1 or
 * 1 + degree, o->ncuts partitionings of which METIS keeps the one with the best objective. The
 * caller has checked that n, nnz (and n + nnz with weights) fit idx_t. METIS takes an idx_t
 * seed, so it receives seed mod (2^31 - 1). */
static er_err part_metis(const er_csr *g, const er_part_opts *o, int32_t *owner) {
  er_err err = ER_OK;
  idx_t *xadj = NULL, *adjncy = NULL, *where = NULL, *vwgt = NULL;
  idx_t nvtxs = (idx_t)g->n, ncon = 1, nparts = o->parts, objval = 0;
  idx_t options[METIS_NOPTIONS];
  ER_MALLOC(xadj, g->n + 1);
  ER_MALLOC(adjncy, g->nnz);
  ER_MALLOC(where, g->n);
  for (int64_t u = 0; u <= g->n; ++u) xadj[u] = (idx_t)g->indptr[u];
  for (int64_t k = 0; k < g->nnz; ++k) adjncy[k] = (idx_t)g->indices[k];
  if (o->weights == ER_PART_WEIGHTS_DEGREE) {
    ER_MALLOC(vwgt, g->n);
    for (int64_t u = 0; u < g->n; ++u) vwgt[u] = 1 + xadj[u + 1] - xadj[u];
  }
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = (idx_t)(o->seed % (uint64_t)INT32_MAX);
  options[METIS_OPTION_NUMBERING] = 0;
  options[METIS_OPTION_NCUTS] = (idx_t)o->ncuts;
  options[METIS_OPTION_OBJTYPE] =
      o->objective == ER_PART_OBJ_VOL ? METIS_OBJTYPE_VOL : METIS_OBJTYPE_CUT;
  int rc = METIS_PartGraphKway(&nvtxs, &ncon, xadj, adjncy, vwgt, NULL, NULL, &nparts, NULL,
                               NULL, options, &objval, where);
  if (rc == METIS_OK && er_fault(ER_FAULT_LIB)) rc = METIS_ERROR;
  ER_CHECK(rc == METIS_OK, ER_ERR_INPUT,
           "METIS_PartGraphKway failed (code %d: %s) for N=%lld, 2E=%lld, parts=%d", rc,
           part_metis_status(rc), (long long)g->n, (long long)g->nnz, o->parts);
  for (int64_t u = 0; u < g->n; ++u) {
    ER_CHECK(where[u] >= 0 && where[u] < o->parts, ER_ERR_LIB,
             "METIS assigned node %lld to part %lld outside [0, %d)", (long long)u,
             (long long)where[u], o->parts);
    owner[u] = (int32_t)where[u];
  }
cleanup:
  free(xadj);
  free(adjncy);
  free(where);
  free(vwgt);
  return err;
}

/* METIS may leave a part empty (tiny or disconnected graphs). Every rank must own a node, so
 * move the first node of the currently largest part into each empty part. Needs parts <= n.
 * Returns the number of parts filled. O(n) per empty part; empty parts are rare. */
static int64_t part_fill_empty(int64_t n, int parts, int32_t *owner, int64_t *size) {
  int64_t fixed = 0;
  for (int p = 0; p < parts; ++p) {
    if (size[p] > 0) continue;
    int big = 0;
    for (int q = 1; q < parts; ++q)
      if (size[q] > size[big]) big = q;
    for (int64_t u = 0; u < n; ++u)
      if (owner[u] == big) {
        owner[u] = p;
        --size[big];
        ++size[p];
        ++fixed;
        break;
      }
  }
  return fixed;
}

//---- measurement ----------------------------------------------------------------------------

/* Edge cut (undirected), part sizes, CSR entries and ghosts per part. Node v is a ghost of part
 * p when owner[v] != p and some neighbour of v lies in p; last[p] remembers the last v counted
 * for p so each (v, p) pair counts once. */
static er_err part_measure(const er_csr *g, int parts, const int32_t *owner, er_part_report *rep,
                           er_part_stats *st) {
  er_err err = ER_OK;
  int64_t *last = NULL;
  ER_MALLOC(last, parts);
  for (int p = 0; p < parts; ++p) {
    rep->size[p] = 0;
    rep->nnz[p] = 0;
    rep->ghosts[p] = 0;
    last[p] = -1;
  }
  int64_t cut = 0;
  for (int64_t v = 0; v < g->n; ++v) {
    int32_t pv = owner[v];
    ++rep->size[pv];
    rep->nnz[pv] += g->indptr[v + 1] - g->indptr[v];
    for (int64_t k = g->indptr[v]; k < g->indptr[v + 1]; ++k) {
      int64_t u = g->indices[k];
      int32_t pu = owner[u];
      if (pu == pv) continue;
      if (u > v) ++cut;
      if (last[pu] != v) {
        last[pu] = v;
        ++rep->ghosts[pu];
      }
    }
  }
  er_part_report_stats(rep, parts, cut, st);
cleanup:
  free(last);
  return err;
}

//---- rank 0: read, partition, measure ----------------------------------------------------------

/* Runs on rank 0 alone, with the file opened on MPI_COMM_SELF so the other ranks hold no copy
 * of the graph. On success *owner (n) and rep's arrays are allocated. */
static er_err part_root(const char *path, const er_part_opts *o, int32_t **owner_out,
                        er_part_report *rep, er_part_stats *st) {
  er_err err = ER_OK;
  hid_t fid = -1;
  er_csr g = {0, 0, NULL, NULL};
  int32_t *owner = NULL;
  int nd;
  int64_t dims_p[2], dims_i[2];
  const int parts = o->parts;
  double t0 = er_wtime();

  // ---- open read-only and check sizes before reading anything large ----
  ER_CALL(er_h5_open(MPI_COMM_SELF, path, 0, &fid));
  ER_CHECK(er_h5_exists(fid, ER_DS_INDPTR) && er_h5_exists(fid, ER_DS_INDICES), ER_ERR_INPUT,
           "'%s' holds no graph (%s or %s is missing)", path, ER_DS_INDPTR, ER_DS_INDICES);
  ER_CALL(er_h5_shape(fid, ER_DS_INDPTR, &nd, dims_p));
  ER_CALL(er_h5_shape(fid, ER_DS_INDICES, &nd, dims_i));
  ER_CHECK(dims_p[0] >= 1, ER_ERR_INPUT, "'%s': %s is empty (expected N+1 entries)", path,
           ER_DS_INDPTR);
  int64_t n = dims_p[0] - 1, nnz = dims_i[0];
  ER_CHECK(parts <= n, ER_ERR_INPUT,
           "cannot split %lld nodes into %d parts: parts must be between 1 and N", (long long)n,
           parts);
  int64_t load = o->weights == ER_PART_WEIGHTS_DEGREE ? n + nnz : n;
  if (o->method == ER_PART_METIS && parts > 1)
    ER_CHECK(n <= (int64_t)INT32_MAX && nnz <= (int64_t)INT32_MAX && load <= INT32_MAX &&
                 sizeof(idx_t) == 4,
             ER_ERR_INPUT,
             "graph too large for METIS's 32-bit idx_t (N=%lld, 2E=%lld%s); use --method "
             "ptscotch or block",
             (long long)n, (long long)nnz,
             load > n ? ", and N + 2E as the total vertex weight" : "");
  ER_CALL(er_csr_read(MPI_COMM_SELF, fid, &g));
  er_h5_close(&fid);
  rep->n = g.n;
  rep->nnz_total = g.nnz;
  rep->t_read = er_wtime() - t0;

  // ---- partition ----
  t0 = er_wtime();
  ER_MALLOC(owner, g.n);
  ER_MALLOC(rep->size, parts);
  ER_MALLOC(rep->nnz, parts);
  ER_MALLOC(rep->ghosts, parts);
  if (o->method == ER_PART_METIS && parts > 1) ER_CALL(part_metis(&g, o, owner));
  else part_block(g.n, parts, owner);
  rep->t_part = er_wtime() - t0;

  // ---- measure (and repair empty parts) ----
  t0 = er_wtime();
  ER_CALL(part_measure(&g, parts, owner, rep, st));
  if (rep->min_size == 0) {
    rep->empty_fixed = part_fill_empty(g.n, parts, owner, rep->size);
    ER_CALL(part_measure(&g, parts, owner, rep, st));
  }
  rep->t_measure = er_wtime() - t0;
  *owner_out = owner;
  owner = NULL;
cleanup:
  er_h5_close(&fid);
  er_csr_free(&g);
  free(owner);
  return err;
}

//---- report ---------------------------------------------------------------------------------

/* One line: each PT-Scotch try's total ghosts (the first ones, when there are many) and the
 * try kept, with its seed. */
static void part_print_tries(MPI_Comm comm, const er_part_opts *o, const er_part_report *rep) {
  enum { shown = 16 };
  char buf[shown * 24 + 64];
  size_t k = 0;
  for (int t = 0; t < rep->ntries && t < shown; ++t)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%lld", t ? ", " : "",
                          (long long)rep->try_ghosts[t]);
  if (rep->ntries > shown) snprintf(buf + k, sizeof buf - k, ", ... (%d tries)", rep->ntries);
  er_log(comm, "  tries: ghosts %s; kept try %d (seed %llu)\n", buf, rep->best_try,
         (unsigned long long)er_part_try_seed(o->seed, rep->best_try));
}

static void part_print(MPI_Comm comm, const char *path, const er_part_opts *o,
                       const er_part_report *rep, const er_part_stats *st, double t_write,
                       double t_total) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (rank != 0) return;
  const int parts = o->parts;
  int64_t gmin = INT64_MAX, wmax = 0;
  for (int p = 0; p < parts; ++p) {
    int64_t w = rep->size[p] + rep->nnz[p] + rep->ghosts[p];
    if (rep->ghosts[p] < gmin) gmin = rep->ghosts[p];
    if (w > wmax) wmax = w;
  }
  const char *obj = objective_names[o->objective], *wts = weights_names[o->weights];
  if (o->method == ER_PART_METIS)
    er_log(comm,
           "partition: %s, N=%lld, P=%d, METIS k-way (objective %s, weights %s, seed %llu, "
           "ncuts %d)\n",
           path, (long long)rep->n, parts, obj, wts, (unsigned long long)o->seed, o->ncuts);
  else if (o->method == ER_PART_PTSCOTCH)
    er_log(comm,
           "partition: %s, N=%lld, P=%d, PT-Scotch k-way on %d ranks (objective %s, weights %s, "
           "seed %llu, ncuts %d)\n",
           path, (long long)rep->n, parts, size, obj, wts, (unsigned long long)o->seed,
           o->ncuts);
  else
    er_log(comm, "partition: %s, N=%lld, P=%d, contiguous blocks\n", path, (long long)rep->n,
           parts);
  if (rep->ntries > 1) part_print_tries(comm, o, rep);
  if (rep->empty_fixed)
    er_log(comm, "  the partitioner left %lld parts empty: moved one node into each\n",
           (long long)rep->empty_fixed);
  er_log(comm, "  edge cut: %lld of %lld edges (%.2f%%)\n", (long long)st->edge_cut,
         (long long)(rep->nnz_total / 2),
         rep->nnz_total ? 200.0 * st->edge_cut / rep->nnz_total : 0.0);
  er_log(comm, "  part size: min %lld, max %lld, mean %.1f (imbalance max/mean %.3f)\n",
         (long long)rep->min_size, (long long)st->max_part_size, st->mean_part_size,
         st->max_part_size / st->mean_part_size);
  er_log(comm, "  ghosts: total %lld, per part min %lld, max %lld, mean %.1f\n",
         (long long)st->total_ghosts, (long long)gmin, (long long)st->max_ghosts,
         (double)st->total_ghosts / parts);
  er_log(comm, "  work (rows + edges + ghosts): max %lld, mean %.1f (imbalance max/mean %.3f)\n",
         (long long)wmax, (double)(rep->n + rep->nnz_total + st->total_ghosts) / parts,
         st->work_imbalance);
  if (parts <= 16)
    for (int p = 0; p < parts; ++p)
      er_log(comm, "    part %d: %lld nodes, %lld edges, %lld ghosts\n", p,
             (long long)rep->size[p], (long long)rep->nnz[p], (long long)rep->ghosts[p]);
  er_log(comm,
         "  stored %s/%d in %.3f s (read %.3f s, partition %.3f s, measure %.3f s, write %.3f "
         "s)\n",
         ER_DS_PARTITIONS, parts, t_total, rep->t_read, rep->t_part, rep->t_measure, t_write);
}

//---- public ---------------------------------------------------------------------------------

static er_err part_check_opts(const er_part_opts *o) {
  er_err err = ER_OK;
  ER_CHECK(o->parts >= 1, ER_ERR_INPUT, "the number of parts must be at least 1 (got %d)",
           o->parts);
  ER_CHECK(o->method == ER_PART_METIS || o->method == ER_PART_BLOCK ||
               o->method == ER_PART_PTSCOTCH,
           ER_ERR_INPUT, "unknown partition method %d", (int)o->method);
  ER_CHECK(o->objective == ER_PART_OBJ_CUT || o->objective == ER_PART_OBJ_VOL, ER_ERR_INPUT,
           "unknown partition objective %d", (int)o->objective);
  ER_CHECK(o->weights == ER_PART_WEIGHTS_NONE || o->weights == ER_PART_WEIGHTS_DEGREE,
           ER_ERR_INPUT, "unknown vertex weights %d", (int)o->weights);
  ER_CHECK(o->ncuts >= 1 && o->ncuts <= ER_PART_NCUTS_MAX, ER_ERR_INPUT,
           "--ncuts must be between 1 and %d (got %d)", ER_PART_NCUTS_MAX, o->ncuts);
  ER_CHECK(o->method != ER_PART_BLOCK || (o->objective == ER_PART_OBJ_CUT &&
                                          o->weights == ER_PART_WEIGHTS_NONE && o->ncuts == 1),
           ER_ERR_INPUT,
           "--method block takes no --objective vol, --weights degree or --ncuts above 1 (it "
           "cuts the ids into equal ranges)");
  ER_CHECK(o->method != ER_PART_PTSCOTCH || o->objective == ER_PART_OBJ_CUT, ER_ERR_INPUT,
           "--objective vol needs --method metis: PT-Scotch's k-way partitioning (recursive "
           "bisection) minimizes the edge cut only");
cleanup:
  return err;
}

er_err er_partition_run(MPI_Comm comm, const char *path, const er_part_opts *opts,
                        er_part_stats *stats) {
  er_err err = ER_OK;
  er_part_opts oo = *opts;
  if (oo.ncuts == 0) oo.ncuts = 1;
  const er_part_opts *o = &oo;
  int rank, size;
  int64_t row0 = 0, nrows = 0;
  int32_t *owner = NULL;
  er_part_report rep;
  er_part_stats st;
  double t_start = er_wtime();
  memset(&rep, 0, sizeof rep);
  memset(&st, 0, sizeof st);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  ER_CALL(part_check_opts(o)); /* the same options on every rank: the same verdict */
  if (o->method == ER_PART_PTSCOTCH) {
    ER_CALL(er_part_ptscotch(comm, path, o, &row0, &nrows, &owner, &rep, &st));
  } else {
    er_err root_err = ER_OK;
    if (rank == 0) root_err = part_root(path, o, &owner, &rep, &st);
    ER_CALL(er_barrier_sleeping(comm, 1000000)); /* while rank 0 runs METIS */
    ER_CALL(er_agree(comm, root_err));
    /* every rank needs the same attribute values for the collective write: one broadcast
     * (the ranks run the same binary, so the struct's bytes mean the same everywhere) */
    struct {
      int64_t n, nnz;
      er_part_stats st;
    } msg = {rep.n, rep.nnz_total, st};
    ER_CALL_MPI(MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, 0, comm));
    ER_AGREE(comm);
    rep.n = msg.n;
    rep.nnz_total = msg.nnz;
    st = msg.st;
    nrows = rank == 0 ? rep.n : 0;
  }

  double t0 = er_wtime(), t_last = t_start;
  /* the partitioner's share of the time (the 1M HSBM: 7-50 s against a write of about 1 s) */
  static const double share[] = {0.95, 0.05};
  er_progress_stage(comm, "partition", 0, 2, share, "read + partition", t_start, &t_last);
  er_part_record rec = {.parts = o->parts,
                        .n = rep.n,
                        .method = method_names[o->method],
                        .objective = objective_names[o->objective],
                        .weights = weights_names[o->weights],
                        .seed = o->seed,
                        .ncuts = o->ncuts,
                        .ranks = size,
                        .stats = st};
  ER_CALL(er_partition_store(comm, path, &rec, row0, nrows, owner));
  double t_write = er_wtime() - t0;
  er_progress_stage(comm, "partition", 1, 2, share, "write the sidecar", t_start, &t_last);
  part_print(comm, path, o, &rep, &st, t_write, er_wtime() - t_start);
  if (stats) *stats = st;
cleanup:
  err = ER_FINISH(comm);
  free(owner);
  er_part_report_free(&rep);
  return err;
}

er_err er_partition(MPI_Comm comm, const char *path, int parts, er_part_method method,
                    uint64_t seed, er_part_stats *stats) {
  er_part_opts o = {parts, method, ER_PART_OBJ_CUT, ER_PART_WEIGHTS_NONE, seed, 1};
  return er_partition_run(comm, path, &o, stats);
}
