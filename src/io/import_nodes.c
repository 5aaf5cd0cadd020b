/* import_nodes.c: import's node stages (import_private.h): features, labels and splits, read by
 * every rank from its share of each input and routed to the rank that owns their node block,
 * then written as that rank's rows. The checks and messages are the serial parser's; edges are
 * import_graph.c's. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erase/h5.h"
#include "erase/sort.h"
#include "import_private.h"

#define ROUND_BYTES ((int64_t)4 << 20) /* item bytes a rank parses before an exchange */
#define NPY_STEP ((int64_t)1 << 18)    /* .npy elements read at a time */

static const char *const split_names[3] = {"train", "val", "test"};

er_err imp_owners(const imp_ctx *c, const int64_t *idx, int64_t n, int64_t div, int **dest,
                  int64_t *cap) {
  if (n > *cap) {
    int64_t want = n > 2 * *cap ? n : 2 * *cap;
    int *d = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(*dest, (size_t)want * sizeof *d);
    if (!d) return ER_ERROR(ER_ERR_MEM, "out of memory for %lld destinations", (long long)want);
    *dest = d;
    *cap = want;
  }
  for (int64_t i = 0; i < n; ++i) (*dest)[i] = imp_owner(&c->owners, idx[i] / div);
  return ER_OK;
}

//------------------------------------------------------------------------------------------
// Passes: items produced on every rank, exchanged in rounds, taken by their owners
//------------------------------------------------------------------------------------------

typedef struct pass pass;
struct pass {
  imp_ctx *c;
  const char *path, *what;
  int file;           /* the input's number within its stage (the split), for error keys */
  const imp_head *h;
  er_item_kind kind;  /* text: what the parser indexes */
  imp_reader r;
  int reader_open;
  er_text_items items; /* produced, waiting for the next exchange */
  int64_t div;         /* an item's node is idx / div */
  int stopped;         /* this rank met an input error and produces nothing more */
  int done;            /* this rank's input is used up */
  int64_t next;        /* .npy producers: the next element of this rank's slice */
  int64_t end;
  int col_val, col_line; /* columns of the exchanged items (-1: absent); idx is column 0 */
  er_err (*parse)(pass *p, const er_text_chunk *ch, er_text_stop *stop);
  er_err (*produce)(pass *p);
  er_err (*take)(pass *p, const imp_cols *in, int64_t n);
  void *state;
};

static int64_t item_bytes(const er_text_items *it) {
  return it->n * (int64_t)(8 + it->val_size + (it->keep_line ? 8 : 0));
}

/* Text producer: pieces of this rank's lines, parsed until a round's worth of items. */
static er_err produce_text(pass *p) {
  er_err err = ER_OK;
  while (!p->done && item_bytes(&p->items) < ROUND_BYTES) {
    er_text_chunk ch;
    er_text_stop stop = {0, 0};
    int got = 0;
    err = imp_reader_next(&p->r, &ch, &got);
    if (err == ER_ERR_INPUT) { /* a broken gzip stream: an error at the line reached */
      p->done = p->stopped = 1;
      return imp_defer(&p->c->first, err, IMP_KEY(p->file, p->r.line, 0));
    }
    ER_CALL(err);
    if (!got) {
      p->done = 1;
      break;
    }
    err = p->parse(p, &ch, &stop);
    if (err == ER_ERR_INPUT) {
      p->done = p->stopped = 1;
      return imp_defer(&p->c->first, err, IMP_KEY(p->file, stop.line, stop.entry_kept ? 2 : 0));
    }
    ER_CALL(err);
  }
cleanup:
  return err;
}

/* The produced items from item `at` on, as the columns the exchange carries and take reads. */
static imp_cols pass_cols(const pass *p, int64_t at) {
  const er_text_items *it = &p->items;
  imp_cols v = {.ncol = 1, .size = {8}, .col = {it->idx + at}, .borrowed = 1};
  if (p->col_val > 0) {
    v.size[p->col_val] = it->val_size;
    v.col[p->col_val] = (char *)it->val + (size_t)at * it->val_size;
    v.ncol++;
  }
  if (p->col_line > 0) {
    v.size[p->col_line] = 8;
    v.col[p->col_line] = it->line + at;
    v.ncol++;
  }
  return v;
}

/* The produced items this rank owns are taken where they are, a run of them at a time; the
 * others move down over them, in order, and *left of them remain to travel (dest alike). At
 * P ranks a file ordered by node keeps almost every item on the rank that read it, which then
 * neither packs nor copies it. Local. */
static er_err pass_take_own(pass *p, int *dest, int64_t *left) {
  er_err err = ER_OK;
  er_text_items *it = &p->items;
  const int me = p->c->rank;
  const size_t vs = it->val_size;
  int64_t w = 0;
  for (int64_t i = 0; i < it->n;) {
    if (dest[i] != me) {
      if (w != i) {
        it->idx[w] = it->idx[i];
        if (vs) memcpy((char *)it->val + (size_t)w * vs, (char *)it->val + (size_t)i * vs, vs);
        if (it->keep_line) it->line[w] = it->line[i];
        dest[w] = dest[i];
      }
      ++w, ++i;
      continue;
    }
    int64_t j = i + 1;
    while (j < it->n && dest[j] == me) ++j;
    imp_cols run = pass_cols(p, i);
    ER_CALL(p->take(p, &run, j - i));
    i = j;
  }
cleanup:
  *left = w;
  return err;
}

/* Collective: produce, take this rank's own items, exchange and take the others' until every
 * rank is done; ends agreed. */
static er_err pass_run(pass *p) {
  er_err err = ER_OK;
  imp_ctx *c = p->c;
  int *dest = NULL;
  int64_t dcap = 0;
  imp_cols in = {0};
  if (p->h && p->h->kind == IMP_TEXT) {
    err = imp_reader_open(c->comm, &p->r, p->path, p->what, p->h, p->kind);
    p->reader_open = 1;
    ER_CALL(err);
  }
  for (int more_any = 1; more_any;) {
    int64_t nin = 0, left = 0;
    p->items.n = 0;
    err = p->produce(p);
    if (err == ER_OK) err = imp_owners(c, p->items.idx, p->items.n, p->div, &dest, &dcap);
    if (err == ER_OK) err = pass_take_own(p, dest, &left);
    ER_CALL(err); /* meets the exchange's first agreement on the other ranks */
    imp_cols out = pass_cols(p, 0);
    ER_CALL(imp_exchange(c->comm, &out, dest, left, !p->done, &in, &nin, &more_any));
    ER_CALL(p->take(p, &in, nin));
    imp_cols_free(&in);
  }
  ER_AGREE(c->comm);
cleanup:
  imp_cols_free(&in);
  free(dest);
  if (p->reader_open) imp_reader_close(&p->r);
  p->reader_open = 0;
  return ER_FINISH(c->comm);
}

/* A pass over the text input of head h ('what' for messages), items as it describes. */
static void pass_text(pass *p, imp_ctx *c, const char *path, const char *what, const imp_head *h,
                      er_item_kind kind, size_t val_size, int keep_line, int64_t div) {
  memset(p, 0, sizeof *p);
  p->c = c;
  p->path = path;
  p->what = what;
  p->h = h;
  p->kind = kind;
  p->r.fd = -1;
  p->div = div;
  p->produce = produce_text;
  er_text_items_init(&p->items, val_size, keep_line);
  p->col_val = val_size ? 1 : -1;
  p->col_line = keep_line ? (val_size ? 2 : 1) : -1;
}

/* Reads elements [first, first + count) of a .npy file into buf. Local. */
static er_err npy_pread(int fd, const char *path, const imp_head *h, int64_t first,
                        int64_t count, void *buf) {
  return imp_pread(fd, path, buf, (size_t)(count * h->npy.itemsize),
                   h->npy.data_off + first * h->npy.itemsize);
}

static er_err npy_open(const char *path, int *fd) {
  *fd = open(path, O_RDONLY);
  if (*fd < 0) return ER_ERROR(ER_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  return ER_OK;
}

//------------------------------------------------------------------------------------------
// Features
//------------------------------------------------------------------------------------------

typedef struct {
  float *x;       /* (nloc, F) this rank's rows */
  uint8_t *seen;  /* coordinate: cells set so far, one bit each */
  int64_t *coll;  /* coordinate: cells met more than once */
  int64_t ncoll, capcoll;
  int64_t *dup, ndup;    /* the second look: those cells, sorted, unique ... */
  int64_t *l1, *l2;      /* ... and the first two lines each appears on */
} feat_state;

static er_err parse_cells(pass *p, const er_text_chunk *ch, er_text_stop *stop) {
  return er_text_parse_mm_cells(ch, &p->h->mm, &p->items, stop);
}
static er_err parse_array(pass *p, const er_text_chunk *ch, er_text_stop *stop) {
  return er_text_parse_mm_array(ch, &p->h->mm, &p->items, stop);
}
static er_err parse_rows(pass *p, const er_text_chunk *ch, er_text_stop *stop) {
  return er_text_parse_csv_rows(ch, p->c->n, p->c->f, &p->items, stop);
}

static er_err take_cells(pass *p, const imp_cols *in, int64_t n) {
  feat_state *fs = p->state;
  const int64_t *cell = in->col[0], base = p->c->lo * p->c->f;
  const float *v = in->col[1];
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = cell[i] - base;
    if (fs->seen[k >> 3] & (1u << (k & 7))) {
      if (fs->ncoll == fs->capcoll) {
        int64_t cap = fs->capcoll ? 2 * fs->capcoll : 64;
        int64_t *g = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(fs->coll, (size_t)cap * 8);
        if (!g) return ER_ERROR(ER_ERR_MEM, "out of memory recording duplicate cells");
        fs->coll = g;
        fs->capcoll = cap;
      }
      fs->coll[fs->ncoll++] = cell[i];
    }
    fs->seen[k >> 3] |= (uint8_t)(1u << (k & 7));
    fs->x[k] = v[i];
  }
  return ER_OK;
}

/* The second look at a file with duplicate cells: the first two lines of each such cell. */
static er_err take_cell_lines(pass *p, const imp_cols *in, int64_t n) {
  feat_state *fs = p->state;
  const int64_t *cell = in->col[0], *line = in->col[2];
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = er_search_i64(fs->dup, fs->ndup, cell[i]);
    if (d < 0) continue;
    if (line[i] < fs->l1[d]) {
      fs->l2[d] = fs->l1[d];
      fs->l1[d] = line[i];
    } else if (line[i] < fs->l2[d]) {
      fs->l2[d] = line[i];
    }
  }
  return ER_OK;
}

static er_err take_values(pass *p, const imp_cols *in, int64_t n) {
  feat_state *fs = p->state;
  const int64_t *cell = in->col[0], base = p->c->lo * p->c->f;
  const float *v = in->col[1];
  for (int64_t i = 0; i < n; ++i) fs->x[cell[i] - base] = v[i];
  return ER_OK;
}

static er_err take_rows(pass *p, const imp_cols *in, int64_t n) {
  feat_state *fs = p->state;
  const int64_t *node = in->col[0], f = p->c->f;
  const float *v = in->col[1];
  for (int64_t i = 0; i < n; ++i)
    memcpy(fs->x + (node[i] - p->c->lo) * f, v + i * f, (size_t)f * sizeof *v);
  return ER_OK;
}

/* Duplicate cells were met: look again for the line a serial parse stops at (the smallest
 * second occurrence of any cell). Collective. */
static er_err features_duplicates(imp_ctx *c, const char *path, const imp_head *h,
                                  feat_state *fs) {
  er_err err = ER_OK;
  pass p;
  pass_text(&p, c, path, "features", h, ER_ITEM_MM_DATA, sizeof(float), 1, c->f);
  er_sort_i64(fs->coll, fs->ncoll);
  fs->ndup = 0;
  for (int64_t i = 0; i < fs->ncoll; ++i)
    if (!fs->ndup || fs->coll[fs->ndup - 1] != fs->coll[i]) fs->coll[fs->ndup++] = fs->coll[i];
  fs->dup = fs->coll;
  ER_MALLOC(fs->l1, fs->ndup);
  ER_MALLOC(fs->l2, fs->ndup);
  for (int64_t d = 0; d < fs->ndup; ++d) fs->l1[d] = fs->l2[d] = INT64_MAX;
  p.parse = parse_cells;
  p.take = take_cell_lines;
  p.state = fs;
  err = pass_run(&p);
  er_text_items_free(&p.items);
  ER_CALL(err);
  int64_t best = -1;
  for (int64_t d = 0; d < fs->ndup; ++d)
    if (fs->l2[d] != INT64_MAX && (best < 0 || fs->l2[d] < fs->l2[best])) best = d;
  if (best >= 0) {
    int64_t i = fs->dup[best] / c->f, j = fs->dup[best] % c->f;
    err = ER_ERROR(ER_ERR_INPUT, "%s:%lld: duplicate entry (%lld, %lld)", path,
                   (long long)fs->l2[best], (long long)i + 1, (long long)j + 1);
    ER_CALL(imp_defer(&c->first, err, IMP_KEY(0, fs->l2[best], 1)));
  }
cleanup:
  er_text_items_free(&p.items);
  return err; /* pass_run ended agreed; nothing collective since */
}

/* This rank's rows of a .npy features file. Local; input errors deferred. */
static er_err features_npy(imp_ctx *c, const char *path, const imp_head *h, float *x) {
  er_err err = ER_OK;
  int fd = -1;
  char *buf = NULL;
  const int64_t first = c->lo * c->f, count = c->nloc * c->f;
  ER_CALL(npy_open(path, &fd));
  ER_MALLOC(buf, (size_t)NPY_STEP * (size_t)h->npy.itemsize);
  for (int64_t at = 0; at < count; at += NPY_STEP) {
    int64_t k = count - at < NPY_STEP ? count - at : NPY_STEP;
    double bad;
    ER_CALL(npy_pread(fd, path, h, first + at, k, buf));
    int64_t b = er_npy_to_f32(&h->npy, buf, k, x + at, &bad);
    if (b >= 0) {
      int64_t e = first + at + b;
      err = ER_ERROR(ER_ERR_INPUT, "%s: feature value %g at row %lld, column %lld is %s", path,
                     bad, (long long)(e / c->f + 1), (long long)(e % c->f + 1),
                     isfinite(bad) ? "beyond float32" : "NaN or Inf");
      ER_CALL(imp_defer(&c->first, err, IMP_KEY(0, e + 1, 0)));
      break;
    }
  }
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  return err;
}

er_err imp_features(imp_ctx *c) {
  er_err err = ER_OK;
  imp_head h;
  feat_state fs;
  pass p;
  const char *path = c->path[IMP_FEATURES];
  char shape[96];
  memset(&fs, 0, sizeof fs);
  pass_text(&p, c, path, "features", NULL, ER_ITEM_NONE, 0, 0, 1);
  const int flags = c->ogb ? IMP_HEAD_CSV : IMP_HEAD_MM | IMP_HEAD_NPY;
  ER_CALL(imp_head_read(c->comm, path, "features", flags, 0, &c->first, &h));
  if (h.failed) ER_CALL(imp_first_agree(c->comm, &c->first));

  //---- the shape; every rank decides the same ----
  int64_t n, f;
  if (h.kind == IMP_NPY) {
    er_npy_shape_str(&h.npy, shape, sizeof shape);
    ER_CHECK(h.npy.ndim == 2, ER_ERR_INPUT, "%s: features array has shape %s, expected (N, F)",
             path, shape);
    ER_CHECK(h.npy.dtype == ER_NPY_F4 || h.npy.dtype == ER_NPY_F8, ER_ERR_INPUT,
             "%s: features dtype '%s' is not float32 or float64", path, h.npy.descr);
    n = h.npy.shape[0];
    f = h.npy.shape[1];
    ER_CHECK(n >= 1 && f >= 1, ER_ERR_INPUT, "%s: features array %s is empty", path, shape);
    ER_CHECK(n <= ER_TEXT_MAX_NODES && n <= ER_TEXT_MAX_DENSE / f, ER_ERR_INPUT,
             "%s: %lld x %lld features are too many for a dense matrix", path, (long long)n,
             (long long)f);
  } else if (c->ogb) {
    n = c->n;
    f = h.csv_cols;
    ER_CHECK(f <= ER_TEXT_MAX_DENSE / n, ER_ERR_INPUT,
             "%s: %lld x %lld features are too many for a dense matrix", path, (long long)n,
             (long long)f);
  } else {
    n = h.mm.rows;
    f = h.mm.cols;
    ER_CHECK(n <= ER_TEXT_MAX_DENSE / f, ER_ERR_INPUT,
             "%s: %lld x %lld features are too many for a dense matrix", path, (long long)n,
             (long long)f);
    ER_CHECK(!h.mm.coordinate || h.mm.nnz <= n * f, ER_ERR_INPUT,
             "%s:%lld: %lld entries declared but a %lld x %lld matrix has only %lld cells", path,
             (long long)(h.data_line - 1), (long long)h.mm.nnz, (long long)n, (long long)f,
             (long long)(n * f));
  }
  /* refused before anything is read when the file system cannot hold the output: features,
   * labels, indptr, and the edges taken as about the edge input's size (exact for int64 .npy;
   * text lines and gzip give less) */
  struct stat st;
  const double edge_bytes =
      c->rank == 0 && stat(c->path[IMP_EDGES], &st) == 0 ? (double)st.st_size : 0;
  ER_CALL(er_h5_room(c->comm, c->out, (double)n * (4.0 * (double)f + 4 + 8) + edge_bytes));
  int64_t hi;
  c->n = n;
  c->f = f;
  er_block_range(n, c->size, c->rank, &c->lo, &hi);
  c->nloc = hi - c->lo;
  ER_CALL(imp_owners_init(&c->owners, n, c->size));
  ER_CALLOC(fs.x, c->nloc * f); /* missing coordinate cells are 0 */

  //---- this rank's share, routed to the owners ----
  if (h.kind == IMP_NPY) {
    err = features_npy(c, path, &h, fs.x);
    ER_AGREE(c->comm);
  } else {
    int coord = !c->ogb && h.mm.coordinate;
    if (c->ogb) {
      pass_text(&p, c, path, "features", &h, ER_ITEM_LINE, (size_t)f * sizeof(float), 0, 1);
      p.parse = parse_rows;
      p.take = take_rows;
    } else if (coord) {
      /* lines travel only for a second look at duplicates */
      pass_text(&p, c, path, "features", &h, ER_ITEM_MM_DATA, sizeof(float), 0, f);
      p.parse = parse_cells;
      p.take = take_cells;
      ER_CALLOC(fs.seen, (c->nloc * f + 7) / 8);
    } else {
      pass_text(&p, c, path, "features", &h, ER_ITEM_MM_TOKEN, sizeof(float), 0, f);
      p.parse = parse_array;
      p.take = take_values;
    }
    p.state = &fs;
    ER_AGREE(c->comm);
    ER_CALL(pass_run(&p));
    int64_t total = p.r.total_items;
    int counted = p.r.totals_known && !p.stopped;
    if (coord) {
      int any = fs.ncoll > 0;
      ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, c->comm));
      if (any) ER_CALL(features_duplicates(c, path, &h, &fs));
    }
    if (c->rank == 0 && counted) {
      if (coord && total < h.mm.nnz)
        err = ER_ERROR(ER_ERR_INPUT, "%s: file ends after %lld of the %lld declared entries",
                       path, (long long)total, (long long)h.mm.nnz);
      else if (!coord && !c->ogb && total < n * f)
        err = ER_ERROR(ER_ERR_INPUT, "%s: file ends after %lld of the %lld values of the "
                       "declared %lld x %lld array", path, (long long)total, (long long)(n * f),
                       (long long)n, (long long)f);
      else if (c->ogb && total < n)
        err = ER_ERROR(ER_ERR_INPUT, "%s: %lld rows but the graph has N=%lld nodes (%s)", path,
                       (long long)total, (long long)n, c->path[IMP_NODES]);
      ER_CALL(imp_defer(&c->first, err, IMP_KEY(0, IMP_END, 0)));
    }
    ER_AGREE(c->comm);
  }
  ER_CALL(imp_first_agree(c->comm, &c->first));
  er_text_items_free(&p.items); /* only the rows stay for the write */
  ER_FREE(fs.seen);
  er_mem_trim();
  ER_CALL(er_agree(c->comm, er_h5_write_rows(c->fid, ER_DS_FEATURES, H5T_IEEE_F32LE,
                                             H5T_NATIVE_FLOAT, n, f, c->lo, c->nloc, fs.x)));
cleanup:
  err = ER_FINISH(c->comm);
  er_text_items_free(&p.items);
  free(fs.x);
  free(fs.seen);
  free(fs.coll);
  free(fs.l1);
  free(fs.l2);
  er_mem_trim();
  return err;
}

//------------------------------------------------------------------------------------------
// Labels
//------------------------------------------------------------------------------------------

static er_err parse_labels(pass *p, const er_text_chunk *ch, er_text_stop *stop) {
  return er_text_parse_labels(ch, p->c->ogb, p->c->n, p->c->classes, &p->items, stop);
}

static er_err take_labels(pass *p, const imp_cols *in, int64_t n) {
  const int64_t *node = in->col[0];
  const int32_t *y = in->col[1];
  for (int64_t i = 0; i < n; ++i) p->c->labels[node[i] - p->c->lo] = y[i];
  return ER_OK;
}

/* This rank's labels from a .npy file. Local; input errors deferred. */
static er_err labels_npy(imp_ctx *c, const char *path, const imp_head *h) {
  er_err err = ER_OK;
  int fd = -1;
  char *buf = NULL;
  int64_t *v = NULL;
  ER_CALL(npy_open(path, &fd));
  ER_MALLOC(buf, (size_t)NPY_STEP * (size_t)h->npy.itemsize);
  ER_MALLOC(v, NPY_STEP);
  for (int64_t at = 0; at < c->nloc; at += NPY_STEP) {
    int64_t k = c->nloc - at < NPY_STEP ? c->nloc - at : NPY_STEP;
    ER_CALL(npy_pread(fd, path, h, c->lo + at, k, buf));
    er_npy_to_i64(&h->npy, buf, k, v);
    for (int64_t i = 0; i < k; ++i) {
      int64_t e = c->lo + at + i;
      if (v[i] < -1 || v[i] > INT32_MAX - 1)
        err = ER_ERROR(ER_ERR_INPUT, "%s: entry %lld: label %lld is invalid (use -1 for unknown, "
                       "else 0..K-1)", path, (long long)e, (long long)v[i]);
      else if (c->classes > 0 && v[i] >= c->classes)
        err = ER_ERROR(ER_ERR_INPUT, "%s: entry %lld: label %lld is outside [0, %lld) given by "
                       "--classes %lld", path, (long long)e, (long long)v[i],
                       (long long)c->classes, (long long)c->classes);
      if (err != ER_OK) {
        ER_CALL(imp_defer(&c->first, err, IMP_KEY(0, e + 1, 0)));
        goto cleanup;
      }
      c->labels[at + i] = (int32_t)v[i];
    }
  }
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  free(v);
  return err;
}

er_err imp_labels(imp_ctx *c) {
  er_err err = ER_OK;
  imp_head h;
  pass p;
  const char *path = c->path[IMP_LABELS];
  char shape[96];
  pass_text(&p, c, path, "labels", NULL, ER_ITEM_NONE, 0, 0, 1);
  ER_CALL(imp_head_read(c->comm, path, "labels", c->ogb ? 0 : IMP_HEAD_NPY, 0, &c->first, &h));
  if (h.failed) ER_CALL(imp_first_agree(c->comm, &c->first));
  ER_MALLOC(c->labels, c->nloc);
  for (int64_t i = 0; i < c->nloc; ++i) c->labels[i] = -1;
  if (h.kind == IMP_NPY) {
    er_npy_shape_str(&h.npy, shape, sizeof shape);
    ER_CHECK(h.npy.dtype == ER_NPY_I4 || h.npy.dtype == ER_NPY_I8, ER_ERR_INPUT,
             "%s: labels dtype '%s' is not int32 or int64", path, h.npy.descr);
    ER_CHECK(h.npy.ndim == 1 || (h.npy.ndim == 2 && h.npy.shape[1] == 1), ER_ERR_INPUT,
             "%s: labels array has shape %s, expected (N,)", path, shape);
    ER_CHECK(h.npy.shape[0] == c->n, ER_ERR_INPUT, "%s: %lld labels but the features have %lld "
             "rows", path, (long long)h.npy.shape[0], (long long)c->n);
    err = labels_npy(c, path, &h);
    ER_AGREE(c->comm);
  } else {
    pass_text(&p, c, path, "labels", &h, c->ogb ? ER_ITEM_LINE : ER_ITEM_DATA, sizeof(int32_t), 0,
              1);
    p.parse = parse_labels;
    p.take = take_labels;
    ER_CALL(pass_run(&p));
    if (c->rank == 0 && p.r.totals_known && !p.stopped && p.r.total_items < c->n) {
      err = c->ogb ? ER_ERROR(ER_ERR_INPUT, "%s: %lld labels but the graph has N=%lld nodes (%s)",
                              path, (long long)p.r.total_items, (long long)c->n,
                              c->path[IMP_NODES])
                   : ER_ERROR(ER_ERR_INPUT, "%s: %lld labels but the features have %lld rows",
                              path, (long long)p.r.total_items, (long long)c->n);
      ER_CALL(imp_defer(&c->first, err, IMP_KEY(0, IMP_END, 0)));
    }
  }
  ER_CALL(imp_first_agree(c->comm, &c->first));
  int64_t kmax = -1;
  for (int64_t i = 0; i < c->nloc; ++i) kmax = c->labels[i] > kmax ? c->labels[i] : kmax;
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &kmax, 1, MPI_INT64_T, MPI_MAX, c->comm));
  ER_AGREE(c->comm);
  ER_CHECK(kmax >= 0, ER_ERR_INPUT, "%s: no node has a known label (all are -1)", path);
  c->nclass = c->classes > 0 ? c->classes : kmax + 1;
  ER_CALL(er_agree(c->comm, er_h5_write_rows(c->fid, ER_DS_LABELS, H5T_STD_I32LE,
                                             H5T_NATIVE_INT32, c->n, 0, c->lo, c->nloc,
                                             c->labels)));
cleanup:
  err = ER_FINISH(c->comm);
  er_text_items_free(&p.items);
  er_mem_trim(); /* the rounds' buffers are free: keep them out of the edges' peak */
  return err;
}

//------------------------------------------------------------------------------------------
// Splits
//------------------------------------------------------------------------------------------

/* Every split id this rank owns, with where it was read: key = IMP_KEY(split, line or entry
 * + 1, 0). */
typedef struct {
  int64_t id, key;
} split_item;

typedef struct {
  split_item *a;
  int64_t n, cap;
  int64_t count[3]; /* items per split */
  int npy[3];       /* split s came from a .npy file (positions are entries, not lines) */
} split_state;

static er_err split_push(split_state *ss, int64_t id, int64_t key) {
  if (ss->n == ss->cap) {
    int64_t cap = ss->cap ? 2 * ss->cap : 1024;
    split_item *g = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(ss->a, (size_t)cap * sizeof *g);
    if (!g) return ER_ERROR(ER_ERR_MEM, "out of memory storing split ids");
    ss->a = g;
    ss->cap = cap;
  }
  ss->a[ss->n].id = id;
  ss->a[ss->n++].key = key;
  ss->count[key >> 52]++;
  return ER_OK;
}

static er_err parse_ids(pass *p, const er_text_chunk *ch, er_text_stop *stop) {
  return er_text_parse_ids(ch, p->c->n, &p->items, stop);
}

static er_err take_ids(pass *p, const imp_cols *in, int64_t n) {
  er_err err = ER_OK;
  const int64_t *id = in->col[0], *pos = in->col[1];
  for (int64_t i = 0; i < n && err == ER_OK; ++i)
    err = split_push(p->state, id[i], IMP_KEY(p->file, pos[i], 0));
  return err;
}

/* .npy index arrays: this rank's slice of the entries, checked and sent to the owners
 * (items: id, entry + 1 as the position). */
static er_err produce_npy_ids(pass *p) {
  er_err err = ER_OK;
  int fd = -1;
  char *buf = NULL;
  int64_t k = p->end - p->next < NPY_STEP ? p->end - p->next : NPY_STEP;
  const char *path = p->path;
  if (k <= 0) {
    p->done = 1;
    return ER_OK;
  }
  ER_CALL(npy_open(path, &fd));
  ER_MALLOC(buf, (size_t)k * (size_t)p->h->npy.itemsize);
  ER_CALL(npy_pread(fd, path, p->h, p->next, k, buf));
  ER_CALL(er_text_items_reserve(&p->items, k));
  er_npy_to_i64(&p->h->npy, buf, k, p->items.idx);
  for (int64_t i = 0; i < k; ++i) {
    int64_t v = p->items.idx[i], e = p->next + i;
    if (v < 0 || v >= p->c->n) {
      err = v < 0 ? ER_ERROR(ER_ERR_INPUT, "%s: entry %lld: negative node id %lld", path,
                             (long long)e, (long long)v)
                  : ER_ERROR(ER_ERR_INPUT, "%s: entry %lld: node id %lld is out of range: the "
                             "graph has N=%lld nodes", path, (long long)e, (long long)v,
                             (long long)p->c->n);
      p->items.n = i;
      p->done = p->stopped = 1;
      err = imp_defer(&p->c->first, err, IMP_KEY(p->file, e + 1, 0));
      goto cleanup;
    }
    p->items.line[i] = e + 1;
  }
  p->items.n = k;
  p->next += k;
  p->done = p->next >= p->end;
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  return err;
}

/* A boolean mask (N,): this rank's block of it, kept here. Local; input errors deferred. */
static er_err split_mask(imp_ctx *c, int s, const char *path, const imp_head *h,
                         split_state *ss) {
  er_err err = ER_OK;
  int fd = -1;
  char *buf = NULL;
  ER_CALL(npy_open(path, &fd));
  ER_MALLOC(buf, NPY_STEP);
  for (int64_t at = 0; at < c->nloc; at += NPY_STEP) {
    int64_t k = c->nloc - at < NPY_STEP ? c->nloc - at : NPY_STEP;
    ER_CALL(npy_pread(fd, path, h, c->lo + at, k, buf));
    for (int64_t i = 0; i < k; ++i) {
      int64_t v = (unsigned char)buf[i], id = c->lo + at + i;
      if (v > 1) {
        err = ER_ERROR(ER_ERR_INPUT, "%s: entry %lld: mask value %lld is not 0 or 1", path,
                       (long long)id, (long long)v);
        ER_CALL(imp_defer(&c->first, err, IMP_KEY(s, id + 1, 0)));
        goto cleanup;
      }
      if (v) ER_CALL(split_push(ss, id, IMP_KEY(s, id + 1, 0)));
    }
  }
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  return err;
}

static int cmp_split(const void *a, const void *b) {
  const split_item *x = a, *y = b;
  if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
  return (x->key > y->key) - (x->key < y->key);
}

/* Where an occurrence was read: "path:line" (text), "path: entry k" (.npy; as a reference in
 * parentheses "path entry k"). */
static void split_where(const imp_ctx *c, const split_state *ss, int64_t key, int ref, char *buf,
                        size_t len) {
  int s = (int)(key >> 52);
  int64_t pos = (key >> 2) & (((int64_t)1 << 50) - 1);
  if (ss->npy[s])
    snprintf(buf, len, "%s%s entry %lld", c->path[IMP_TRAIN + s], ref ? "" : ":",
             (long long)pos - 1);
  else snprintf(buf, len, "%s:%lld", c->path[IMP_TRAIN + s], (long long)pos);
}

/* The owner's checks of its split ids, sorted by (id, where): every split node labelled (at
 * its first occurrence), no node twice (at its second). Defers the first problem. Local. */
static er_err split_check(imp_ctx *c, split_state *ss) {
  er_err err = ER_OK;
  if (ss->n > 1) qsort(ss->a, (size_t)ss->n, sizeof *ss->a, cmp_split);
  for (int64_t i = 0, j; i < ss->n; i = j) {
    const split_item *a = &ss->a[i];
    char at[IMP_PATH + 32], prev[IMP_PATH + 32];
    for (j = i + 1; j < ss->n && ss->a[j].id == a->id;) ++j;
    int s = (int)(a->key >> 52);
    if (c->labels[a->id - c->lo] < 0) {
      split_where(c, ss, a->key, 0, at, sizeof at);
      err = ER_ERROR(ER_ERR_INPUT, "%s: node %lld of the %s split has no label (-1 in the labels "
                     "file)", at, (long long)a->id, split_names[s]);
      ER_CALL(imp_defer(&c->first, err, a->key));
    }
    if (j - i < 2) continue;
    const split_item *b = &ss->a[i + 1];
    int sb = (int)(b->key >> 52);
    int64_t pos = (a->key >> 2) & (((int64_t)1 << 50) - 1);
    split_where(c, ss, b->key, 0, at, sizeof at);
    if (sb == s) {
      err = ss->npy[s] ? ER_ERROR(ER_ERR_INPUT, "%s: node %lld is repeated in the %s split (first "
                                  "at entry %lld)", at, (long long)a->id, split_names[s],
                                  (long long)pos - 1)
                       : ER_ERROR(ER_ERR_INPUT, "%s: node %lld is repeated in the %s split (first "
                                  "at line %lld)", at, (long long)a->id, split_names[s],
                                  (long long)pos);
    } else {
      split_where(c, ss, a->key, 1, prev, sizeof prev);
      err = ER_ERROR(ER_ERR_INPUT, "%s: node %lld is also in the %s split (%s); splits must not "
                     "overlap", at, (long long)a->id, split_names[s], prev);
    }
    ER_CALL(imp_defer(&c->first, err, b->key));
  }
cleanup:
  return err;
}

er_err imp_splits(imp_ctx *c) {
  er_err err = ER_OK;
  split_state ss;
  pass p;
  int64_t *ids = NULL;
  memset(&ss, 0, sizeof ss);
  pass_text(&p, c, "", "split", NULL, ER_ITEM_NONE, 0, 0, 1);
  for (int s = 0; s < 3; ++s) {
    imp_head h;
    const char *path = c->path[IMP_TRAIN + s];
    char shape[96];
    ER_CALL(imp_head_read(c->comm, path, "split", c->ogb ? 0 : IMP_HEAD_NPY, s, &c->first, &h));
    if (h.failed) continue; /* its error is deferred: an earlier split may hold a smaller one */
    ss.npy[s] = h.kind == IMP_NPY;
    if (h.kind == IMP_NPY) {
      int mask = h.npy.dtype == ER_NPY_B1 || h.npy.dtype == ER_NPY_U1;
      er_npy_shape_str(&h.npy, shape, sizeof shape);
      if (h.npy.dtype == ER_NPY_F4 || h.npy.dtype == ER_NPY_F8 || h.npy.ndim != 1 ||
          (mask && h.npy.shape[0] != c->n)) {
        if (c->rank == 0) {
          err = h.npy.dtype == ER_NPY_F4 || h.npy.dtype == ER_NPY_F8
                    ? ER_ERROR(ER_ERR_INPUT, "%s: split dtype '%s' is neither an index (int32, "
                               "int64) nor a mask (bool, uint8)", path, h.npy.descr)
                : h.npy.ndim != 1
                    ? ER_ERROR(ER_ERR_INPUT, "%s: split array has shape %s, expected (k,) ids or "
                               "an (N,) mask", path, shape)
                    : ER_ERROR(ER_ERR_INPUT, "%s: mask of %lld entries but the graph has N=%lld "
                               "nodes", path, (long long)h.npy.shape[0], (long long)c->n);
          ER_CALL(imp_defer(&c->first, err, IMP_KEY(s, 0, 0)));
        }
        continue;
      }
      if (mask) {
        err = split_mask(c, s, path, &h, &ss);
        ER_AGREE(c->comm);
        continue;
      }
      pass_text(&p, c, path, "split", &h, ER_ITEM_NONE, 0, 1, 1);
      p.next = (int64_t)((__int128)h.npy.count * c->rank / c->size);
      p.end = (int64_t)((__int128)h.npy.count * (c->rank + 1) / c->size);
      p.produce = produce_npy_ids;
    } else {
      pass_text(&p, c, path, "split", &h, ER_ITEM_DATA, 0, 1, 1);
      p.parse = parse_ids;
    }
    p.file = s;
    p.take = take_ids;
    p.state = &ss;
    ER_AGREE(c->comm);
    err = pass_run(&p);
    er_text_items_free(&p.items);
    ER_CALL(err);
  }

  //---- empty splits, then the owners' checks ----
  int64_t count[3] = {ss.count[0], ss.count[1], ss.count[2]};
  ER_AGREE(c->comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, count, 3, MPI_INT64_T, MPI_SUM, c->comm));
  if (c->rank == 0)
    for (int s = 0; s < 3; ++s)
      if (count[s] == 0) {
        err = ER_ERROR(ER_ERR_INPUT, "%s split file '%s' contains no node ids", split_names[s],
                       c->path[IMP_TRAIN + s]);
        ER_CALL(imp_defer(&c->first, err, IMP_KEY(s, IMP_END, 0)));
      }
  err = split_check(c, &ss);
  ER_AGREE(c->comm);
  ER_CALL(imp_first_agree(c->comm, &c->first));

  //---- sorted ids per split, concatenated in rank order ----
  static const char *const ds[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  ER_MALLOC(ids, ss.n);
  ER_AGREE(c->comm);
  for (int s = 0; s < 3; ++s) {
    int64_t k = 0, off = 0;
    for (int64_t i = 0; i < ss.n; ++i)
      if ((ss.a[i].key >> 52) == s) ids[k++] = ss.a[i].id;
    ER_CALL_MPI(MPI_Exscan(&k, &off, 1, MPI_INT64_T, MPI_SUM, c->comm));
    if (c->rank == 0) off = 0;
    c->nsplit[s] = count[s];
    ER_AGREE(c->comm);
    ER_CALL(er_agree(c->comm, er_h5_write_rows(c->fid, ds[s], H5T_STD_I64LE, H5T_NATIVE_INT64,
                                               count[s], 0, off, k, ids)));
  }
cleanup:
  err = ER_FINISH(c->comm);
  er_text_items_free(&p.items);
  free(ss.a);
  free(ids);
  er_mem_trim();
  return err;
}
