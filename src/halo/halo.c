/* halo.c: halo plan (built once by explicit request exchange, no symmetry assumed) and
 * split-phase forward (owner -> ghost copy) / reverse (ghost -> owner sum) exchanges.
 * It does not know what the columns mean; callers compute interior rows between begin/end. */
#include "erase/halo.h"

#include <stdlib.h>
#include <string.h>

#include "erase/bf16.h"
#include "erase/sort.h"

enum { HALO_IDLE = 0, HALO_FORWARD = 1, HALO_REVERSE = 2 }; /* the exchange in flight */

struct er_halo {
  MPI_Comm comm;
  er_lidx n_own, n_ghost;
  /* receive side of forward (= send side of reverse): ghosts grouped by owner */
  int n_recv;          /* neighbour ranks we hold ghosts of */
  int *recv_rank;      /* (n_recv) */
  er_lidx *recv_off;   /* (n_recv + 1) offsets into the ghost range */
  /* send side of forward (= receive side of reverse) */
  int n_send;          /* neighbour ranks holding ghosts of our rows */
  int *send_rank;      /* (n_send) */
  er_lidx *send_off;   /* (n_send + 1) offsets into send_idx */
  er_lidx *send_idx;   /* (send_off[n_send]) local owned rows to send, per neighbour */
  /* a rows plan (er_halo_create_rows, rows = 1): ghost k arrives in row recv_row[k] of x, and
   * both sides send and receive in place through derived datatypes over displ */
  int rows;
  er_lidx *recv_row;   /* (n_ghost) */
  MPI_Aint *displ;     /* (max(n_ghost, rows sent)) byte offsets, rebuilt by each exchange */
  /* exchange state */
  char *buf;           /* packing buffer, grown to the widest exchange seen */
  size_t buf_cap;
  MPI_Request *reqs;   /* (n_recv + n_send) */
  int active;          /* HALO_IDLE, HALO_FORWARD or HALO_REVERSE */
  void *x;
  int ncols;
  MPI_Datatype type;
  er_err err;          /* a failure of the exchange in flight, reported by *_end */
  double bytes_sent, wait_s;
};

/* An MPI call of an exchange: a failure is recorded and the exchange goes on, so that every
 * message is posted and no peer waits for one that never comes (docs/ERRORS.md). */
#define HALO_MPI(h, call) ER_MPI_KEEP((h)->err, call)

enum { TAG_PLAN = 7101, TAG_FWD = 7102, TAG_REV = 7103 };

/* Buffer tables (erase/mem.h): (lvalue, elements, type, flags). size ranks; n_recv and n_send
 * neighbours; n_req rows sent per exchange (and asked for at setup); row bytes of the widest
 * exchange (the packing buffer grows to it). */
#define HALO_COUNTS(X)                                                                       \
  X(cnt_recv, size, int, ER_BUF_ZERO)                                                        \
  X(cnt_send, size, int, ER_BUF_ZERO)
#define HALO_NEIGHBOURS(X)                                                                   \
  X(h->recv_rank, n_recv, int, 0)                                                            \
  X(h->recv_off, n_recv + 1, er_lidx, 0)                                                     \
  X(h->send_rank, n_send, int, 0)                                                            \
  X(h->send_off, n_send + 1, er_lidx, 0)
#define HALO_SENDS(X)                                                                        \
  X(h->send_idx, n_req, er_lidx, 0)                                                          \
  X(h->reqs, n_recv + n_send, MPI_Request, 0)                                                \
  X(h->buf, n_req * row, char, ER_BUF_LAZY)
/* a rows plan's own arrays (rows = 1; none otherwise) */
#define HALO_ROWS(X)                                                                         \
  X(h->recv_row, rows * n_ghost, er_lidx, ER_BUF_OPT)                                        \
  X(h->displ, rows * (n_ghost > n_req ? n_ghost : n_req), MPI_Aint, ER_BUF_OPT)
#define HALO_REQUESTS(X)                                                                     \
  X(req_gid, n_req, int64_t, 0)                                                              \
  X(reqs, n_recv + n_send, MPI_Request, 0)
/* owned rows not in ascending gid order (graph.h er_dgraph_reorder): (gid, row) sorted to look
 * requests up; none otherwise. Not in the model: a reordered graph's setup scratch. */
#define HALO_LOOKUP(X) X(by_gid, n_lookup, halo_own, ER_BUF_OPT)

typedef struct {
  int64_t gid;
  er_lidx row;
} halo_own;

static int cmp_halo_own(const void *a, const void *b) {
  const halo_own *x = a, *y = b;
  return (x->gid > y->gid) - (x->gid < y->gid);
}

/* The owned row whose global id is gid, or -1: a binary search in own_gid when it is ascending
 * (by_gid NULL), else in by_gid. */
static int64_t halo_find(const int64_t *own_gid, const halo_own *by_gid, er_lidx n_own,
                         int64_t gid) {
  if (!by_gid) return er_search_i64(own_gid, n_own, gid);
  int64_t lo = 0, hi = n_own;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (by_gid[mid].gid < gid) lo = mid + 1;
    else hi = mid;
  }
  return lo < n_own && by_gid[lo].gid == gid ? by_gid[lo].row : -1;
}

static er_err halo_create(MPI_Comm comm, er_lidx n_own, const int64_t *own_gid, er_lidx n_ghost,
                          const int64_t *ghost_gid, const int *ghost_owner,
                          const er_lidx *ghost_row, er_halo **halo) {
  er_err err = ER_OK;
  int size, rank;
  er_halo *h = NULL;
  int *cnt_recv = NULL, *cnt_send = NULL;
  int64_t *req_gid = NULL;
  MPI_Request *reqs = NULL;
  halo_own *by_gid = NULL;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  *halo = NULL;
  ER_CALLOC(h, 1);
  h->comm = comm;
  h->n_own = n_own;
  h->n_ghost = n_ghost;
  HALO_COUNTS(ER_BUF_ALLOC)
  for (er_lidx i = 0; i < n_ghost && err == ER_OK; ++i) {
    int o = ghost_owner[i];
    if (o < 0 || o >= size || o == rank)
      err = ER_ERROR(ER_ERR_INTERNAL, "ghost %lld has owner %d", (long long)ghost_gid[i], o);
    else if (i > 0 && ghost_owner[i - 1] > o)
      err = ER_ERROR(ER_ERR_INTERNAL, "ghosts not grouped by ascending owner");
    else
      cnt_recv[o]++;
  }
  ER_CALL(er_agree(comm, err)); /* all ranks reach the Alltoall below or none does */
  /* ---- how many rows each neighbour will ask of us ---- */
  ER_CALL_MPI(MPI_Alltoall(cnt_recv, 1, MPI_INT, cnt_send, 1, MPI_INT, comm));
  for (int p = 0; p < size; ++p) {
    h->n_recv += cnt_recv[p] > 0;
    h->n_send += cnt_send[p] > 0;
  }
  const int64_t n_recv = h->n_recv, n_send = h->n_send;
  HALO_NEIGHBOURS(ER_BUF_ALLOC)
  h->recv_off[0] = h->send_off[0] = 0;
  for (int p = 0, a = 0, b = 0; p < size; ++p) {
    if (cnt_recv[p]) {
      h->recv_rank[a] = p;
      h->recv_off[a + 1] = h->recv_off[a] + cnt_recv[p];
      a++;
    }
    if (cnt_send[p]) {
      h->send_rank[b] = p;
      h->send_off[b + 1] = h->send_off[b] + cnt_send[p];
      b++;
    }
  }
  /* ---- explicit requests: ghost gids go to their owners ---- */
  er_lidx n_req = h->send_off[h->n_send];
  const int64_t row = 0; /* the packing buffer grows with the exchanges (halo_reserve) */
  const int64_t rows = h->rows = ghost_row != NULL;
  HALO_SENDS(ER_BUF_ALLOC)
  HALO_ROWS(ER_BUF_ALLOC)
  HALO_REQUESTS(ER_BUF_ALLOC)
  if (rows && n_ghost > 0) memcpy(h->recv_row, ghost_row, (size_t)n_ghost * sizeof *ghost_row);
  ER_AGREE(comm);
  /* every message is posted even after a failure (recorded in h->err), then waited for */
  for (int k = 0; k < h->n_recv + h->n_send; ++k) reqs[k] = MPI_REQUEST_NULL;
  for (int b = 0; b < h->n_send; ++b)
    HALO_MPI(h, MPI_Irecv(req_gid + h->send_off[b], h->send_off[b + 1] - h->send_off[b],
                          MPI_INT64_T, h->send_rank[b], TAG_PLAN, comm, &reqs[b]));
  for (int a = 0; a < h->n_recv; ++a)
    HALO_MPI(h, MPI_Isend(ghost_gid + h->recv_off[a], h->recv_off[a + 1] - h->recv_off[a],
                          MPI_INT64_T, h->recv_rank[a], TAG_PLAN, comm, &reqs[h->n_send + a]));
  HALO_MPI(h, MPI_Waitall(h->n_recv + h->n_send, reqs, MPI_STATUSES_IGNORE));
  err = h->err;
  h->err = ER_OK;
  int64_t n_lookup = 0;
  for (er_lidx i = 1; i < n_own && n_lookup == 0; ++i)
    if (own_gid[i - 1] >= own_gid[i]) n_lookup = n_own;
  HALO_LOOKUP(ER_BUF_ALLOC)
  for (int64_t i = 0; i < n_lookup; ++i) by_gid[i] = (halo_own){own_gid[i], (er_lidx)i};
  if (n_lookup > 0) qsort(by_gid, (size_t)n_lookup, sizeof *by_gid, cmp_halo_own);
  ER_AGREE(comm);
  for (er_lidx k = 0; k < n_req; ++k) {
    int64_t r = halo_find(own_gid, by_gid, n_own, req_gid[k]);
    if (r < 0) {
      err = ER_ERROR(ER_ERR_INTERNAL, "halo request for node %lld not owned by rank %d",
                     (long long)req_gid[k], rank);
      break;
    }
    h->send_idx[k] = (er_lidx)r;
  }
  ER_AGREE(comm);
  *halo = h;
  h = NULL;
cleanup:
  err = ER_FINISH(comm);
  HALO_COUNTS(ER_BUF_FREE)
  HALO_REQUESTS(ER_BUF_FREE)
  HALO_LOOKUP(ER_BUF_FREE)
  er_halo_destroy(&h);
  return err;
}

er_err er_halo_create(MPI_Comm comm, er_lidx n_own, const int64_t *own_gid, er_lidx n_ghost,
                      const int64_t *ghost_gid, const int *ghost_owner, er_halo **halo) {
  return halo_create(comm, n_own, own_gid, n_ghost, ghost_gid, ghost_owner, NULL, halo);
}

er_err er_halo_create_rows(MPI_Comm comm, er_lidx n_own, const int64_t *own_gid,
                           er_lidx n_ghost, const int64_t *ghost_gid, const int *ghost_owner,
                           const er_lidx *ghost_row, er_halo **halo) {
  return halo_create(comm, n_own, own_gid, n_ghost, ghost_gid, ghost_owner, ghost_row, halo);
}

void er_halo_destroy(er_halo **halo) {
  if (!halo || !*halo) return;
  er_halo *h = *halo;
  HALO_NEIGHBOURS(ER_BUF_FREE)
  HALO_SENDS(ER_BUF_FREE)
  HALO_ROWS(ER_BUF_FREE)
  free(h);
  *halo = NULL;
}

static er_err halo_reserve(er_halo *h, size_t bytes) {
  er_err err = ER_OK;
  if (bytes <= h->buf_cap) return ER_OK;
  char *nb = er_buf_grow(h->buf, bytes);
  ER_CHECK(nb, ER_ERR_MEM, "out of memory for a %zu-byte halo buffer", bytes);
  h->buf = nb;
  h->buf_cap = bytes;
cleanup:
  return err;
}

static size_t type_size(MPI_Datatype t) {
  int s;
  MPI_Type_size(t, &s);
  return (size_t)s;
}

/* One message of a rows plan: the rows idx[0..n) of x, in place, as one derived datatype (the
 * displacements in h->displ); after a failure to build it, an empty message (a receive of
 * nothing then fails on the peer's data, and the failure is agreed on at *_end). */
static void rows_message(er_halo *h, char *x, const er_lidx *idx, er_lidx n, size_t row,
                         MPI_Datatype rowtype, int peer, int recv, MPI_Request *req) {
  MPI_Datatype t = MPI_DATATYPE_NULL;
  int ok = h->err == ER_OK;
  for (er_lidx k = 0; ok && k < n; ++k) h->displ[k] = (MPI_Aint)idx[k] * (MPI_Aint)row;
  if (ok) HALO_MPI(h, MPI_Type_create_hindexed_block(n, 1, h->displ, rowtype, &t));
  if (ok && h->err == ER_OK) HALO_MPI(h, MPI_Type_commit(&t));
  ok = ok && h->err == ER_OK;
  if (recv)
    HALO_MPI(h, MPI_Irecv(ok ? x : NULL, ok, ok ? t : MPI_BYTE, peer, TAG_FWD, h->comm, req));
  else
    HALO_MPI(h, MPI_Isend(ok ? x : NULL, ok, ok ? t : MPI_BYTE, peer, TAG_FWD, h->comm, req));
  if (t != MPI_DATATYPE_NULL) MPI_Type_free(&t); /* kept by MPI until the message completes */
}

/* Begin of a rows plan's forward exchange: every row travels in place. */
static void rows_forward_begin(er_halo *h, char *x, int ncols, MPI_Datatype type, size_t row) {
  MPI_Datatype rowtype = MPI_DATATYPE_NULL;
  HALO_MPI(h, MPI_Type_contiguous(ncols, type, &rowtype));
  for (int a = 0; a < h->n_recv; ++a)
    rows_message(h, x, h->recv_row + h->recv_off[a], h->recv_off[a + 1] - h->recv_off[a], row,
                 rowtype, h->recv_rank[a], 1, &h->reqs[a]);
  for (int b = 0; b < h->n_send; ++b)
    rows_message(h, x, h->send_idx + h->send_off[b], h->send_off[b + 1] - h->send_off[b], row,
                 rowtype, h->send_rank[b], 0, &h->reqs[h->n_recv + b]);
  if (rowtype != MPI_DATATYPE_NULL) MPI_Type_free(&rowtype);
}

/* Begin posts every receive and send even after a failure (an unpacked send goes empty: the
 * peer's receive completes, and the failure is agreed on at *_end). */
er_err er_halo_forward_begin(er_halo *h, void *x, int ncols, MPI_Datatype type) {
  er_err err = ER_OK;
  double t0 = er_wtime();
  ER_CHECK(h->active == HALO_IDLE, ER_ERR_INTERNAL, "halo exchange already in flight");
  size_t es = type_size(type), row = es * (size_t)ncols;
  if (h->rows) {
    for (int k = 0; k < h->n_recv + h->n_send; ++k) h->reqs[k] = MPI_REQUEST_NULL;
    rows_forward_begin(h, x, ncols, type, row);
    h->bytes_sent += (double)row * h->send_off[h->n_send];
    h->active = HALO_FORWARD;
    goto cleanup;
  }
  h->err = halo_reserve(h, row * (size_t)h->send_off[h->n_send]);
  for (int k = 0; k < h->n_recv + h->n_send; ++k) h->reqs[k] = MPI_REQUEST_NULL;
  char *xb = x;
  for (int a = 0; a < h->n_recv; ++a)
    HALO_MPI(h, MPI_Irecv(xb + row * (size_t)(h->n_own + h->recv_off[a]),
                          (h->recv_off[a + 1] - h->recv_off[a]) * ncols, type, h->recv_rank[a],
                          TAG_FWD, h->comm, &h->reqs[a]));
  for (int b = 0; b < h->n_send; ++b) {
    int packed = h->err == ER_OK, count = (h->send_off[b + 1] - h->send_off[b]) * ncols;
    char *p = packed ? h->buf + row * (size_t)h->send_off[b] : NULL;
    for (er_lidx k = h->send_off[b]; packed && k < h->send_off[b + 1]; ++k, p += row)
      memcpy(p, xb + row * (size_t)h->send_idx[k], row);
    HALO_MPI(h, MPI_Isend(packed ? h->buf + row * (size_t)h->send_off[b] : NULL,
                          packed ? count : 0, type, h->send_rank[b], TAG_FWD, h->comm,
                          &h->reqs[h->n_recv + b]));
  }
  h->bytes_sent += (double)row * h->send_off[h->n_send];
  h->active = HALO_FORWARD;
cleanup:
  h->wait_s += er_wtime() - t0;
  return err;
}

/* End waits for everything posted and returns the verdict of all ranks on the exchange. */
er_err er_halo_forward_end(er_halo *h) {
  er_err err = ER_OK;
  double t0 = er_wtime();
  ER_CHECK(h->active == HALO_FORWARD, ER_ERR_INTERNAL, "no forward halo exchange in flight");
  HALO_MPI(h, MPI_Waitall(h->n_recv + h->n_send, h->reqs, MPI_STATUSES_IGNORE));
  h->active = HALO_IDLE;
  err = er_agree(h->comm, h->err);
  h->err = ER_OK;
  h->wait_s += er_wtime() - t0;
cleanup:
  return err;
}

/* Posts a reverse exchange: the ghost rows at gb (n_ghost rows of row bytes, ncols elements of
 * type each) go to their owners, whose rows of x the end sums them into. */
static er_err reverse_post(er_halo *h, const char *gb, void *x, int ncols, MPI_Datatype type) {
  er_err err = ER_OK;
  double t0 = er_wtime();
  ER_CHECK(h->active == HALO_IDLE, ER_ERR_INTERNAL, "halo exchange already in flight");
  ER_CHECK(!h->rows, ER_ERR_INTERNAL, "a rows halo plan runs forward exchanges only");
  size_t es = type_size(type), row = es * (size_t)ncols;
  h->err = halo_reserve(h, row * (size_t)h->send_off[h->n_send]);
  int have_buf = h->err == ER_OK;
  for (int k = 0; k < h->n_recv + h->n_send; ++k) h->reqs[k] = MPI_REQUEST_NULL;
  for (int b = 0; b < h->n_send; ++b) /* without a buffer: receive nothing, agreed at end */
    HALO_MPI(h, MPI_Irecv(have_buf ? h->buf + row * (size_t)h->send_off[b] : NULL,
                          have_buf ? (h->send_off[b + 1] - h->send_off[b]) * ncols : 0, type,
                          h->send_rank[b], TAG_REV, h->comm, &h->reqs[b]));
  for (int a = 0; a < h->n_recv; ++a)
    HALO_MPI(h, MPI_Isend(gb + row * (size_t)h->recv_off[a],
                          (h->recv_off[a + 1] - h->recv_off[a]) * ncols, type, h->recv_rank[a],
                          TAG_REV, h->comm, &h->reqs[h->n_send + a]));
  h->bytes_sent += (double)row * h->n_ghost;
  h->active = HALO_REVERSE;
  h->x = x;
  h->ncols = ncols;
  h->type = type;
cleanup:
  h->wait_s += er_wtime() - t0;
  return err;
}

er_err er_halo_reverse_begin(er_halo *h, void *x, int ncols, MPI_Datatype type) {
  er_err err = ER_OK;
  ER_CHECK(type == MPI_FLOAT || type == MPI_DOUBLE, ER_ERR_INTERNAL,
           "reverse halo sums only float or double");
  ER_CALL(reverse_post(h, (const char *)x + type_size(type) * (size_t)ncols * (size_t)h->n_own, x,
                       ncols, type));
cleanup:
  return err;
}

er_err er_halo_reverse_begin_bf16(er_halo *h, const er_bf16 *ghost, float *x, int ncols) {
  return reverse_post(h, (const char *)ghost, x, ncols, MPI_UINT16_T);
}

er_err er_halo_reverse_end(er_halo *h) {
  er_err err = ER_OK;
  double t0 = er_wtime();
  ER_CHECK(h->active == HALO_REVERSE, ER_ERR_INTERNAL, "no reverse halo exchange in flight");
  HALO_MPI(h, MPI_Waitall(h->n_recv + h->n_send, h->reqs, MPI_STATUSES_IGNORE));
  h->active = HALO_IDLE;
  err = er_agree(h->comm, h->err);
  h->wait_s += er_wtime() - t0;
  ER_CALL(err);
  /* sum contributions in a fixed order (neighbour rank order): deterministic */
  size_t nc = (size_t)h->ncols;
  er_lidx total = h->send_off[h->n_send];
  if (h->type == MPI_UINT16_T) {
    float *x = h->x;
    const er_bf16 *r = (const er_bf16 *)h->buf;
    for (er_lidx k = 0; k < total; ++k) {
      float *dst = x + nc * (size_t)h->send_idx[k];
      for (size_t c = 0; c < nc; ++c) dst[c] += er_bf16_to_f(r[nc * (size_t)k + c]);
    }
  } else if (h->type == MPI_FLOAT) {
    float *x = h->x;
    const float *r = (const float *)h->buf;
    for (er_lidx k = 0; k < total; ++k) {
      float *dst = x + nc * (size_t)h->send_idx[k];
      for (size_t c = 0; c < nc; ++c) dst[c] += r[nc * (size_t)k + c];
    }
  } else {
    double *x = h->x;
    const double *r = (const double *)h->buf;
    for (er_lidx k = 0; k < total; ++k) {
      double *dst = x + nc * (size_t)h->send_idx[k];
      for (size_t c = 0; c < nc; ++c) dst[c] += r[nc * (size_t)k + c];
    }
  }
cleanup:
  h->err = ER_OK;
  return err;
}

void er_halo_get_stats(const er_halo *h, er_halo_stats *s) {
  s->n_send_ranks = h->n_send;
  s->n_recv_ranks = h->n_recv;
  s->send_rows = h->send_off[h->n_send];
  s->recv_rows = h->n_ghost;
  s->bytes_sent = h->bytes_sent;
  s->wait_s = h->wait_s;
}

//---- memory model (erase/mem.h) -----------------------------------------------------------------

/* A rank is modelled with messages to and from every other rank (an upper bound). */
static double sends_bytes(const er_mem_counts *c, double row) {
  const int64_t n_recv = c->P - 1, n_send = c->P - 1, n_req = c->s;
  return 0 HALO_SENDS(ER_BUF_BYTES);
}

double er_halo_bytes(const er_mem_counts *c) {
  const int64_t n_recv = c->P - 1, n_send = c->P - 1;
  return 0 HALO_NEIGHBOURS(ER_BUF_BYTES) + sends_bytes(c, 0);
}

double er_halo_buffer_bytes(const er_mem_counts *c, double row) {
  return sends_bytes(c, row) - sends_bytes(c, 0);
}

double er_halo_create_extra(const er_mem_counts *c) {
  const int64_t size = c->P, n_recv = c->P - 1, n_send = c->P - 1, n_req = c->s;
  return 0 HALO_COUNTS(ER_BUF_BYTES) HALO_REQUESTS(ER_BUF_BYTES);
}
