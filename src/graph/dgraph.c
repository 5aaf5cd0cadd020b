/* dgraph.c: build a rank's share of the distributed graph: read a contiguous row block with
 * parallel HDF5, move rows to their partition owners with one MPI_Alltoallv, renumber columns
 * locally (owned rows, then ghosts by (owner, gid)), and build the halo plan.
 * It does not partition (see partition/) and keeps no whole-graph arrays except the owner map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"

/* one record per row in the Alltoallv byte stream:
 * [gid int64][deg int64][label int32][split int32][deg x int64 cols][F x float] */
static size_t rec_bytes(int64_t deg, int64_t F) {
  return 2 * sizeof(int64_t) + 2 * sizeof(int32_t) + (size_t)deg * sizeof(int64_t) +
         (size_t)F * sizeof(float);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

typedef struct {
  int owner;
  int64_t gid;
} ghost_key;

static int cmp_ghost(const void *a, const void *b) {
  const ghost_key *x = a, *y = b;
  if (x->owner != y->owner) return x->owner - y->owner;
  return (x->gid > y->gid) - (x->gid < y->gid);
}

static int cmp_lidx(const void *a, const void *b) {
  er_lidx x = *(const er_lidx *)a, y = *(const er_lidx *)b;
  return (x > y) - (x < y);
}

static int64_t bsearch_i64(const int64_t *a, int64_t n, int64_t key) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return (lo < n && a[lo] == key) ? lo : -1;
}

/* Mark split membership of owned rows from a split dataset (read whole on every rank). */
static er_err mark_split(hid_t fid, const char *name, uint8_t bit, er_dgraph *g) {
  er_err err = ER_OK;
  int nd;
  int64_t dims[2], *ids = NULL;
  if (!er_h5_exists(fid, name)) return ER_OK;
  ER_CALL(er_h5_shape(fid, name, &nd, dims));
  ER_MALLOC(ids, dims[0]);
  ER_CALL(er_h5_read_all(fid, name, H5T_NATIVE_INT64, ids));
  for (int64_t k = 0; k < dims[0]; ++k) {
    int64_t r = bsearch_i64(g->gid, g->n_own, ids[k]);
    if (r >= 0) g->split[r] |= bit;
  }
cleanup:
  free(ids);
  return err;
}

er_err er_dgraph_create(MPI_Comm comm, hid_t fid, const char *partition, int load_features,
                        er_dgraph **out) {
  er_err err = ER_OK;
  int rank, size;
  er_dgraph *g = NULL;
  er_meta meta;
  int32_t *owner = NULL, *blk_label = NULL;
  int64_t *blk_indptr = NULL, *blk_indices = NULL, *cols = NULL, *ghost_sorted = NULL;
  float *blk_x = NULL;
  char *sbuf = NULL, *rbuf = NULL;
  int *scnt = NULL, *rcnt = NULL, *sdsp = NULL, *rdsp = NULL;
  ghost_key *gk = NULL;
  er_lidx *ghost_local = NULL;
  int64_t *own_gid = NULL;
  size_t *sbytes = NULL;
  char pname[64];
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;

  //---- metadata and partition choice --------------------------------------------------------
  ER_CALL(er_dataset_meta(comm, fid, &meta));
  ER_CALLOC(g, 1);
  g->comm = comm;
  g->n_global = meta.num_nodes;
  g->e_global = meta.num_edges;
  g->K = (int)meta.num_classes;
  g->F = load_features ? meta.num_features : 0;
  int64_t N = meta.num_nodes, F = g->F;
  snprintf(pname, sizeof pname, "%s/%d", ER_DS_PARTITIONS, size);
  int use_block;
  if (!partition || !strcmp(partition, "auto")) {
    use_block = !er_h5_exists(fid, pname);
  } else if (!strcmp(partition, "block")) {
    use_block = 1;
  } else {
    int64_t p;
    ER_CALL(er_parse_i64(partition, "--partition", 1, INT32_MAX, &p));
    ER_CHECK(p == size, ER_ERR_INPUT,
             "partition %s needs %s ranks, but this run has %d ranks", partition, partition, size);
    ER_CHECK(er_h5_exists(fid, pname), ER_ERR_INPUT,
             "the dataset has no partition for %d parts (run: erase-mpi partition --parts %d)",
             size, size);
    use_block = 0;
  }
  ER_CHECK(N >= size, ER_ERR_INPUT, "more ranks (%d) than nodes (%lld)", size, (long long)N);
  snprintf(g->partition, sizeof g->partition, "%.40s", use_block ? "block" : pname + 12);

  //---- owner of every node (int32 per node on each rank) ------------------------------------
  ER_MALLOC(owner, N);
  if (use_block) {
    for (int r = 0; r < size; ++r) {
      int64_t lo, hi;
      er_block_range(N, size, r, &lo, &hi);
      for (int64_t i = lo; i < hi; ++i) owner[i] = r;
    }
  } else {
    int nd;
    int64_t dims[2];
    ER_CALL(er_h5_shape(fid, pname, &nd, dims));
    ER_CHECK(nd == 1 && dims[0] == N, ER_ERR_INPUT, "partition '%s' has %lld entries, expected %lld",
             pname, (long long)dims[0], (long long)N);
    ER_CALL(er_h5_read_all(fid, pname, H5T_NATIVE_INT32, owner));
    for (int64_t i = 0; i < N && err == ER_OK; ++i)
      if (owner[i] < 0 || owner[i] >= size)
        err = ER_ERROR(ER_ERR_INPUT, "partition '%s' assigns node %lld to part %d", pname,
                       (long long)i, owner[i]);
    ER_CALL(err);
  }

  //---- read my contiguous block ----------------------------------------------------------------
  int64_t lo, hi;
  er_block_range(N, size, rank, &lo, &hi);
  int64_t nb = hi - lo;
  ER_MALLOC(blk_indptr, nb + 1);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, lo, nb + 1, blk_indptr));
  int64_t e0 = blk_indptr[0], ne = blk_indptr[nb] - e0;
  ER_MALLOC(blk_indices, ne);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, H5T_NATIVE_INT64, e0, ne, blk_indices));
  ER_MALLOC(blk_label, nb);
  ER_CALL(er_h5_read_rows(fid, ER_DS_LABELS, H5T_NATIVE_INT32, lo, nb, blk_label));
  if (F > 0) {
    ER_MALLOC(blk_x, nb * F);
    ER_CALL(er_h5_read_rows(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, lo, nb, blk_x));
  }

  //---- pack rows for their owners, one Alltoallv --------------------------------------------
  ER_CALLOC(scnt, size);
  ER_CALLOC(rcnt, size);
  ER_CALLOC(sdsp, size);
  ER_CALLOC(rdsp, size);
  {
    int64_t *tot = calloc((size_t)size, sizeof(int64_t));
    ER_CHECK(tot, ER_ERR_MEM, "out of memory");
    for (int64_t i = 0; i < nb; ++i)
      tot[owner[lo + i]] += (int64_t)rec_bytes(blk_indptr[i + 1] - blk_indptr[i], F);
    int64_t off = 0;
    for (int p = 0; p < size; ++p) {
      if (tot[p] > INT32_MAX) err = ER_ERROR(ER_ERR_INPUT, "a rank would send over 2 GiB of rows "
                                             "to one owner; run with more ranks");
      scnt[p] = (int)tot[p];
      sdsp[p] = (int)(off < INT32_MAX ? off : 0);
      off += tot[p];
    }
    if (off > INT32_MAX) err = ER_ERROR(ER_ERR_INPUT, "row block over 2 GiB; run with more ranks");
    free(tot);
    ER_CALL(er_agree(comm, err));
    ER_MALLOC(sbuf, off);
    sbytes = (size_t *)calloc((size_t)size, sizeof(size_t));
    ER_CHECK(sbytes, ER_ERR_MEM, "out of memory");
    for (int64_t i = 0; i < nb; ++i) {
      int p = owner[lo + i];
      int64_t deg = blk_indptr[i + 1] - blk_indptr[i];
      char *q = sbuf + sdsp[p] + sbytes[p];
      int64_t hdr[2] = {lo + i, deg};
      int32_t meta2[2] = {blk_label[i], 0};
      memcpy(q, hdr, sizeof hdr);
      q += sizeof hdr;
      memcpy(q, meta2, sizeof meta2);
      q += sizeof meta2;
      memcpy(q, blk_indices + (blk_indptr[i] - e0), (size_t)deg * sizeof(int64_t));
      q += (size_t)deg * sizeof(int64_t);
      if (F > 0) memcpy(q, blk_x + i * F, (size_t)F * sizeof(float));
      sbytes[p] += rec_bytes(deg, F);
    }
    ER_FREE(sbytes);
  }
  ER_FREE(blk_indices);
  ER_FREE(blk_x);
  ER_CALL_MPI(MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  int64_t rtot = 0;
  for (int p = 0; p < size; ++p) {
    rdsp[p] = (int)rtot;
    rtot += rcnt[p];
  }
  err = rtot > INT32_MAX ? ER_ERROR(ER_ERR_INPUT, "a rank would receive over 2 GiB of rows; run "
                                    "with more ranks") : ER_OK;
  ER_CALL(er_agree(comm, err));
  ER_MALLOC(rbuf, rtot);
  ER_CALL_MPI(MPI_Alltoallv(sbuf, scnt, sdsp, MPI_BYTE, rbuf, rcnt, rdsp, MPI_BYTE, comm));
  ER_FREE(sbuf);

  //---- unpack: rows arrive sorted by gid (source blocks are ascending in rank order) --------
  int64_t n_own = 0, nnz = 0;
  for (size_t off = 0; off < (size_t)rtot;) {
    int64_t hdr[2];
    memcpy(hdr, rbuf + off, sizeof hdr);
    n_own++;
    nnz += hdr[1];
    off += rec_bytes(hdr[1], F);
  }
  err = n_own > 0 ? ER_OK : ER_ERROR(ER_ERR_INPUT, "rank %d owns no nodes in partition %s", rank,
                                      g->partition);
  ER_CALL(er_agree(comm, err));
  g->n_own = (er_lidx)n_own;
  ER_MALLOC(g->indptr, n_own + 1);
  ER_MALLOC(cols, nnz);
  ER_MALLOC(g->labels, n_own);
  ER_CALLOC(g->split, n_own);
  if (F > 0) ER_MALLOC(g->x, n_own * F);
  ER_MALLOC(own_gid, n_own);
  g->indptr[0] = 0;
  {
    size_t off = 0;
    for (int64_t r = 0; r < n_own; ++r) {
      int64_t hdr[2];
      int32_t m2[2];
      memcpy(hdr, rbuf + off, sizeof hdr);
      memcpy(m2, rbuf + off + sizeof hdr, sizeof m2);
      const char *q = rbuf + off + sizeof hdr + sizeof m2;
      own_gid[r] = hdr[0];
      g->labels[r] = m2[0];
      memcpy(cols + g->indptr[r], q, (size_t)hdr[1] * sizeof(int64_t));
      q += (size_t)hdr[1] * sizeof(int64_t);
      if (F > 0) memcpy(g->x + r * F, q, (size_t)F * sizeof(float));
      g->indptr[r + 1] = g->indptr[r] + hdr[1];
      off += rec_bytes(hdr[1], F);
    }
  }
  ER_FREE(rbuf);

  //---- ghosts: distinct off-rank columns ordered by (owner, gid) ----------------------------
  int64_t n_off = 0;
  for (int64_t k = 0; k < nnz; ++k) n_off += owner[cols[k]] != rank;
  ER_MALLOC(ghost_sorted, n_off);
  n_off = 0;
  for (int64_t k = 0; k < nnz; ++k)
    if (owner[cols[k]] != rank) ghost_sorted[n_off++] = cols[k];
  qsort(ghost_sorted, (size_t)n_off, sizeof(int64_t), cmp_i64);
  int64_t n_ghost = 0;
  for (int64_t k = 0; k < n_off; ++k)
    if (k == 0 || ghost_sorted[k] != ghost_sorted[k - 1]) ghost_sorted[n_ghost++] = ghost_sorted[k];
  err = n_own + n_ghost < INT32_MAX
            ? ER_OK
            : ER_ERROR(ER_ERR_INPUT, "rank %d would hold %lld rows: more than the 32-bit local "
                       "index allows; run with more ranks", rank, (long long)(n_own + n_ghost));
  ER_CALL(er_agree(comm, err));
  g->n_ghost = (er_lidx)n_ghost;
  ER_MALLOC(gk, n_ghost);
  for (int64_t k = 0; k < n_ghost; ++k) gk[k] = (ghost_key){owner[ghost_sorted[k]], ghost_sorted[k]};
  qsort(gk, (size_t)n_ghost, sizeof *gk, cmp_ghost);
  ER_MALLOC(g->gid, n_own + n_ghost);
  ER_MALLOC(g->ghost_owner, n_ghost);
  memcpy(g->gid, own_gid, (size_t)n_own * sizeof(int64_t));
  ER_FREE(own_gid);
  ER_MALLOC(ghost_local, n_ghost); /* position in ghost_sorted (by gid) -> local id */
  for (int64_t k = 0; k < n_ghost; ++k) {
    g->gid[n_own + k] = gk[k].gid;
    g->ghost_owner[k] = gk[k].owner;
    ghost_local[bsearch_i64(ghost_sorted, n_ghost, gk[k].gid)] = (er_lidx)(n_own + k);
  }

  //---- local column ids, sorted per row ------------------------------------------------------
  ER_MALLOC(g->indices, nnz);
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t c = cols[k];
    g->indices[k] = owner[c] == rank ? (er_lidx)bsearch_i64(g->gid, n_own, c)
                                     : ghost_local[bsearch_i64(ghost_sorted, n_ghost, c)];
  }
  ER_MALLOC(g->row_order, n_own);
  {
    er_lidx a = 0, b = (er_lidx)n_own;
    for (int64_t r = 0; r < n_own; ++r) {
      qsort(g->indices + g->indptr[r], (size_t)(g->indptr[r + 1] - g->indptr[r]),
            sizeof(er_lidx), cmp_lidx);
      int interior = g->indptr[r + 1] == g->indptr[r] || g->indices[g->indptr[r + 1] - 1] < n_own;
      if (interior) g->row_order[a++] = (er_lidx)r;
      else g->row_order[--b] = (er_lidx)r;
    }
    g->n_interior = a;
    /* keep boundary rows ascending too */
    for (er_lidx i = a, j = (er_lidx)n_own - 1; i < j; ++i, --j) {
      er_lidx t = g->row_order[i];
      g->row_order[i] = g->row_order[j];
      g->row_order[j] = t;
    }
  }

  //---- splits, halo plan ---------------------------------------------------------------------
  ER_CALL(mark_split(fid, ER_DS_TRAIN, ER_SPLIT_TRAIN, g));
  ER_CALL(mark_split(fid, ER_DS_VAL, ER_SPLIT_VAL, g));
  ER_CALL(mark_split(fid, ER_DS_TEST, ER_SPLIT_TEST, g));
  ER_CALL(er_halo_create(comm, g->n_own, g->gid, g->n_ghost, g->gid + n_own, g->ghost_owner,
                         &g->halo));
  *out = g;
  g = NULL;
cleanup:
  err = er_agree(comm, err);
  free(owner);
  free(blk_label);
  free(blk_indptr);
  free(blk_indices);
  free(blk_x);
  free(sbuf);
  free(rbuf);
  free(scnt);
  free(rcnt);
  free(sdsp);
  free(rdsp);
  free(cols);
  free(ghost_sorted);
  free(gk);
  free(ghost_local);
  free(own_gid);
  free(sbytes);
  er_dgraph_destroy(&g);
  if (err != ER_OK && *out) er_dgraph_destroy(out);
  return err;
}

void er_dgraph_destroy(er_dgraph **pg) {
  if (!pg || !*pg) return;
  er_dgraph *g = *pg;
  free(g->gid);
  free(g->ghost_owner);
  free(g->indptr);
  free(g->indices);
  free(g->x);
  free(g->labels);
  free(g->split);
  free(g->row_order);
  er_halo_destroy(&g->halo);
  free(g);
  *pg = NULL;
}

//---- owned rows <-> contiguous blocks of global ids (for parallel HDF5 writes and reads) --------

static int block_owner(int64_t N, int size, int64_t gid) {
  int64_t q = N / size, r = N % size;
  return gid < r * (q + 1) ? (int)(gid / (q + 1)) : (int)(r + (gid - r * (q + 1)) / q);
}

/* Shared plan: owned rows grouped by block owner (order[], counts), and the matching receive
 * side (gids of incoming rows). */
typedef struct {
  int *scnt, *sdsp, *rcnt, *rdsp;
  er_lidx *order;  /* (n_own) owned rows grouped by destination block owner */
  int64_t *rgid;   /* (sum rcnt) global ids of the rows this rank's block receives/serves */
  int64_t nrecv;
} block_plan;

static void block_plan_free(block_plan *p) {
  free(p->scnt), free(p->sdsp), free(p->rcnt), free(p->rdsp), free(p->order), free(p->rgid);
}

static er_err block_plan_make(const er_dgraph *g, block_plan *p) {
  er_err err = ER_OK;
  int size;
  int64_t *sgid = NULL;
  MPI_Comm_size(g->comm, &size);
  memset(p, 0, sizeof *p);
  ER_CALLOC(p->scnt, size);
  ER_CALLOC(p->sdsp, size);
  ER_CALLOC(p->rcnt, size);
  ER_CALLOC(p->rdsp, size);
  ER_MALLOC(p->order, g->n_own);
  ER_MALLOC(sgid, g->n_own);
  for (er_lidx i = 0; i < g->n_own; ++i) p->scnt[block_owner(g->n_global, size, g->gid[i])]++;
  for (int r = 1; r < size; ++r) p->sdsp[r] = p->sdsp[r - 1] + p->scnt[r - 1];
  {
    int *fill = NULL;
    ER_CALLOC(fill, size);
    for (er_lidx i = 0; i < g->n_own; ++i) {
      int r = block_owner(g->n_global, size, g->gid[i]);
      p->order[p->sdsp[r] + fill[r]] = i;
      sgid[p->sdsp[r] + fill[r]++] = g->gid[i];
    }
    free(fill);
  }
  ER_CALL_MPI(MPI_Alltoall(p->scnt, 1, MPI_INT, p->rcnt, 1, MPI_INT, g->comm));
  for (int r = 0; r < size; ++r) {
    p->rdsp[r] = (int)p->nrecv;
    p->nrecv += p->rcnt[r];
  }
  ER_MALLOC(p->rgid, p->nrecv);
  ER_CALL_MPI(MPI_Alltoallv(sgid, p->scnt, p->sdsp, MPI_INT64_T, p->rgid, p->rcnt, p->rdsp,
                            MPI_INT64_T, g->comm));
cleanup:
  free(sgid);
  return err;
}

/* One Alltoallv of whole rows between the owned-row layout and the block layout, either way.
 * The plan's send side is the owned rows grouped by block owner, its receive side the block's
 * rows (by gid); from-block runs the same plan backwards. */
static er_err block_move(const er_dgraph *g, const void *src, int ncols, MPI_Datatype t,
                         void *dst, int to_block) {
  er_err err = ER_OK;
  block_plan p;
  char *sbuf = NULL, *rbuf = NULL;
  MPI_Datatype row = MPI_DATATYPE_NULL;
  int rank, size, es;
  int64_t lo, hi;
  MPI_Comm_rank(g->comm, &rank);
  MPI_Comm_size(g->comm, &size);
  MPI_Type_size(t, &es);
  size_t rb = (size_t)es * ncols;
  er_block_range(g->n_global, size, rank, &lo, &hi);
  ER_CALL(block_plan_make(g, &p));
  int64_t nown = g->n_own, nblk = p.nrecv;
  ER_MALLOC(sbuf, rb * (size_t)(to_block ? nown : nblk));
  ER_MALLOC(rbuf, rb * (size_t)(to_block ? nblk : nown));
  if (to_block)
    for (int64_t k = 0; k < nown; ++k) memcpy(sbuf + rb * k, (const char *)src + rb * p.order[k], rb);
  else
    for (int64_t k = 0; k < nblk; ++k) memcpy(sbuf + rb * k, (const char *)src + rb * (p.rgid[k] - lo), rb);
  ER_CALL_MPI(MPI_Type_contiguous(ncols, t, &row));
  ER_CALL_MPI(MPI_Type_commit(&row));
  if (to_block)
    ER_CALL_MPI(MPI_Alltoallv(sbuf, p.scnt, p.sdsp, row, rbuf, p.rcnt, p.rdsp, row, g->comm));
  else
    ER_CALL_MPI(MPI_Alltoallv(sbuf, p.rcnt, p.rdsp, row, rbuf, p.scnt, p.sdsp, row, g->comm));
  if (to_block)
    for (int64_t k = 0; k < nblk; ++k) memcpy((char *)dst + rb * (p.rgid[k] - lo), rbuf + rb * k, rb);
  else
    for (int64_t k = 0; k < nown; ++k) memcpy((char *)dst + rb * p.order[k], rbuf + rb * k, rb);
cleanup:
  if (row != MPI_DATATYPE_NULL) MPI_Type_free(&row);
  block_plan_free(&p);
  free(sbuf), free(rbuf);
  return err;
}

er_err er_dgraph_rows_to_block(const er_dgraph *g, const void *src, int ncols, MPI_Datatype t,
                               void *dst) {
  return block_move(g, src, ncols, t, dst, 1);
}

er_err er_dgraph_rows_from_block(const er_dgraph *g, const void *src, int ncols,
                                 MPI_Datatype t, void *dst) {
  return block_move(g, src, ncols, t, dst, 0);
}
