/* dgraph.c: a rank's share of the distributed graph: its rows read, checked and verified as
 * contiguous blocks (block.c) and moved to their partition owners (one Alltoallv), columns
 * numbered locally (owned rows, then ghosts by (owner, gid), owners asked of the blocks), the
 * halo plan; and row data moved back to blocks to write. It does not partition (partition/) and
 * no rank holds an array of N: the largest is its share of the rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/sort.h"

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

/* Decide between contiguous blocks (*pfid = -1) and the stored partition /partitions/<size>,
 * found in the dataset or its sidecar (er_partition_locate): *pfid is the file that holds it
 * (fid or an open sidecar; the caller releases it with er_partition_release) and pname its name. */
static er_err dg_resolve_partition(hid_t fid, er_part_choice part, int size, int64_t n,
                                   hid_t *pfid, char *pname, size_t pname_len) {
  er_err err = ER_OK;
  *pfid = -1;
  switch (part.kind) {
    case ER_PART_CHOICE_AUTO:
      ER_CALL(er_partition_locate(fid, size, pfid, pname, pname_len));
      break;
    case ER_PART_CHOICE_BLOCK: break;
    case ER_PART_CHOICE_STORED:
      ER_CHECK(part.parts == size, ER_ERR_INPUT,
               "partition %d needs %d ranks, but this run has %d ranks", part.parts, part.parts,
               size);
      ER_CALL(er_partition_locate(fid, size, pfid, pname, pname_len));
      ER_CHECK(*pfid >= 0, ER_ERR_INPUT,
               "the dataset has no partition for %d parts (run: erase-mpi partition --parts %d)",
               size, size);
      break;
    default: ER_CHECK(0, ER_ERR_INTERNAL, "unknown partition choice %d", (int)part.kind);
  }
  ER_CHECK(n >= size, ER_ERR_INPUT, "more ranks (%d) than nodes (%lld)", size, (long long)n);
cleanup:
  if (err != ER_OK) er_partition_release(fid, pfid);
  return err;
}

//---- buffer tables (erase/mem.h): (lvalue, elements, type, flags) ----------------------------

typedef struct {
  int owner;
  int64_t gid;
} ghost_key;

/* dg_send_rows: counts per rank (size), the block's rows packed (sent bytes), those received */
#define SEND_PLAN(X)                                                                         \
  X(scnt, size, int, ER_BUF_ZERO)                                                            \
  X(rcnt, size, int, ER_BUF_ZERO)                                                            \
  X(sdsp, size, int, ER_BUF_ZERO)                                                            \
  X(rdsp, size, int, ER_BUF_ZERO)                                                            \
  X(bytes, size, int64_t, ER_BUF_ZERO)
#define SEND_ROWS(X) X(sbuf, sent, char, 0)
#define RECV_ROWS(X) X(*rbuf, received, char, 0)
/* dg_unpack_rows: the owned rows (n_own of them, nnz entries, F features) the graph keeps, and
 * their global ids and columns until the local numbering */
#define OWNED_ROWS(X)                                                                        \
  X(g->indptr, n_own + 1, int64_t, 0)                                                        \
  X(g->labels, n_own, int32_t, 0)                                                            \
  X(g->split, n_own, uint8_t, 0)                                                             \
  X(g->x, n_own * F, float, ER_BUF_OPT)
#define OWNED_COLS(X) X(*cols, nnz, int64_t, 0)
#define OWNED_GIDS(X) X(*own_gid, n_own, int64_t, 0)
/* dg_number_ghosts: the n_off entries that are not owned, then per ghost (n_ghost) its owner,
 * sort key and local id, and the global ids the graph keeps */
#define GHOST_IDS(X) X(ids, n_off, int64_t, 0)
#define GHOST_OWNERS(X) X(owners, n_ghost, int32_t, 0)
#define GHOST_KEYS(X) X(keys, n_ghost, ghost_key, 0)
#define GHOST_LOCAL(X) X(*local_of, n_ghost, er_lidx, 0)
#define GHOST_NUMBERS(X)                                                                     \
  X(g->gid, n_own + n_ghost, int64_t, 0)                                                     \
  X(g->ghost_owner, n_ghost, int, 0)
/* the local columns, from dg_number_ghosts on (owned ones first, then the ghosts) */
#define LOCAL_COLUMNS(X)                                                                     \
  X(g->indices, nnz, er_lidx, 0)                                                             \
  X(g->row_order, n_own, er_lidx, 0)
/* er_search_many_i64's queries in chunks: against the owned ids, then against the ghosts */
#define SEARCH_OWN(X) X(scratch, 4 * er_search_many_chunk(n_own, nnz), int64_t, 0)
#define SEARCH_GHOSTS(X) X(scratch, 4 * er_search_many_chunk(n_ghost, nnz), int64_t, 0)
/* block_plan_make / block_move: owned rows (n_own) grouped by block owner, nrecv block rows
 * served, rows of rb bytes each way */
#define PLAN(X)                                                                              \
  X(p->scnt, size, int, ER_BUF_ZERO)                                                         \
  X(p->sdsp, size, int, ER_BUF_ZERO)                                                         \
  X(p->rcnt, size, int, ER_BUF_ZERO)                                                         \
  X(p->rdsp, size, int, ER_BUF_ZERO)                                                         \
  X(p->order, n_own, er_lidx, 0)
#define PLAN_SEND(X)                                                                         \
  X(sgid, n_own, int64_t, 0)                                                                 \
  X(fill, size, int, ER_BUF_ZERO)
#define PLAN_RECV(X) X(p->rgid, nrecv, int64_t, 0)
#define MOVE(X)                                                                              \
  X(sbuf, rb * (to_block ? n_own : nrecv), char, 0)                                          \
  X(rbuf, rb * (to_block ? nrecv : n_own), char, 0)

//---- rows: blocks -> owners ------------------------------------------------------------------

/* One record per row in the Alltoallv byte stream:
 * [gid int64][deg int64][label int32][split uint8 + 3 pad][deg x int64 cols][F x float];
 * rows records with entries columns in all take rec_bytes(rows, entries, F) bytes. */
static int64_t rec_bytes(int64_t rows, int64_t entries, int64_t F) {
  return rows * (int64_t)(2 * sizeof(int64_t) + 2 * sizeof(int32_t) + (size_t)F * sizeof(float)) +
         entries * (int64_t)sizeof(int64_t);
}

/* Pack the block's rows for their owners (freeing its columns and features once packed) and
 * move them with one Alltoallv; *rbuf (caller frees) receives *rbytes bytes of records. */
static er_err dg_send_rows(MPI_Comm comm, er_dblock *b, int64_t F, char **rbuf, int64_t *rbytes) {
  er_err err = ER_OK;
  int size;
  int *scnt = NULL, *rcnt = NULL, *sdsp = NULL, *rdsp = NULL;
  char *sbuf = NULL;
  int64_t *bytes = NULL, sbytes = 0, total = 0;
  MPI_Comm_size(comm, &size);
  *rbuf = NULL;
  SEND_PLAN(ER_BUF_ALLOC)
  for (int64_t i = 0; i < b->n; ++i)
    bytes[b->owner[i]] += rec_bytes(1, b->indptr[i + 1] - b->indptr[i], F);
  for (int p = 0; p < size; ++p) {
    ER_CHECK(bytes[p] <= INT32_MAX, ER_ERR_INPUT, "a rank would send over 2 GiB of rows to one "
             "owner; run with more ranks");
    scnt[p] = (int)bytes[p];
    sdsp[p] = (int)sbytes;
    sbytes += bytes[p];
    ER_CHECK(sbytes <= INT32_MAX, ER_ERR_INPUT, "row block over 2 GiB; run with more ranks");
  }
  const int64_t sent = rec_bytes(b->n, b->indptr[b->n] - b->indptr[0], F);
  ER_CHECK(sent == sbytes, ER_ERR_INTERNAL, "row records: %lld bytes, expected %lld",
           (long long)sbytes, (long long)sent);
  SEND_ROWS(ER_BUF_ALLOC)
  memset(bytes, 0, (size_t)size * sizeof *bytes); /* now: bytes filled per owner */
  const int64_t e0 = b->indptr[0];
  for (int64_t i = 0; i < b->n; ++i) {
    int p = b->owner[i];
    int64_t deg = b->indptr[i + 1] - b->indptr[i];
    char *q = sbuf + sdsp[p] + bytes[p];
    int64_t hdr[2] = {b->lo + i, deg};
    int32_t meta[2] = {b->labels[i], b->split[i]};
    memcpy(q, hdr, sizeof hdr);
    q += sizeof hdr;
    memcpy(q, meta, sizeof meta);
    q += sizeof meta;
    memcpy(q, b->cols + (b->indptr[i] - e0), (size_t)deg * sizeof(int64_t));
    q += (size_t)deg * sizeof(int64_t);
    if (F > 0) memcpy(q, b->x + i * F, (size_t)F * sizeof(float));
    bytes[p] += rec_bytes(1, deg, F);
  }
  ER_BUF_RELEASE(b->cols);
  ER_BUF_RELEASE(b->x);
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  for (int p = 0; p < size; ++p) {
    rdsp[p] = (int)(total <= INT32_MAX ? total : 0);
    total += rcnt[p];
  }
  ER_CHECK(total <= INT32_MAX, ER_ERR_INPUT, "a rank would receive over 2 GiB of rows; run with "
           "more ranks");
  const int64_t received = total;
  RECV_ROWS(ER_BUF_ALLOC)
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoallv(sbuf, scnt, sdsp, MPI_BYTE, *rbuf, rcnt, rdsp, MPI_BYTE, comm));
  *rbytes = total;
cleanup:
  err = ER_FINISH(comm);
  SEND_PLAN(ER_BUF_FREE)
  SEND_ROWS(ER_BUF_FREE)
  return err;
}

/* Unpack the received records into the owned rows: g->indptr, labels, split, x, *own_gid
 * (n_own) and *cols (global column ids). Rows arrive sorted by gid: the source blocks are
 * ascending in rank order. */
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
    off += (size_t)rec_bytes(1, hdr[1], F);
  }
  ER_CHECK(n_own > 0, ER_ERR_INPUT, "rank %d owns no nodes in partition %s", rank, g->partition);
  g->n_own = (er_lidx)n_own;
  OWNED_ROWS(ER_BUF_ALLOC)
  OWNED_COLS(ER_BUF_ALLOC)
  OWNED_GIDS(ER_BUF_ALLOC)
  g->indptr[0] = 0;
  size_t off = 0;
  for (int64_t r = 0; r < n_own; ++r) {
    int64_t hdr[2];
    int32_t meta[2];
    memcpy(hdr, rbuf + off, sizeof hdr);
    const char *q = rbuf + off + sizeof hdr;
    memcpy(meta, q, sizeof meta);
    q += sizeof meta;
    (*own_gid)[r] = hdr[0];
    g->labels[r] = meta[0];
    g->split[r] = (uint8_t)meta[1];
    memcpy(*cols + g->indptr[r], q, (size_t)hdr[1] * sizeof(int64_t));
    q += (size_t)hdr[1] * sizeof(int64_t);
    if (F > 0) memcpy(g->x + r * F, q, (size_t)F * sizeof(float));
    g->indptr[r + 1] = g->indptr[r] + hdr[1];
    off += (size_t)rec_bytes(1, hdr[1], F);
  }
cleanup:
  return ER_FINISH(comm);
}

//---- local numbering -----------------------------------------------------------------------

static int cmp_ghost(const void *a, const void *b) {
  const ghost_key *x = a, *y = b;
  if (x->owner != y->owner) return x->owner - y->owner;
  return (x->gid > y->gid) - (x->gid < y->gid);
}

/* Ghosts are the distinct columns this rank does not own, numbered n_own.. in (owner, gid)
 * order, their owners asked of the blocks (er_dblock_owners): fills g->gid (owned ids from
 * own_gid, then ghosts) and g->ghost_owner, and allocates g->indices with the local id of every
 * owned column (the others -1, for dg_local_columns). *by_gid (n_ghost) lists the ghost ids
 * ascending and (*local_of)[k] is the local id of by_gid[k]. */
static er_err dg_number_ghosts(MPI_Comm comm, const er_dblock *b, const int64_t *cols,
                               const int64_t *own_gid, er_dgraph *g, int64_t **by_gid,
                               er_lidx **local_of) {
  er_err err = ER_OK;
  int rank;
  ghost_key *keys = NULL;
  int32_t *owners = NULL;
  int64_t *ids = NULL, *scratch = NULL, n_own = g->n_own, nnz = g->indptr[n_own], n_off = 0,
          n_ghost = 0;
  MPI_Comm_rank(comm, &rank);
  LOCAL_COLUMNS(ER_BUF_ALLOC)
  SEARCH_OWN(ER_BUF_ALLOC)
  for (int64_t k = 0; k < nnz; ++k) g->indices[k] = -1;
  er_search_many_i64(own_gid, n_own, cols, nnz, NULL, g->indices, scratch);
  SEARCH_OWN(ER_BUF_FREE)
  for (int64_t k = 0; k < nnz; ++k) n_off += g->indices[k] < 0;
  GHOST_IDS(ER_BUF_ALLOC)
  n_off = 0;
  for (int64_t k = 0; k < nnz; ++k)
    if (g->indices[k] < 0) ids[n_off++] = cols[k];
  er_sort_i64(ids, n_off);
  for (int64_t k = 0; k < n_off; ++k)
    if (k == 0 || ids[k] != ids[k - 1]) ids[n_ghost++] = ids[k];
  ER_CHECK(n_own + n_ghost < INT32_MAX, ER_ERR_INPUT, "rank %d would hold %lld rows: more than "
           "the 32-bit local index allows; run with more ranks", rank,
           (long long)(n_own + n_ghost));
  GHOST_OWNERS(ER_BUF_ALLOC)
  ER_AGREE(comm);
  ER_CALL(er_dblock_owners(comm, b, ids, n_ghost, owners));
  g->n_ghost = (er_lidx)n_ghost;
  GHOST_KEYS(ER_BUF_ALLOC)
  GHOST_NUMBERS(ER_BUF_ALLOC)
  GHOST_LOCAL(ER_BUF_ALLOC)
  for (int64_t k = 0; k < n_ghost; ++k) keys[k] = (ghost_key){owners[k], ids[k]};
  qsort(keys, (size_t)n_ghost, sizeof *keys, cmp_ghost);
  memcpy(g->gid, own_gid, (size_t)n_own * sizeof(int64_t));
  for (int64_t k = 0; k < n_ghost; ++k) {
    g->gid[n_own + k] = keys[k].gid;
    g->ghost_owner[k] = keys[k].owner;
    (*local_of)[er_search_i64(ids, n_ghost, keys[k].gid)] = (er_lidx)(n_own + k);
  }
  *by_gid = ids;
  ids = NULL;
cleanup:
  err = ER_FINISH(comm);
  SEARCH_OWN(ER_BUF_FREE)
  GHOST_IDS(ER_BUF_FREE)
  GHOST_OWNERS(ER_BUF_FREE)
  GHOST_KEYS(ER_BUF_FREE)
  return err;
}

static int cmp_lidx(const void *a, const void *b) {
  er_lidx x = *(const er_lidx *)a, y = *(const er_lidx *)b;
  return (x > y) - (x < y);
}

/* Sort every row's columns ascending and fill g->row_order: rows that touch no ghost first
 * (g->n_interior of them), then the boundary rows, both ascending. */
static void dg_row_order(er_dgraph *g) {
  const int64_t n_own = g->n_own;
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
}

/* g->indices: the local id of every column (the ghosts' filled in here), ascending per row;
 * g->row_order (dg_row_order). */
static er_err dg_local_columns(const int64_t *cols, const int64_t *ghost_by_gid,
                               const er_lidx *ghost_local, er_dgraph *g) {
  er_err err = ER_OK;
  int64_t *scratch = NULL;
  const int64_t n_own = g->n_own, nnz = g->indptr[n_own], n_ghost = g->n_ghost;
  SEARCH_GHOSTS(ER_BUF_ALLOC)
  er_search_many_i64(ghost_by_gid, n_ghost, cols, nnz, ghost_local, g->indices, scratch);
  dg_row_order(g);
cleanup:
  SEARCH_GHOSTS(ER_BUF_FREE)
  return err;
}

//---- driver ----------------------------------------------------------------------------------

er_err er_dgraph_create(MPI_Comm comm, hid_t fid, er_part_choice part, int load_features,
                        er_dgraph **out) {
  er_err err = ER_OK;
  int rank, size;
  hid_t pfid = -1;
  er_dgraph *g = NULL;
  er_meta meta;
  er_dblock blk = {0};
  char *rbuf = NULL, pname[64];
  int64_t rbytes = 0, *own_gid = NULL, *cols = NULL, *ghost_by_gid = NULL;
  er_lidx *ghost_local = NULL;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;
  const double t0 = er_wtime();

  ER_CALL(er_dataset_meta(comm, fid, &meta));
  ER_CALLOC(g, 1);
  g->comm = comm;
  g->n_global = meta.num_nodes;
  g->e_global = meta.num_edges;
  g->K = (int)meta.num_classes;
  g->F = load_features ? meta.num_features : 0;
  const int64_t n = meta.num_nodes;
  ER_CALL(dg_resolve_partition(fid, part, size, n, &pfid, pname, sizeof pname));
  snprintf(g->partition, sizeof g->partition, "%.40s",
           pfid < 0 ? "block" : pname + strlen(ER_DS_PARTITIONS "/"));
  ER_AGREE(comm);

  ER_CALL(er_dblock_read(comm, fid, &meta, pfid, pfid < 0 ? NULL : pname, load_features, &blk));
  er_partition_release(fid, &pfid);
  g->check_s = blk.check_s;
  g->digest_s = blk.digest_s;
  g->graph_sum = blk.graph_sum;
  ER_CALL(dg_send_rows(comm, &blk, g->F, &rbuf, &rbytes));
  ER_CALL(dg_unpack_rows(comm, rbuf, rbytes, g, &own_gid, &cols));
  ER_BUF_RELEASE(rbuf);
  ER_CALL(dg_number_ghosts(comm, &blk, cols, own_gid, g, &ghost_by_gid, &ghost_local));
  er_dblock_free(&blk);
  ER_BUF_RELEASE(own_gid);
  ER_CALL(dg_local_columns(cols, ghost_by_gid, ghost_local, g));
  ER_AGREE(comm);
  ER_CALL(er_halo_create(comm, g->n_own, g->gid, g->n_ghost, g->gid + g->n_own, g->ghost_owner,
                         &g->halo));
  g->load_s = er_wtime() - t0;
  *out = g;
  g = NULL;
cleanup:
  err = ER_FINISH(comm);
  er_partition_release(fid, &pfid);
  er_dblock_free(&blk);
  ER_BUF_RELEASE(rbuf);
  ER_BUF_RELEASE(own_gid);
  ER_BUF_RELEASE(cols);
  ER_BUF_RELEASE(ghost_by_gid);
  ER_BUF_RELEASE(ghost_local);
  er_dgraph_destroy(&g);
  if (err != ER_OK && *out) er_dgraph_destroy(out);
  return err;
}

void er_dgraph_destroy(er_dgraph **pg) {
  if (!pg || !*pg) return;
  er_dgraph *g = *pg;
  OWNED_ROWS(ER_BUF_FREE)
  GHOST_NUMBERS(ER_BUF_FREE)
  LOCAL_COLUMNS(ER_BUF_FREE)
  er_halo_destroy(&g->halo);
  free(g);
  *pg = NULL;
}

//---- local order (er_dgraph_reorder) -----------------------------------------------------------

typedef struct {
  int owner;
  er_lidx first; /* the first owned row, in the new order, that references the ghost */
  int64_t gid;
  er_lidx old;   /* its local id before */
} ghost_ref;

/* er_dgraph_reorder's scratch, all freed before it returns: the owned rows' new order and every
 * local row's new id, the ghosts' sort keys and new order, a done flag per row and one row
 * (rb bytes, the widest per-row array) while rows move, the renumbered CSR before it replaces
 * g's */
#define REORDER_SCRATCH(X)                                                                   \
  X(order, n_own, er_lidx, 0)                                                                \
  X(where, n_own + n_ghost, er_lidx, 0)                                                      \
  X(refs, n_ghost, ghost_ref, ER_BUF_OPT)                                                    \
  X(gorder, n_ghost, er_lidx, ER_BUF_OPT)                                                    \
  X(done, n_own + n_ghost, uint8_t, ER_BUF_ZERO)                                             \
  X(tmp, rb, char, 0)
#define REORDER_CSR(X)                                                                       \
  X(nptr, n_own + 1, int64_t, 0)                                                             \
  X(ncol, nnz, er_lidx, 0)

/* tmp's bytes: the widest per-row array that moves (the features, or an int64 gid) */
static size_t reorder_row_bytes(int64_t F) { return (size_t)(F > 2 ? F : 2) * sizeof(float); }

static int cmp_ghost_ref(const void *a, const void *b) {
  const ghost_ref *x = a, *y = b;
  if (x->owner != y->owner) return x->owner - y->owner;
  if (x->first != y->first) return (x->first > y->first) - (x->first < y->first);
  return (x->gid > y->gid) - (x->gid < y->gid);
}

/* Rows of a (n rows of rb bytes) in place: new row k = old row order[k], one cycle of the
 * permutation at a time through tmp; done (n) is zero on entry and on return. */
static void permute_rows(void *a, size_t rb, const er_lidx *order, er_lidx n, uint8_t *done,
                         char *tmp) {
  char *rows = a;
  for (er_lidx s = 0; s < n; ++s) {
    if (done[s]) continue;
    memcpy(tmp, rows + rb * (size_t)s, rb);
    for (er_lidx k = s;;) {
      done[k] = 1;
      const er_lidx src = order[k];
      if (src == s) {
        memcpy(rows + rb * (size_t)k, tmp, rb);
        break;
      }
      memcpy(rows + rb * (size_t)k, rows + rb * (size_t)src, rb);
      k = src;
    }
  }
  memset(done, 0, (size_t)n);
}

er_err er_dgraph_reorder(er_dgraph *g, er_order_kind kind) {
  er_err err = ER_OK;
  er_lidx *order = NULL, *where = NULL, *gorder = NULL, *ncol = NULL;
  ghost_ref *refs = NULL;
  uint8_t *done = NULL;
  char *tmp = NULL;
  int64_t *nptr = NULL;
  if (kind == ER_ORDER_NONE) return ER_OK;
  ER_CHECK(kind == ER_ORDER_RCM, ER_ERR_INTERNAL, "unknown row order %d", (int)kind);
  const double t0 = er_wtime();
  const int64_t n_own = g->n_own, n_ghost = g->n_ghost, nnz = g->indptr[n_own];
  const size_t rb = reorder_row_bytes(g->F);
  REORDER_SCRATCH(ER_BUF_ALLOC)
  REORDER_CSR(ER_BUF_ALLOC)
  //---- the new numbering: owned rows by RCM, ghosts by (owner, first reference, gid) ----
  ER_CALL(er_order_rcm(g->n_own, g->indptr, g->indices, g->gid, order));
  for (er_lidx k = 0; k < n_own; ++k) where[order[k]] = k;
  for (int64_t j = 0; j < n_ghost; ++j)
    refs[j] = (ghost_ref){g->ghost_owner[j], -1, g->gid[n_own + j], (er_lidx)(n_own + j)};
  for (er_lidx k = 0; k < n_own; ++k)
    for (int64_t e = g->indptr[order[k]]; e < g->indptr[order[k] + 1]; ++e)
      if (g->indices[e] >= n_own && refs[g->indices[e] - n_own].first < 0)
        refs[g->indices[e] - n_own].first = k;
  if (n_ghost > 0) qsort(refs, (size_t)n_ghost, sizeof *refs, cmp_ghost_ref);
  for (int64_t j = 0; j < n_ghost; ++j) {
    where[refs[j].old] = (er_lidx)(n_own + j);
    gorder[j] = (er_lidx)(refs[j].old - n_own);
  }
  //---- the CSR renumbered (columns ascending again in dg_row_order) ----
  nptr[0] = 0;
  for (er_lidx k = 0; k < n_own; ++k) {
    const int64_t b = g->indptr[order[k]], e = g->indptr[order[k] + 1];
    for (int64_t q = b; q < e; ++q) ncol[nptr[k] + q - b] = where[g->indices[q]];
    nptr[k + 1] = nptr[k] + (e - b);
  }
  ER_BUF_RELEASE(g->indptr);
  ER_BUF_RELEASE(g->indices);
  g->indptr = nptr;
  g->indices = ncol;
  nptr = NULL;
  ncol = NULL;
  dg_row_order(g);
  //---- every per-row array follows ----
  permute_rows(g->gid, sizeof *g->gid, order, g->n_own, done, tmp);
  permute_rows(g->gid + n_own, sizeof *g->gid, gorder, g->n_ghost, done, tmp);
  permute_rows(g->ghost_owner, sizeof *g->ghost_owner, gorder, g->n_ghost, done, tmp);
  permute_rows(g->labels, sizeof *g->labels, order, g->n_own, done, tmp);
  permute_rows(g->split, sizeof *g->split, order, g->n_own, done, tmp);
  if (g->x) permute_rows(g->x, (size_t)g->F * sizeof(float), order, g->n_own, done, tmp);
  g->order = kind;
  REORDER_SCRATCH(ER_BUF_FREE)
  //---- the halo plan on the new numbering ----
  er_halo_destroy(&g->halo);
  ER_AGREE(g->comm);
  ER_CALL(er_halo_create(g->comm, g->n_own, g->gid, g->n_ghost, g->gid + g->n_own,
                         g->ghost_owner, &g->halo));
  g->order_s = er_wtime() - t0;
cleanup:
  err = ER_FINISH(g->comm);
  REORDER_SCRATCH(ER_BUF_FREE)
  REORDER_CSR(ER_BUF_FREE)
  return err;
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
  PLAN(ER_BUF_FREE)
  PLAN_RECV(ER_BUF_FREE)
}

static er_err block_plan_make(const er_dgraph *g, block_plan *p) {
  er_err err = ER_OK;
  int size, *fill = NULL;
  int64_t *sgid = NULL;
  const int64_t n_own = g->n_own;
  MPI_Comm_size(g->comm, &size);
  memset(p, 0, sizeof *p);
  PLAN(ER_BUF_ALLOC)
  PLAN_SEND(ER_BUF_ALLOC)
  for (er_lidx i = 0; i < g->n_own; ++i) p->scnt[er_block_owner(g->n_global, size, g->gid[i])]++;
  for (int r = 1; r < size; ++r) p->sdsp[r] = p->sdsp[r - 1] + p->scnt[r - 1];
  for (er_lidx i = 0; i < g->n_own; ++i) {
    int r = er_block_owner(g->n_global, size, g->gid[i]);
    p->order[p->sdsp[r] + fill[r]] = i;
    sgid[p->sdsp[r] + fill[r]++] = g->gid[i];
  }
  ER_AGREE(g->comm);
  ER_CALL_MPI(MPI_Alltoall(p->scnt, 1, MPI_INT, p->rcnt, 1, MPI_INT, g->comm));
  for (int r = 0; r < size; ++r) {
    p->rdsp[r] = (int)p->nrecv;
    p->nrecv += p->rcnt[r];
  }
  const int64_t nrecv = p->nrecv;
  PLAN_RECV(ER_BUF_ALLOC)
  ER_AGREE(g->comm);
  ER_CALL_MPI(MPI_Alltoallv(sgid, p->scnt, p->sdsp, MPI_INT64_T, p->rgid, p->rcnt, p->rdsp,
                            MPI_INT64_T, g->comm));
cleanup:
  PLAN_SEND(ER_BUF_FREE)
  return ER_FINISH(g->comm);
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
  const int64_t nown = g->n_own, nblk = plan.nrecv, n_own = nown, nrecv = nblk;
  MOVE(ER_BUF_ALLOC)
  if (to_block)
    for (int64_t k = 0; k < nown; ++k) memcpy(sbuf + rb * k, in + rb * plan.order[k], rb);
  else
    for (int64_t k = 0; k < nblk; ++k) memcpy(sbuf + rb * k, in + rb * (plan.rgid[k] - lo), rb);
  ER_CALL_MPI(MPI_Type_contiguous(ncols, t, &row));
  ER_CALL_MPI(MPI_Type_commit(&row));
  ER_AGREE(g->comm);
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
  err = ER_FINISH(g->comm);
  if (row != MPI_DATATYPE_NULL) MPI_Type_free(&row);
  block_plan_free(&plan);
  MOVE(ER_BUF_FREE)
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

//---- memory model (erase/mem.h) -----------------------------------------------------------------

double er_dgraph_bytes(const er_mem_counts *c, int features) {
  const int64_t n_own = c->n, n_ghost = c->g, nnz = c->e, F = features ? c->F : 0;
  return 0 OWNED_ROWS(ER_BUF_BYTES) GHOST_NUMBERS(ER_BUF_BYTES) LOCAL_COLUMNS(ER_BUF_BYTES) +
         er_halo_bytes(c);
}

double er_dgraph_reorder_bytes(const er_mem_counts *c) {
  const int64_t n_own = c->n, n_ghost = c->g, nnz = c->e;
  const size_t rb = reorder_row_bytes(c->F);
  return 0 REORDER_SCRATCH(ER_BUF_BYTES) REORDER_CSR(ER_BUF_BYTES) + er_order_rcm_bytes(n_own);
}

double er_dgraph_create_peak(const er_mem_counts *c, int features) {
  const int64_t size = c->P, n_own = c->n, n_ghost = c->g, nnz = c->e, n_off = c->cut;
  const int64_t F = features ? c->F : 0;
  const int64_t sent = rec_bytes(c->b, c->be, F), received = rec_bytes(n_own, nnz, F);
  const double blk = er_dblock_bytes(c, F, 1), blk_rows = er_dblock_bytes(c, 0, 0);
  const double plan = 0 SEND_PLAN(ER_BUF_BYTES), out = 0 SEND_ROWS(ER_BUF_BYTES);
  const double in = 0 RECV_ROWS(ER_BUF_BYTES), rows = 0 OWNED_ROWS(ER_BUF_BYTES);
  const double cols = 0 OWNED_COLS(ER_BUF_BYTES), gids = 0 OWNED_GIDS(ER_BUF_BYTES);
  const double ids = 0 GHOST_IDS(ER_BUF_BYTES), owners = 0 GHOST_OWNERS(ER_BUF_BYTES);
  const double keys = 0 GHOST_KEYS(ER_BUF_BYTES), local = 0 GHOST_LOCAL(ER_BUF_BYTES);
  const double numbers = 0 GHOST_NUMBERS(ER_BUF_BYTES), lcols = 0 LOCAL_COLUMNS(ER_BUF_BYTES);
  const double s_own = 0 SEARCH_OWN(ER_BUF_BYTES), s_ghosts = 0 SEARCH_GHOSTS(ER_BUF_BYTES);
  /* what is live at each step of er_dgraph_create, in order (the owners' questions: one per
   * ghost, and as many answered on average) */
  const double step[] = {
      blk + er_dblock_read_extra(c),                                      /* read the block */
      blk + plan + out,                                                   /* pack its rows */
      blk_rows + plan + out + in,                                         /* exchange them */
      blk_rows + in + rows + cols + gids,                                 /* unpack */
      blk_rows + rows + cols + gids + lcols + s_own,                      /* owned columns */
      blk_rows + rows + cols + gids + lcols + ids + owners +
          er_dblock_owners_bytes(c, n_ghost, n_ghost),                    /* ask ghost owners */
      blk_rows + rows + cols + gids + lcols + ids + owners + keys + numbers +
          local,                                                          /* number ghosts */
      rows + cols + ids + local + numbers + lcols + s_ghosts,             /* ghost columns */
      rows + cols + ids + local + numbers + lcols + er_halo_bytes(c) +
          er_halo_create_extra(c),                                        /* the halo plan */
  };
  double most = 0;
  for (size_t k = 0; k < sizeof step / sizeof step[0]; ++k)
    if (step[k] > most) most = step[k];
  return most;
}

double er_dgraph_block_move_bytes(const er_mem_counts *c, double rb) {
  const int64_t size = c->P, n_own = c->n, nrecv = c->b;
  const int to_block = 1; /* either direction moves the same two buffers */
  double make = 0 PLAN(ER_BUF_BYTES) PLAN_SEND(ER_BUF_BYTES) PLAN_RECV(ER_BUF_BYTES);
  double move = 0 PLAN(ER_BUF_BYTES) PLAN_RECV(ER_BUF_BYTES) MOVE(ER_BUF_BYTES);
  return make > move ? make : move;
}
