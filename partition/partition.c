/* partition.c: owner ranks for every node, by METIS k-way (serial, on rank 0) or contiguous
 * blocks; measures edge cut, part sizes and ghosts, and stores /partitions/<P> atomically.
 * It does not partition in parallel (no ParMETIS) and never reads features or labels. */
#include <limits.h>
#include <metis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/sort.h"

/* Per-part facts, on rank 0 only (P entries each). */
typedef struct {
  int64_t *size;   /* (P) nodes owned */
  int64_t *ghosts; /* (P) distinct off-part neighbours of the part's nodes */
  int64_t min_size;
  int64_t nnz;         /* directed entries: 2E */
  int64_t empty_fixed; /* parts METIS left empty that got one node moved in */
  double t_read, t_part, t_measure;
} part_report;

static const char *part_method_name(er_part_method m) {
  return m == ER_PART_METIS ? "metis" : "block";
}

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

/* METIS k-way, edge-cut objective. The caller has checked that n and nnz fit idx_t. METIS
 * takes an idx_t seed, so it receives seed mod (2^31 - 1). */
static er_err part_metis(const er_csr *g, int parts, uint64_t seed, int32_t *owner) {
  er_err err = ER_OK;
  idx_t *xadj = NULL, *adjncy = NULL, *where = NULL;
  idx_t nvtxs = (idx_t)g->n, ncon = 1, nparts = parts, objval = 0;
  idx_t options[METIS_NOPTIONS];
  ER_MALLOC(xadj, g->n + 1);
  ER_MALLOC(adjncy, g->nnz);
  ER_MALLOC(where, g->n);
  for (int64_t u = 0; u <= g->n; ++u) xadj[u] = (idx_t)g->indptr[u];
  for (int64_t k = 0; k < g->nnz; ++k) adjncy[k] = (idx_t)g->indices[k];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = (idx_t)(seed % (uint64_t)INT32_MAX);
  options[METIS_OPTION_NUMBERING] = 0;
  int rc = METIS_PartGraphKway(&nvtxs, &ncon, xadj, adjncy, NULL, NULL, NULL, &nparts, NULL,
                               NULL, options, &objval, where);
  ER_CHECK(rc == METIS_OK, ER_ERR_INPUT,
           "METIS_PartGraphKway failed (code %d: %s) for N=%lld, 2E=%lld, parts=%d", rc,
           part_metis_status(rc), (long long)g->n, (long long)g->nnz, parts);
  for (int64_t u = 0; u < g->n; ++u) {
    ER_CHECK(where[u] >= 0 && where[u] < parts, ER_ERR_LIB,
             "METIS assigned node %lld to part %lld outside [0, %d)", (long long)u,
             (long long)where[u], parts);
    owner[u] = (int32_t)where[u];
  }
cleanup:
  free(xadj);
  free(adjncy);
  free(where);
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

/* Edge cut (undirected), part sizes and ghosts per part. Node v is a ghost of part p when
 * owner[v] != p and some neighbour of v lies in p; last[p] remembers the last v counted for p
 * so each (v, p) pair counts once. */
static er_err part_measure(const er_csr *g, int parts, const int32_t *owner, part_report *rep,
                           er_part_stats *st) {
  er_err err = ER_OK;
  int64_t *last = NULL;
  ER_MALLOC(last, parts);
  for (int p = 0; p < parts; ++p) {
    rep->size[p] = 0;
    rep->ghosts[p] = 0;
    last[p] = -1;
  }
  int64_t cut = 0, total_ghosts = 0;
  for (int64_t v = 0; v < g->n; ++v) {
    int32_t pv = owner[v];
    ++rep->size[pv];
    for (int64_t k = g->indptr[v]; k < g->indptr[v + 1]; ++k) {
      int64_t u = g->indices[k];
      int32_t pu = owner[u];
      if (pu == pv) continue;
      if (u > v) ++cut;
      if (last[pu] != v) {
        last[pu] = v;
        ++rep->ghosts[pu];
        ++total_ghosts;
      }
    }
  }
  rep->min_size = INT64_MAX;
  st->max_part_size = 0;
  for (int p = 0; p < parts; ++p) {
    if (rep->size[p] < rep->min_size) rep->min_size = rep->size[p];
    if (rep->size[p] > st->max_part_size) st->max_part_size = rep->size[p];
  }
  st->edge_cut = cut;
  st->mean_part_size = (double)g->n / parts;
  st->total_ghosts = total_ghosts;
cleanup:
  free(last);
  return err;
}

//---- rank 0: read, partition, measure ----------------------------------------------------------

/* Runs on rank 0 alone, with the file opened on MPI_COMM_SELF so the other ranks hold no copy
 * of the graph. On success *owner (n) and rep's arrays are allocated. */
static er_err part_root(const char *path, int parts, er_part_method method, uint64_t seed,
                        int64_t *n_out, int32_t **owner_out, part_report *rep,
                        er_part_stats *st) {
  er_err err = ER_OK;
  hid_t fid = -1;
  er_csr g = {0, 0, NULL, NULL};
  int32_t *owner = NULL;
  int nd;
  int64_t dims_p[2], dims_i[2];
  double t0 = er_wtime();

  // ---- open read-only and check sizes before reading anything large ----
  ER_CALL(er_h5_open(MPI_COMM_SELF, path, 0, &fid));
  ER_CHECK(access(path, W_OK) == 0, ER_ERR_INPUT,
           "'%s' is not writable: the partition is stored inside the dataset", path);
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
  if (method == ER_PART_METIS && parts > 1)
    ER_CHECK(n <= (int64_t)INT32_MAX && nnz <= (int64_t)INT32_MAX && sizeof(idx_t) == 4,
             ER_ERR_INPUT,
             "graph too large for METIS's 32-bit idx_t (N=%lld, 2E=%lld); use --method block",
             (long long)n, (long long)nnz);
  ER_CALL(er_csr_read(MPI_COMM_SELF, fid, &g));
  er_h5_close(&fid);
  rep->nnz = g.nnz;
  rep->t_read = er_wtime() - t0;

  // ---- partition ----
  t0 = er_wtime();
  ER_MALLOC(owner, g.n);
  ER_MALLOC(rep->size, parts);
  ER_MALLOC(rep->ghosts, parts);
  if (method == ER_PART_METIS && parts > 1) ER_CALL(part_metis(&g, parts, seed, owner));
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
  *n_out = g.n;
  *owner_out = owner;
  owner = NULL;
cleanup:
  er_h5_close(&fid);
  er_csr_free(&g);
  free(owner);
  return err;
}

/* Ranks other than 0 wait here while rank 0 works, sleeping instead of spinning in MPI so they
 * leave the cores to METIS when ranks outnumber cores. */
static er_err part_wait_root(MPI_Comm comm) {
  er_err err = ER_OK;
  MPI_Request req;
  int done = 0;
  ER_CALL_MPI(MPI_Ibarrier(comm, &req));
  while (!done) {
    ER_CALL_MPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
    if (!done) nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
cleanup:
  return err;
}

//---- collective write ---------------------------------------------------------------------------

/* Write owner (on rank 0; n entries) to /partitions/.tmp_<P>, set its attributes, then replace
 * /partitions/<P> by moving the temporary link there. Until the move no /partitions/<P> with
 * these contents exists; an interrupted run leaves at worst a .tmp_ link (removed by the next
 * run) and, if it died between delete and move, no /partitions/<P> at all. */
static er_err part_write(MPI_Comm comm, const char *path, int parts, er_part_method method,
                         int64_t n, const int32_t *owner, const er_part_stats *st) {
  er_err err = ER_OK;
  hid_t fid = -1;
  int rank;
  char final_name[64], tmp_name[64];
  MPI_Comm_rank(comm, &rank);
  snprintf(final_name, sizeof final_name, "%s/%d", ER_DS_PARTITIONS, parts);
  snprintf(tmp_name, sizeof tmp_name, "%s/.tmp_%d", ER_DS_PARTITIONS, parts);

  ER_CALL(er_h5_open(comm, path, 1, &fid));
  if (er_h5_exists(fid, tmp_name)) /* left by an interrupted run */
    ER_CHECK(H5Ldelete(fid, tmp_name, H5P_DEFAULT) >= 0, ER_ERR_IO, "cannot delete stale '%s'",
             tmp_name);
  ER_CALL(er_h5_write_rows(fid, tmp_name, H5T_STD_I32LE, H5T_NATIVE_INT32, n, 0, 0,
                           rank == 0 ? n : 0, owner));
  ER_CALL(er_h5_attr_set_str(fid, tmp_name, "method", part_method_name(method)));
  ER_CALL(er_h5_attr_set_i64(fid, tmp_name, "edge_cut", st->edge_cut));
  ER_CALL(er_h5_attr_set_i64(fid, tmp_name, "max_part_size", st->max_part_size));
  ER_CALL(er_h5_attr_set_f64(fid, tmp_name, "mean_part_size", st->mean_part_size));
  if (er_h5_exists(fid, final_name))
    ER_CHECK(H5Ldelete(fid, final_name, H5P_DEFAULT) >= 0, ER_ERR_IO,
             "cannot delete the old '%s'", final_name);
  ER_CHECK(H5Lmove(fid, tmp_name, fid, final_name, H5P_DEFAULT, H5P_DEFAULT) >= 0, ER_ERR_IO,
           "cannot move '%s' to '%s'", tmp_name, final_name);
  herr_t rc = H5Fclose(fid);
  fid = -1;
  ER_CHECK(rc >= 0, ER_ERR_IO, "closing '%s' failed (disk full?)", path);
cleanup:
  er_h5_close(&fid);
  return er_agree(comm, err);
}

//---- report ---------------------------------------------------------------------------------

static void part_print(MPI_Comm comm, const char *path, int parts, er_part_method method,
                       uint64_t seed, int64_t n, const part_report *rep,
                       const er_part_stats *st, double t_write, double t_total) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  int64_t gmin = INT64_MAX, gmax = 0;
  for (int p = 0; p < parts; ++p) {
    if (rep->ghosts[p] < gmin) gmin = rep->ghosts[p];
    if (rep->ghosts[p] > gmax) gmax = rep->ghosts[p];
  }
  if (method == ER_PART_METIS)
    er_log(comm, "partition: %s, N=%lld, P=%d, METIS k-way (seed %llu)\n", path, (long long)n,
           parts, (unsigned long long)seed);
  else
    er_log(comm, "partition: %s, N=%lld, P=%d, contiguous blocks\n", path, (long long)n, parts);
  if (rep->empty_fixed)
    er_log(comm, "  METIS left %lld parts empty: moved one node into each\n",
           (long long)rep->empty_fixed);
  er_log(comm, "  edge cut: %lld of %lld edges (%.2f%%)\n", (long long)st->edge_cut,
         (long long)(rep->nnz / 2), rep->nnz ? 200.0 * st->edge_cut / rep->nnz : 0.0);
  er_log(comm, "  part size: min %lld, max %lld, mean %.1f (imbalance max/mean %.3f)\n",
         (long long)rep->min_size, (long long)st->max_part_size, st->mean_part_size,
         st->max_part_size / st->mean_part_size);
  er_log(comm, "  ghosts: total %lld, per part min %lld, max %lld, mean %.1f\n",
         (long long)st->total_ghosts, (long long)gmin, (long long)gmax,
         (double)st->total_ghosts / parts);
  if (parts <= 16)
    for (int p = 0; p < parts; ++p)
      er_log(comm, "    part %d: %lld nodes, %lld ghosts\n", p, (long long)rep->size[p],
             (long long)rep->ghosts[p]);
  er_log(comm,
         "  wrote %s/%d in %.3f s (read %.3f s, partition %.3f s, measure %.3f s, write %.3f "
         "s)\n",
         ER_DS_PARTITIONS, parts, t_total, rep->t_read, rep->t_part, rep->t_measure, t_write);
}

//---- public ---------------------------------------------------------------------------------

er_err er_partition(MPI_Comm comm, const char *path, int parts, er_part_method method,
                    uint64_t seed, er_part_stats *stats) {
  er_err err = ER_OK;
  int rank;
  int64_t n = 0;
  int32_t *owner = NULL;
  part_report rep;
  er_part_stats st = {0, 0, 0.0, 0};
  double t_start = er_wtime();
  memset(&rep, 0, sizeof rep);
  MPI_Comm_rank(comm, &rank);

  ER_CHECK(parts >= 1, ER_ERR_INPUT, "the number of parts must be at least 1 (got %d)", parts);
  ER_CHECK(method == ER_PART_METIS || method == ER_PART_BLOCK, ER_ERR_INPUT,
           "unknown partition method %d", (int)method);
  er_err root_err = ER_OK;
  if (rank == 0) root_err = part_root(path, parts, method, seed, &n, &owner, &rep, &st);
  ER_CALL(part_wait_root(comm));
  ER_CALL(er_agree(comm, root_err));

  // ---- every rank needs the same attribute values for the collective write ----
  int64_t buf[4] = {n, st.edge_cut, st.max_part_size, st.total_ghosts};
  ER_CALL_MPI(MPI_Bcast(buf, 4, MPI_INT64_T, 0, comm));
  n = buf[0];
  st.edge_cut = buf[1];
  st.max_part_size = buf[2];
  st.total_ghosts = buf[3];
  st.mean_part_size = (double)n / parts;

  double t0 = er_wtime();
  ER_CALL(part_write(comm, path, parts, method, n, owner, &st));
  double t_write = er_wtime() - t0;
  part_print(comm, path, parts, method, seed, n, &rep, &st, t_write, er_wtime() - t_start);
  if (stats) *stats = st;
cleanup:
  free(owner);
  free(rep.size);
  free(rep.ghosts);
  return er_agree(comm, err);
}
