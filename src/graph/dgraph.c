/* dgraph.c: a rank's share of the distributed graph: its rows read from the dataset's contiguous
 * blocks and moved to their partition owners (one Alltoallv), columns numbered locally (owned
 * rows, then ghosts by (owner, gid)), the halo plan; and row data moved back to blocks to write.
 * It does not partition (see partition/) and keeps no whole-graph array but the owner map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/sort.h"

/* Split ids are read in batches of at most this many (every rank reads every batch). */
#define DG_SPLIT_BATCH ((int64_t)1 << 20)

//---- partition choice ----------------------------------------------------------------------

er_err er_part_choice_parse(const char *text, er_part_choice *choice) {
  choice->parts = 0;
  if (!text || !strcmp(text, "auto")) choice->kind = ER_PART_CHOICE_AUTO;
  else if (!strcmp(text, "block")) choice->kind = ER_PART_CHOICE_BLOCK;
  else {
    int64_t parts;
    choice->kind = ER_PART_CHOICE_STORED;
    er_err err = er_parse_i64(text, "--partition", 1, INT32_MAX, &parts);
    choice->parts = (int)parts;
    return err;
  }
  return ER_OK;
}

/* Decide between contiguous blocks and the stored partition pname (/partitions/<size>), found
 * in the dataset or its sidecar (er_partition_locate). */
static er_err dg_resolve_partition(hid_t fid, er_part_choice part, int size, int64_t n,
                             const char *pname, int *use_block) {
  er_err err = ER_OK;
  hid_t pfid = -1;
  char found[64]; /* the same name as pname */
  (void)pname;
  switch (part.kind) {
    case ER_PART_CHOICE_AUTO:
      ER_CALL(er_partition_locate(fid, size, &pfid, found, sizeof found));
      *use_block = pfid < 0;
      break;
    case ER_PART_CHOICE_BLOCK: *use_block = 1; break;
    case ER_PART_CHOICE_STORED:
      ER_CHECK(part.parts == size, ER_ERR_INPUT,
               "partition %d needs %d ranks, but this run has %d ranks", part.parts, part.parts,
               size);
      ER_CALL(er_partition_locate(fid, size, &pfid, found, sizeof found));
      ER_CHECK(pfid >= 0, ER_ERR_INPUT,
               "the dataset has no partition for %d parts (run: erase-mpi partition --parts %d)",
               size, size);
      *use_block = 0;
      break;
    default: ER_CHECK(0, ER_ERR_INTERNAL, "unknown partition choice %d", (int)part.kind);
  }
  ER_CHECK(n >= size, ER_ERR_INPUT, "more ranks (%d) than nodes (%lld)", size, (long long)n);
cleanup:
  er_partition_release(fid, &pfid);
  return err;
}

/* owner[i] (n entries): the rank that will own node i. */
static er_err dg_read_owner(hid_t fid, const char *pname, int use_block, int size, int64_t n,
                            int32_t *owner) {
  er_err err = ER_OK;
  hid_t pfid = -1;
  char found[64];
  if (use_block) {
    for (int64_t i = 0; i < n; ++i) owner[i] = er_block_owner(n, size, i);
    return ER_OK;
  }
  int nd;
  int64_t dims[2];
  ER_CALL(er_partition_locate(fid, size, &pfid, found, sizeof found));
  ER_CHECK(pfid >= 0, ER_ERR_INPUT, "partition '%s' vanished while it was being read", pname);
  ER_CALL(er_h5_shape(pfid, pname, &nd, dims));
  ER_CHECK(nd == 1 && dims[0] == n, ER_ERR_INPUT, "partition '%s' has %lld entries, expected %lld",
           pname, (long long)dims[0], (long long)n);
  ER_CALL(er_h5_read_all(pfid, pname, H5T_NATIVE_INT32, owner));
  for (int64_t i = 0; i < n && err == ER_OK; ++i)
    if (owner[i] < 0 || owner[i] >= size)
      err = ER_ERROR(ER_ERR_INPUT, "partition '%s' assigns node %lld to part %d", pname,
                     (long long)i, owner[i]);
cleanup:
  er_partition_release(fid, &pfid);
  return err;
}

//---- rows: file block -> owners ------------------------------------------------------------

/* The rows a rank reads from the file: global ids [lo, lo + n). */
typedef struct {
  int64_t lo, n;
  int64_t *indptr;  /* (n + 1) offsets into /graph/indices */
  int64_t *cols;    /* (indptr[n] - indptr[0]) global column ids */
  int32_t *labels;  /* (n) */
  float *x;         /* (n, F) or NULL when F = 0 */
} file_rows;

static void file_rows_free(file_rows *rows) {
  ER_FREE(rows->indptr);
  ER_FREE(rows->cols);
  ER_FREE(rows->labels);
  ER_FREE(rows->x);
}

static er_err dg_read_rows(hid_t fid, int rank, int size, int64_t n, int64_t F, file_rows *rows) {
  er_err err = ER_OK;
  int64_t hi;
  er_block_range(n, size, rank, &rows->lo, &hi);
  rows->n = hi - rows->lo;
  ER_MALLOC(rows->indptr, rows->n + 1);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, rows->lo, rows->n + 1,
                          rows->indptr));
  int64_t e0 = rows->indptr[0], ne = rows->indptr[rows->n] - e0;
  ER_MALLOC(rows->cols, ne);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, H5T_NATIVE_INT64, e0, ne, rows->cols));
  ER_MALLOC(rows->labels, rows->n);
  ER_CALL(er_h5_read_rows(fid, ER_DS_LABELS, H5T_NATIVE_INT32, rows->lo, rows->n, rows->labels));
  if (F > 0) {
    ER_MALLOC(rows->x, rows->n * F);
    ER_CALL(er_h5_read_rows(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, rows->lo, rows->n, rows->x));
  }
cleanup:
  return err;
}

/* One record per row in the Alltoallv byte stream:
 * [gid int64][deg int64][label int32][deg x int64 cols][F x float] */
static size_t rec_bytes(int64_t deg, int64_t F) {
  return 2 * sizeof(int64_t) + sizeof(int32_t) + (size_t)deg * sizeof(int64_t) +
         (size_t)F * sizeof(float);
}

/* Byte counts and offsets of the records this rank sends to each owner. */
static er_err dg_send_counts(MPI_Comm comm, const file_rows *rows, const int32_t *owner, int64_t F,
                             int *scnt, int *sdsp, int64_t *sbytes) {
  er_err err = ER_OK;
  int size;
  int64_t *bytes = NULL, off = 0;
  MPI_Comm_size(comm, &size);
  bytes = calloc((size_t)size, sizeof *bytes);
  ER_CHECK(bytes, ER_ERR_MEM, "out of memory");
  for (int64_t i = 0; i < rows->n; ++i)
    bytes[owner[rows->lo + i]] += (int64_t)rec_bytes(rows->indptr[i + 1] - rows->indptr[i], F);
  for (int p = 0; p < size; ++p) {
    if (bytes[p] > INT32_MAX) err = ER_ERROR(ER_ERR_INPUT, "a rank would send over 2 GiB of "
                                             "rows to one owner; run with more ranks");
    scnt[p] = (int)bytes[p];
    sdsp[p] = (int)(off < INT32_MAX ? off : 0);
    off += bytes[p];
  }
  if (off > INT32_MAX) err = ER_ERROR(ER_ERR_INPUT, "row block over 2 GiB; run with more ranks");
  *sbytes = off;
cleanup:
  free(bytes);
  return err;
}

/* Pack the file rows for their owners (freeing the columns and features once packed) and move
 * them with one Alltoallv; *rbuf (caller frees) receives *rbytes bytes of records. */
static er_err dg_send_rows(MPI_Comm comm, file_rows *rows, const int32_t *owner, int64_t F,
                           char **rbuf, int64_t *rbytes) {
  er_err err = ER_OK;
  int size;
  int *scnt = NULL, *rcnt = NULL, *sdsp = NULL, *rdsp = NULL;
  char *sbuf = NULL;
  size_t *filled = NULL;
  int64_t sbytes = 0;
  MPI_Comm_size(comm, &size);
  *rbuf = NULL;
  ER_CALLOC(scnt, size);
  ER_CALLOC(rcnt, size);
  ER_CALLOC(sdsp, size);
  ER_CALLOC(rdsp, size);
  err = dg_send_counts(comm, rows, owner, F, scnt, sdsp, &sbytes);
  ER_CALL(er_agree(comm, err));
  ER_MALLOC(sbuf, sbytes);
  ER_CALLOC(filled, size);
  const int64_t e0 = rows->indptr[0];
  for (int64_t i = 0; i < rows->n; ++i) {
    int p = owner[rows->lo + i];
    int64_t deg = rows->indptr[i + 1] - rows->indptr[i];
    char *q = sbuf + sdsp[p] + filled[p];
    int64_t hdr[2] = {rows->lo + i, deg};
    memcpy(q, hdr, sizeof hdr);
    q += sizeof hdr;
    memcpy(q, &rows->labels[i], sizeof(int32_t));
    q += sizeof(int32_t);
    memcpy(q, rows->cols + (rows->indptr[i] - e0), (size_t)deg * sizeof(int64_t));
    q += (size_t)deg * sizeof(int64_t);
    if (F > 0) memcpy(q, rows->x + i * F, (size_t)F * sizeof(float));
    filled[p] += rec_bytes(deg, F);
  }
  ER_FREE(filled);
  ER_FREE(rows->cols);
  ER_FREE(rows->x);
  ER_CALL_MPI(MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  int64_t total = 0;
  for (int p = 0; p < size; ++p) {
    rdsp[p] = (int)total;
    total += rcnt[p];
  }
  err = total > INT32_MAX ? ER_ERROR(ER_ERR_INPUT, "a rank would receive over 2 GiB of rows; "
                                     "run with more ranks") : ER_OK;
  ER_CALL(er_agree(comm, err));
  ER_MALLOC(*rbuf, total);
  ER_CALL_MPI(MPI_Alltoallv(sbuf, scnt, sdsp, MPI_BYTE, *rbuf, rcnt, rdsp, MPI_BYTE, comm));
  *rbytes = total;
cleanup:
  free(scnt);
  free(rcnt);
  free(sdsp);
  free(rdsp);
  free(sbuf);
  free(filled);
  return err;
}

/* Unpack the received records into the owned rows: g->indptr, labels, x and split (zeroed),
 * *own_gid (n_own) and *cols (global column ids). Rows arrive sorted by gid: the source blocks
 * are ascending in rank order. */
static er_err dg_unpack_rows(MPI_Comm comm, const char *rbuf, int64_t rbytes, er_dgraph *g,
                             int64_t **own_gid, int64_t **cols) {
  er_err err = ER_OK;
  int rank;
  int64_t n_own = 0, nnz = 0, F = g->F;
  MPI_Comm_rank(comm, &rank);
  for (size_t off = 0; off < (size_t)rbytes;) {
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
  ER_MALLOC(*cols, nnz);
  ER_MALLOC(g->labels, n_own);
  ER_CALLOC(g->split, n_own);
  if (F > 0) ER_MALLOC(g->x, n_own * F);
  ER_MALLOC(*own_gid, n_own);
  g->indptr[0] = 0;
  size_t off = 0;
  for (int64_t r = 0; r < n_own; ++r) {
    int64_t hdr[2];
    memcpy(hdr, rbuf + off, sizeof hdr);
    const char *q = rbuf + off + sizeof hdr;
    (*own_gid)[r] = hdr[0];
    memcpy(&g->labels[r], q, sizeof(int32_t));
    q += sizeof(int32_t);
    memcpy(*cols + g->indptr[r], q, (size_t)hdr[1] * sizeof(int64_t));
    q += (size_t)hdr[1] * sizeof(int64_t);
    if (F > 0) memcpy(g->x + r * F, q, (size_t)F * sizeof(float));
    g->indptr[r + 1] = g->indptr[r] + hdr[1];
    off += rec_bytes(hdr[1], F);
  }
cleanup:
  return err;
}

//---- local numbering -----------------------------------------------------------------------

typedef struct {
  int owner;
  int64_t gid;
} ghost_key;

static int cmp_ghost(const void *a, const void *b) {
  const ghost_key *x = a, *y = b;
  if (x->owner != y->owner) return x->owner - y->owner;
  return (x->gid > y->gid) - (x->gid < y->gid);
}

/* Ghosts are the distinct off-rank columns, numbered n_own.. in (owner, gid) order: fills
 * g->gid (owned ids from own_gid, then ghosts) and g->ghost_owner. *by_gid (n_ghost) lists the
 * ghost ids ascending and (*local_of)[k] is the local id of by_gid[k]. */
static er_err dg_number_ghosts(MPI_Comm comm, const int32_t *owner, const int64_t *cols,
                               const int64_t *own_gid, er_dgraph *g, int64_t **by_gid,
                               er_lidx **local_of) {
  er_err err = ER_OK;
  int rank;
  ghost_key *keys = NULL;
  int64_t *ids = NULL, n_own = g->n_own, nnz = g->indptr[n_own], n_off = 0, n_ghost = 0;
  MPI_Comm_rank(comm, &rank);
  for (int64_t k = 0; k < nnz; ++k) n_off += owner[cols[k]] != rank;
  ER_MALLOC(ids, n_off);
  n_off = 0;
  for (int64_t k = 0; k < nnz; ++k)
    if (owner[cols[k]] != rank) ids[n_off++] = cols[k];
  er_sort_i64(ids, n_off);
  for (int64_t k = 0; k < n_off; ++k)
    if (k == 0 || ids[k] != ids[k - 1]) ids[n_ghost++] = ids[k];
  err = n_own + n_ghost < INT32_MAX
            ? ER_OK
            : ER_ERROR(ER_ERR_INPUT, "rank %d would hold %lld rows: more than the 32-bit local "
                       "index allows; run with more ranks", rank, (long long)(n_own + n_ghost));
  ER_CALL(er_agree(comm, err));
  g->n_ghost = (er_lidx)n_ghost;
  ER_MALLOC(keys, n_ghost);
  for (int64_t k = 0; k < n_ghost; ++k) keys[k] = (ghost_key){owner[ids[k]], ids[k]};
  qsort(keys, (size_t)n_ghost, sizeof *keys, cmp_ghost);
  ER_MALLOC(g->gid, n_own + n_ghost);
  ER_MALLOC(g->ghost_owner, n_ghost);
  memcpy(g->gid, own_gid, (size_t)n_own * sizeof(int64_t));
  ER_MALLOC(*local_of, n_ghost);
  for (int64_t k = 0; k < n_ghost; ++k) {
    g->gid[n_own + k] = keys[k].gid;
    g->ghost_owner[k] = keys[k].owner;
    (*local_of)[er_search_i64(ids, n_ghost, keys[k].gid)] = (er_lidx)(n_own + k);
  }
  *by_gid = ids;
  ids = NULL;
cleanup:
  free(ids);
  free(keys);
  return err;
}

static int cmp_lidx(const void *a, const void *b) {
  er_lidx x = *(const er_lidx *)a, y = *(const er_lidx *)b;
  return (x > y) - (x < y);
}

/* g->indices: the local id of every column, ascending per row; g->row_order: rows that touch
 * no ghost first (g->n_interior of them), then the boundary rows, both ascending. */
static er_err dg_local_columns(int rank, const int32_t *owner, const int64_t *cols,
                               const int64_t *ghost_by_gid, const er_lidx *ghost_local,
                               er_dgraph *g) {
  er_err err = ER_OK;
  const int64_t n_own = g->n_own, nnz = g->indptr[n_own];
  ER_MALLOC(g->indices, nnz);
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t c = cols[k];
    g->indices[k] = owner[c] == rank
                        ? (er_lidx)er_search_i64(g->gid, n_own, c)
                        : ghost_local[er_search_i64(ghost_by_gid, g->n_ghost, c)];
  }
  ER_MALLOC(g->row_order, n_own);
  er_lidx front = 0, back = (er_lidx)n_own; /* next interior slot; last boundary slot + 1 */
  for (int64_t r = 0; r < n_own; ++r) {
    qsort(g->indices + g->indptr[r], (size_t)(g->indptr[r + 1] - g->indptr[r]), sizeof(er_lidx),
          cmp_lidx);
    int interior = g->indptr[r + 1] == g->indptr[r] || g->indices[g->indptr[r + 1] - 1] < n_own;
    if (interior) g->row_order[front++] = (er_lidx)r;
    else g->row_order[--back] = (er_lidx)r;
  }
  g->n_interior = front;
  for (er_lidx i = front, j = (er_lidx)n_own - 1; i < j; ++i, --j) { /* boundary rows ascending */
    er_lidx t = g->row_order[i];
    g->row_order[i] = g->row_order[j];
    g->row_order[j] = t;
  }
cleanup:
  return err;
}

/* Mark the owned rows listed in split dataset name (absent: nothing to mark). Every rank reads
 * the whole list in batches of DG_SPLIT_BATCH ids, so no rank holds it whole. */
static er_err dg_mark_split(hid_t fid, const char *name, uint8_t bit, er_dgraph *g) {
  er_err err = ER_OK;
  int nd;
  int64_t dims[2], *ids = NULL;
  if (!er_h5_exists(fid, name)) return ER_OK;
  ER_CALL(er_h5_shape(fid, name, &nd, dims));
  ER_MALLOC(ids, dims[0] < DG_SPLIT_BATCH ? dims[0] : DG_SPLIT_BATCH);
  for (int64_t row0 = 0; row0 < dims[0]; row0 += DG_SPLIT_BATCH) {
    int64_t nrows = dims[0] - row0 < DG_SPLIT_BATCH ? dims[0] - row0 : DG_SPLIT_BATCH;
    ER_CALL(er_h5_read_rows(fid, name, H5T_NATIVE_INT64, row0, nrows, ids));
    for (int64_t k = 0; k < nrows; ++k) {
      int64_t r = er_search_i64(g->gid, g->n_own, ids[k]);
      if (r >= 0) g->split[r] |= bit;
    }
  }
cleanup:
  free(ids);
  return err;
}

//---- driver ----------------------------------------------------------------------------------

er_err er_dgraph_create(MPI_Comm comm, hid_t fid, er_part_choice part, int load_features,
                             er_dgraph **out) {
  er_err err = ER_OK;
  int rank, size, use_block = 0;
  er_dgraph *g = NULL;
  er_meta meta;
  file_rows rows = {0};
  int32_t *owner = NULL;
  char *rbuf = NULL, pname[64];
  int64_t rbytes = 0, *own_gid = NULL, *cols = NULL, *ghost_by_gid = NULL;
  er_lidx *ghost_local = NULL;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;

  ER_CALL(er_dataset_meta(comm, fid, &meta));
  ER_CALLOC(g, 1);
  g->comm = comm;
  g->n_global = meta.num_nodes;
  g->e_global = meta.num_edges;
  g->K = (int)meta.num_classes;
  g->F = load_features ? meta.num_features : 0;
  const int64_t n = meta.num_nodes;
  snprintf(pname, sizeof pname, "%s/%d", ER_DS_PARTITIONS, size);
  ER_CALL(dg_resolve_partition(fid, part, size, n, pname, &use_block));
  snprintf(g->partition, sizeof g->partition, "%.40s",
           use_block ? "block" : pname + strlen(ER_DS_PARTITIONS "/"));

  ER_MALLOC(owner, n);
  ER_CALL(dg_read_owner(fid, pname, use_block, size, n, owner));
  ER_CALL(dg_read_rows(fid, rank, size, n, g->F, &rows));
  ER_CALL(dg_send_rows(comm, &rows, owner, g->F, &rbuf, &rbytes));
  file_rows_free(&rows);
  ER_CALL(dg_unpack_rows(comm, rbuf, rbytes, g, &own_gid, &cols));
  ER_FREE(rbuf);

  ER_CALL(dg_number_ghosts(comm, owner, cols, own_gid, g, &ghost_by_gid, &ghost_local));
  ER_FREE(own_gid);
  ER_CALL(dg_local_columns(rank, owner, cols, ghost_by_gid, ghost_local, g));

  ER_CALL(dg_mark_split(fid, ER_DS_TRAIN, ER_SPLIT_TRAIN, g));
  ER_CALL(dg_mark_split(fid, ER_DS_VAL, ER_SPLIT_VAL, g));
  ER_CALL(dg_mark_split(fid, ER_DS_TEST, ER_SPLIT_TEST, g));
  ER_CALL(er_halo_create(comm, g->n_own, g->gid, g->n_ghost, g->gid + g->n_own, g->ghost_owner,
                         &g->halo));
  *out = g;
  g = NULL;
cleanup:
  err = er_agree(comm, err);
  file_rows_free(&rows);
  free(owner);
  free(rbuf);
  free(own_gid);
  free(cols);
  free(ghost_by_gid);
  free(ghost_local);
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
  for (er_lidx i = 0; i < g->n_own; ++i) p->scnt[er_block_owner(g->n_global, size, g->gid[i])]++;
  for (int r = 1; r < size; ++r) p->sdsp[r] = p->sdsp[r - 1] + p->scnt[r - 1];
  {
    int *fill = NULL;
    ER_CALLOC(fill, size);
    for (er_lidx i = 0; i < g->n_own; ++i) {
      int r = er_block_owner(g->n_global, size, g->gid[i]);
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
  block_plan plan;
  char *sbuf = NULL, *rbuf = NULL;
  const char *in = src;
  char *res = dst;
  MPI_Datatype row = MPI_DATATYPE_NULL;
  int rank, size, elem_bytes;
  int64_t lo, hi;
  MPI_Comm_rank(g->comm, &rank);
  MPI_Comm_size(g->comm, &size);
  MPI_Type_size(t, &elem_bytes);
  const size_t rb = (size_t)elem_bytes * (size_t)ncols; /* bytes per row */
  er_block_range(g->n_global, size, rank, &lo, &hi);
  ER_CALL(block_plan_make(g, &plan));
  const int64_t nown = g->n_own, nblk = plan.nrecv;
  ER_MALLOC(sbuf, rb * (size_t)(to_block ? nown : nblk));
  ER_MALLOC(rbuf, rb * (size_t)(to_block ? nblk : nown));
  if (to_block)
    for (int64_t k = 0; k < nown; ++k) memcpy(sbuf + rb * k, in + rb * plan.order[k], rb);
  else
    for (int64_t k = 0; k < nblk; ++k) memcpy(sbuf + rb * k, in + rb * (plan.rgid[k] - lo), rb);
  ER_CALL_MPI(MPI_Type_contiguous(ncols, t, &row));
  ER_CALL_MPI(MPI_Type_commit(&row));
  if (to_block)
    ER_CALL_MPI(MPI_Alltoallv(sbuf, plan.scnt, plan.sdsp, row, rbuf, plan.rcnt, plan.rdsp, row,
                              g->comm));
  else
    ER_CALL_MPI(MPI_Alltoallv(sbuf, plan.rcnt, plan.rdsp, row, rbuf, plan.scnt, plan.sdsp, row,
                              g->comm));
  if (to_block)
    for (int64_t k = 0; k < nblk; ++k) memcpy(res + rb * (plan.rgid[k] - lo), rbuf + rb * k, rb);
  else
    for (int64_t k = 0; k < nown; ++k) memcpy(res + rb * plan.order[k], rbuf + rb * k, rb);
cleanup:
  if (row != MPI_DATATYPE_NULL) MPI_Type_free(&row);
  block_plan_free(&plan);
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
