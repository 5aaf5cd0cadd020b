/* ingest.c: the parallel reading machinery of import (ingest.h): first-error selection, heads
 * read on rank 0, readers of a rank's share of a plain or gzip text file, exchange rounds.
 * It parses no content beyond a header and writes nothing. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//------------------------------------------------------------------------------------------
// First input error
//------------------------------------------------------------------------------------------

er_err imp_defer(imp_first *f, er_err err, int64_t key) {
  if (err != ER_ERR_INPUT) return err;
  if (!f->has || key < f->key) {
    snprintf(f->msg, sizeof f->msg, "%s", er_error_message());
    f->key = key;
    f->has = 1;
  }
  er_error_clear();
  return ER_OK;
}

er_err imp_first_agree(MPI_Comm comm, imp_first *f) {
  er_err err = ER_OK;
  int64_t mine = f->has ? f->key : INT64_MAX, least = INT64_MAX;
  ER_CALL_MPI(MPI_Allreduce(&mine, &least, 1, MPI_INT64_T, MPI_MIN, comm));
  if (least != INT64_MAX && mine == least) err = ER_ERROR(ER_ERR_INPUT, "%s", f->msg);
cleanup:
  f->has = 0;
  return er_agree(comm, err);
}

//------------------------------------------------------------------------------------------
// Sequential input: the raw bytes of a file or its inflated gzip stream
//------------------------------------------------------------------------------------------

#define ZIN_BYTES ((size_t)1 << 18)

/* Starts inflating fd (read from its current offset) into r->zs. */
static er_err gz_start(imp_reader *r) {
  er_err err = ER_OK;
  memset(&r->zs, 0, sizeof r->zs);
  ER_MALLOC(r->zin, ZIN_BYTES);
  ER_CHECK(inflateInit2(&r->zs, 15 + 32) == Z_OK, ER_ERR_MEM, "zlib cannot start inflating '%s'",
           r->path);
  r->zinit = 1;
cleanup:
  return err;
}

/* Inflates up to want bytes into dst (*got of them; fewer only at the end of the stream, then
 * r->zend). Concatenated gzip members are one stream. */
static er_err gz_read(imp_reader *r, char *dst, size_t want, size_t *got) {
  z_stream *zs = &r->zs;
  *got = 0;
  while (*got < want && !r->zend) {
    if (zs->avail_in == 0) {
      ssize_t n = read(r->fd, r->zin, ZIN_BYTES);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return ER_ERROR(ER_ERR_IO, "reading %s file '%s' failed: %s", r->what, r->path,
                        strerror(errno));
      if (n == 0)
        return ER_ERROR(ER_ERR_INPUT, "%s: gzip stream is truncated (the file ends inside it)",
                        r->path);
      zs->next_in = r->zin;
      zs->avail_in = (uInt)n;
    }
    zs->next_out = (Bytef *)dst + *got;
    zs->avail_out = (uInt)(want - *got);
    int rc = inflate(zs, Z_NO_FLUSH);
    *got = want - zs->avail_out;
    if (rc == Z_STREAM_END) {
      /* another member may follow */
      if (zs->avail_in == 0) {
        ssize_t n;
        do n = read(r->fd, r->zin, ZIN_BYTES);
        while (n < 0 && errno == EINTR);
        if (n < 0)
          return ER_ERROR(ER_ERR_IO, "reading %s file '%s' failed: %s", r->what, r->path,
                          strerror(errno));
        zs->next_in = r->zin;
        zs->avail_in = (uInt)n;
      }
      if (zs->avail_in == 0) r->zend = 1;
      else if (inflateReset(zs) != Z_OK)
        return ER_ERROR(ER_ERR_INPUT, "%s: corrupt gzip data", r->path);
    } else if (rc == Z_MEM_ERROR) {
      return ER_ERROR(ER_ERR_MEM, "zlib ran out of memory inflating '%s'", r->path);
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return ER_ERROR(ER_ERR_INPUT, "%s: corrupt gzip data (zlib: %s)", r->path,
                      zs->msg ? zs->msg : "error");
    }
  }
  return ER_OK;
}

static void gz_end(imp_reader *r) {
  if (r->zinit) inflateEnd(&r->zs);
  r->zinit = 0;
  free(r->zin);
  r->zin = NULL;
}

//------------------------------------------------------------------------------------------
// Heads (rank 0)
//------------------------------------------------------------------------------------------

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n';
}

/* The first *len bytes of the input (raw, or inflated for gz) in a growing buffer. */
typedef struct {
  imp_reader r; /* only fd, path, what and the gzip state are used */
  char *buf;
  size_t len, cap;
  int64_t raw_pos;
  int at_eof;
} head_buf;

/* Grow the head to at least want bytes (or the whole input). */
static er_err head_more(head_buf *hb, size_t want, int64_t size) {
  er_err err = ER_OK;
  if (hb->at_eof || hb->len >= want) return ER_OK;
  if (want > hb->cap) {
    char *nb = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(hb->buf, want + 1);
    ER_CHECK(nb, ER_ERR_MEM, "out of memory reading the head of '%s'", hb->r.path);
    hb->buf = nb;
    hb->cap = want;
  }
  while (hb->len < want && !hb->at_eof) {
    size_t got = 0;
    if (hb->r.gz) {
      ER_CALL(gz_read(&hb->r, hb->buf + hb->len, want - hb->len, &got));
      if (hb->r.zend) hb->at_eof = 1;
    } else {
      ssize_t n = pread(hb->r.fd, hb->buf + hb->len, want - hb->len, hb->raw_pos);
      if (n < 0 && errno == EINTR) continue;
      ER_CHECK(n >= 0, ER_ERR_IO, "reading %s file '%s' failed: %s", hb->r.what, hb->r.path,
               strerror(errno));
      got = (size_t)n;
      hb->raw_pos += n;
      if (n == 0 || hb->raw_pos >= size) hb->at_eof = 1;
    }
    hb->len += got;
  }
  hb->buf[hb->len] = '\0';
cleanup:
  return err;
}

#define HEAD_FIRST ((size_t)1 << 16)
#define HEAD_MAX_COUNT_FILE ((size_t)1 << 20)

static er_err head_local(const char *path, const char *what, int flags, imp_head *h) {
  er_err err = ER_OK;
  head_buf hb;
  struct stat st;
  unsigned char magic[8] = {0};
  memset(&hb, 0, sizeof hb);
  hb.r.fd = -1;
  hb.r.path = path;
  hb.r.what = what;
  hb.r.fd = open(path, O_RDONLY);
  ER_CHECK(hb.r.fd >= 0, ER_ERR_INPUT, "cannot open %s file '%s': %s", what, path,
           strerror(errno));
  ER_CHECK(fstat(hb.r.fd, &st) == 0 && S_ISREG(st.st_mode), ER_ERR_INPUT,
           "%s file '%s' is not a regular file", what, path);
  ER_CHECK(st.st_size > 0, ER_ERR_INPUT, "%s file '%s' is empty", what, path);
  h->size = st.st_size;
  ssize_t nm = pread(hb.r.fd, magic, sizeof magic, 0);
  ER_CHECK(nm >= 0, ER_ERR_IO, "reading %s file '%s' failed: %s", what, path, strerror(errno));
  if (er_npy_magic(magic, (size_t)nm)) {
    ER_CHECK(flags & IMP_HEAD_NPY, ER_ERR_INPUT,
             "%s: a .npy file cannot be the %s file here (the OGB layout is CSV)", path, what);
    h->kind = IMP_NPY;
    int complete = 0;
    for (size_t want = HEAD_FIRST; !complete; want *= 4) {
      ER_CALL(head_more(&hb, want, h->size));
      ER_CALL(er_npy_parse_header(path, hb.buf, hb.len, h->size, &h->npy, &complete));
      ER_CHECK(complete || !hb.at_eof, ER_ERR_INTERNAL, "npy header of '%s' incomplete", path);
    }
    goto cleanup;
  }
  h->kind = IMP_TEXT;
  if (nm >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    h->gz = 1;
    hb.r.gz = 1;
    ER_CALL(gz_start(&hb.r));
  }

  //---- text: empty?, Matrix Market header, first row ----
  size_t want = HEAD_FIRST, first = 0;
  for (;;) {
    ER_CALL(head_more(&hb, want, h->size));
    while (first < hb.len && is_space(hb.buf[first])) ++first;
    if (first < hb.len || hb.at_eof) break;
    want *= 4;
  }
  ER_CHECK(first < hb.len, ER_ERR_INPUT, "%s file '%s' is empty", what, path);
  ER_CHECK(!(h->gz && er_npy_magic(hb.buf, hb.len)), ER_ERR_INPUT,
           "%s: a gzip-compressed .npy file is not supported: decompress it first", path);
  h->data_off = 0;
  h->data_line = 1;
  size_t blen = strlen(ER_MM_BANNER);
  int banner = hb.len >= blen && !strncmp(hb.buf, ER_MM_BANNER, blen);
  if ((flags & IMP_HEAD_MM) || ((flags & IMP_HEAD_MAYBE_MM) && banner)) {
    int complete = 0;
    for (want = HEAD_FIRST;; want *= 4) {
      ER_CALL(head_more(&hb, want, h->size));
      ER_CALL(er_mm_header_parse(path, hb.buf, hb.len, hb.at_eof, !(flags & IMP_HEAD_MM), &h->mm,
                                 &complete, &h->data_off, &h->data_line));
      if (complete) break;
    }
    h->is_mm = 1;
  }
  if (flags & IMP_HEAD_CSV) {
    int complete = 0;
    for (want = HEAD_FIRST;; want *= 4) {
      ER_CALL(head_more(&hb, want, h->size));
      h->csv_cols = er_text_csv_columns(hb.buf, hb.len, hb.at_eof, &complete);
      if (complete) break;
    }
    ER_CHECK(h->csv_cols > 0, ER_ERR_INPUT, "%s:1: the first row is empty", path);
  }
  if (flags & IMP_HEAD_COUNT) {
    ER_CALL(head_more(&hb, HEAD_MAX_COUNT_FILE, h->size));
    ER_CHECK(hb.at_eof, ER_ERR_INPUT, "%s: expected one integer, the file is too long", path);
    char *b = hb.buf, *e = hb.buf + hb.len;
    while (b < e && is_space(*b)) ++b;
    char *t = b;
    while (t < e && !is_space(*t) && *t != ',') ++t;
    char *rest = t, *eol = b;
    while (rest < e && is_space(*rest)) ++rest;
    while (eol < e && eol < b + 40 && *eol != '\n' && *eol != '\r') ++eol;
    int rc = er_tok_i64(b, t, &h->value);
    ER_CHECK(rc == ER_TOK_OK && rest == e && h->value >= 1 && h->value <= ER_TEXT_MAX_NODES,
             ER_ERR_INPUT, "%s: expected one positive integer (the node count), found '%.*s'%s",
             path, (int)(eol - b), b, rest < e && rc == ER_TOK_OK ? " and more" : "");
  }
cleanup:
  gz_end(&hb.r);
  if (hb.r.fd >= 0) close(hb.r.fd);
  free(hb.buf);
  return err;
}

er_err imp_head_read(MPI_Comm comm, const char *path, const char *what, int flags, int file,
                     imp_first *first, imp_head *h) {
  er_err err = ER_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(h, 0, sizeof *h);
  if (rank == 0) {
    err = head_local(path, what, flags, h);
    if (err == ER_ERR_INPUT) h->failed = 1;
    err = imp_defer(first, err, IMP_KEY(file, 0, 0));
  }
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Bcast(h, (int)sizeof *h, MPI_BYTE, 0, comm));
  ER_AGREE(comm);
cleanup:
  return ER_FINISH(comm);
}

//------------------------------------------------------------------------------------------
// Readers
//------------------------------------------------------------------------------------------

er_err imp_pread(int fd, const char *path, void *buf, size_t bytes, int64_t off) {
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = pread(fd, (char *)buf + got, bytes - got, (off_t)(off + (int64_t)got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return ER_ERROR(ER_ERR_IO, "reading '%s' failed: %s", path,
                      n < 0 ? strerror(errno) : "the file shrank while reading");
    got += (size_t)n;
  }
  return ER_OK;
}

/* Offset just after the first newline at or after x in [x, size); size if there is none. */
static er_err after_newline(imp_reader *r, int64_t x, int64_t size, int64_t *out) {
  char tmp[1 << 14];
  while (x < size) {
    size_t want = (size_t)(size - x < (int64_t)sizeof tmp ? size - x : (int64_t)sizeof tmp);
    ssize_t n = pread(r->fd, tmp, want, x);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return ER_ERROR(ER_ERR_IO, "reading %s file '%s' failed: %s", r->what, r->path,
                      n < 0 ? strerror(errno) : "the file shrank while reading");
    const char *nl = memchr(tmp, '\n', (size_t)n);
    if (nl) {
      *out = x + (nl - tmp) + 1;
      return ER_OK;
    }
    x += n;
  }
  *out = size;
  return ER_OK;
}

/* Room for at least `more` bytes after buf[len). */
static er_err reader_room(imp_reader *r, size_t more) {
  if (r->cap - r->len >= more) return ER_OK;
  size_t cap = r->cap ? r->cap : IMP_PIECE;
  while (cap - r->len < more) cap *= 2;
  char *nb = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(r->buf, cap);
  if (!nb) return ER_ERROR(ER_ERR_MEM, "out of memory reading '%s' (%zu bytes)", r->path, cap);
  r->buf = nb;
  r->cap = cap;
  return ER_OK;
}

/* Drop the piece handed out last. */
static void reader_consume(imp_reader *r) {
  if (!r->given) return;
  memmove(r->buf, r->buf + r->given, r->len - r->given);
  r->len -= r->given;
  r->out_pos += (int64_t)r->given;
  r->given = 0;
}

/* Plain: read up to IMP_PIECE more bytes of [pos, hi). */
static er_err plain_more(imp_reader *r) {
  er_err err = ER_OK;
  ER_CALL(reader_room(r, IMP_PIECE));
  size_t want = (size_t)(r->hi - r->pos < (int64_t)IMP_PIECE ? r->hi - r->pos : (int64_t)IMP_PIECE);
  while (want > 0) {
    ssize_t n = pread(r->fd, r->buf + r->len, want, r->pos);
    if (n < 0 && errno == EINTR) continue;
    ER_CHECK(n > 0, ER_ERR_IO, "reading %s file '%s' failed: %s", r->what, r->path,
             n < 0 ? strerror(errno) : "the file shrank while reading");
    r->len += (size_t)n;
    r->pos += n;
    break;
  }
  if (r->pos >= r->hi) r->eof = 1;
cleanup:
  return err;
}

/* gzip: inflate up to IMP_PIECE more bytes. */
static er_err gz_more(imp_reader *r) {
  er_err err = ER_OK;
  size_t got;
  ER_CALL(reader_room(r, IMP_PIECE));
  ER_CALL(gz_read(r, r->buf + r->len, IMP_PIECE, &got));
  r->len += got;
  if (r->zend) r->eof = 1;
cleanup:
  return err;
}

static size_t last_newline_end(const char *buf, size_t len) {
  for (size_t i = len; i > 0; --i)
    if (buf[i - 1] == '\n') return i;
  return 0;
}

/* Plain: the next piece of [lo, hi), whole lines, about IMP_PIECE bytes. */
static er_err plain_piece(imp_reader *r, size_t *piece) {
  er_err err = ER_OK;
  reader_consume(r);
  while (!r->eof && r->len < IMP_PIECE) ER_CALL(plain_more(r));
  for (;;) {
    if (r->eof) {
      *piece = r->len;
      break;
    }
    *piece = last_newline_end(r->buf, r->len);
    if (*piece) break;
    ER_CALL(plain_more(r)); /* one line longer than the buffer */
  }
cleanup:
  return err;
}

/* gzip: the next piece of whole lines that all belong to one block's owner (*owner). A line
 * belongs to the block holding the newline before it (the first line to block 0). */
static er_err gz_piece(imp_reader *r, size_t *piece, int *owner) {
  er_err err = ER_OK;
  reader_consume(r);
  for (;;) {
    if (r->out_pos < r->data_off) { /* the header: skipped, its lines are counted in line0 */
      if (r->len == 0) {
        if (r->eof) break;
        ER_CALL(gz_more(r));
        continue;
      }
      size_t drop = (size_t)(r->data_off - r->out_pos) < r->len ? (size_t)(r->data_off - r->out_pos)
                                                                 : r->len;
      r->given = drop;
      reader_consume(r);
      continue;
    }
    if (r->len == 0 && r->eof) break;
    int64_t p = r->out_pos;
    int64_t b = p == r->data_off ? 0 : (p - 1 - r->data_off) / IMP_BLOCK;
    int64_t s = r->data_off + (b + 1) * IMP_BLOCK; /* the next block starts here */
    size_t end = 0;
    if (s - p < (int64_t)r->len) {
      const char *nl = memchr(r->buf + (s - p), '\n', r->len - (size_t)(s - p));
      if (nl) end = (size_t)(nl - r->buf) + 1;
    }
    if (!end) end = r->eof ? r->len : last_newline_end(r->buf, r->len);
    if (end && (end >= IMP_PIECE / 2 || r->eof || s - p < (int64_t)r->len)) {
      *piece = end;
      *owner = (int)(b % r->size);
      return ER_OK;
    }
    ER_CALL(gz_more(r));
  }
  *piece = 0;
  *owner = r->rank;
cleanup:
  return err;
}

er_err imp_reader_next(imp_reader *r, er_text_chunk *c, int *got) {
  er_err err = ER_OK;
  *got = 0;
  for (;;) {
    size_t piece = 0;
    int owner = r->rank;
    if (r->gz) ER_CALL(gz_piece(r, &piece, &owner));
    else ER_CALL(plain_piece(r, &piece));
    if (piece == 0) {
      if (r->gz) {
        r->total_items = r->item;
        r->totals_known = 1;
      }
      break;
    }
    int64_t lines, items;
    if (r->replay >= 0 && r->replay < r->npieces && r->pieces[3 * r->replay] == (int64_t)piece) {
      lines = r->pieces[3 * r->replay + 1]; /* the counting pass cut this piece and counted it */
      items = r->pieces[3 * r->replay + 2];
      r->replay++;
    } else {
      er_text_count(r->buf, piece, r->kind, &lines, &items);
      if (r->replay < 0) { /* the counting pass: record */
        if (r->npieces == r->cap_pieces) {
          int64_t cap = r->cap_pieces ? 2 * r->cap_pieces : 64;
          int64_t *g = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(r->pieces, (size_t)cap * 24);
          ER_CHECK(g, ER_ERR_MEM, "out of memory reading '%s'", r->path);
          r->pieces = g;
          r->cap_pieces = cap;
        }
        r->pieces[3 * r->npieces] = (int64_t)piece;
        r->pieces[3 * r->npieces + 1] = lines;
        r->pieces[3 * r->npieces + 2] = items;
        r->npieces++;
      }
    }
    c->path = r->path;
    c->buf = r->buf;
    c->len = piece;
    c->line0 = r->line;
    c->item0 = r->item;
    r->line += lines;
    r->item += items;
    r->given = piece;
    if (owner == r->rank) {
      *got = 1;
      break;
    }
  }
cleanup:
  return err;
}

er_err imp_reader_open(MPI_Comm comm, imp_reader *r, const char *path, const char *what,
                       const imp_head *h, er_item_kind kind) {
  er_err err = ER_OK;
  int64_t *counts = NULL;
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->path = path;
  r->what = what;
  r->kind = kind;
  MPI_Comm_rank(comm, &r->rank);
  MPI_Comm_size(comm, &r->size);
  r->fd = open(path, O_RDONLY);
  ER_CHECK(r->fd >= 0, ER_ERR_IO, "cannot open %s file '%s': %s", what, path, strerror(errno));
  r->line = h->data_line;
  if (h->gz) {
    r->gz = 1;
    r->data_off = h->data_off; /* gz_piece skips the header; its lines are in data_line */
    ER_CALL(gz_start(r));
    ER_AGREE(comm);
    goto cleanup;
  }

  //---- plain: this rank's byte range, cut at line boundaries ----
  const int64_t span = h->size - h->data_off;
  const int64_t nom_lo = h->data_off + (int64_t)((__int128)span * r->rank / r->size);
  const int64_t nom_hi = h->data_off + (int64_t)((__int128)span * (r->rank + 1) / r->size);
  r->lo = h->data_off;
  if (r->rank > 0) ER_CALL(after_newline(r, nom_lo, h->size, &r->lo));
  r->hi = h->size;
  if (r->rank < r->size - 1) ER_CALL(after_newline(r, nom_hi, h->size, &r->hi));
  if (r->hi < r->lo) r->hi = r->lo;

  //---- count this range's lines and items; the ranks before give the offsets ----
  r->pos = r->lo;
  r->eof = r->pos >= r->hi;
  r->line = r->item = 0;
  r->replay = -1;
  for (int got = 1; got;) {
    er_text_chunk c;
    ER_CALL(imp_reader_next(r, &c, &got));
  }
  int64_t mine[2] = {r->line, r->item};
  ER_MALLOC(counts, 2 * (size_t)r->size);
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Allgather(mine, 2, MPI_INT64_T, counts, 2, MPI_INT64_T, comm));
  ER_AGREE(comm);
  r->line = h->data_line;
  r->item = 0;
  r->total_items = 0;
  for (int q = 0; q < r->size; ++q) {
    if (q < r->rank) {
      r->line += counts[2 * q];
      r->item += counts[2 * q + 1];
    }
    r->total_items += counts[2 * q + 1];
  }
  r->totals_known = 1;
  r->pos = r->lo;
  r->eof = r->pos >= r->hi;
  r->len = r->given = 0;
  r->replay = 0;
cleanup:
  free(counts);
  return ER_FINISH(comm);
}

void imp_reader_close(imp_reader *r) {
  gz_end(r);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  free(r->buf);
  r->buf = NULL;
  r->cap = r->len = r->given = 0;
  free(r->pieces);
  r->pieces = NULL;
  r->npieces = r->cap_pieces = 0;
}

//------------------------------------------------------------------------------------------
// Exchange
//------------------------------------------------------------------------------------------

void imp_cols_free(imp_cols *c) {
  if (!c->borrowed)
    for (int k = 0; k < c->ncol; ++k) free(c->col[k]);
  for (int k = 0; k < IMP_MAXCOL; ++k) c->col[k] = NULL;
  c->borrowed = 0;
}

er_err imp_owners_init(imp_owners_map *m, int64_t n, int size) {
  er_err err = ER_OK;
  m->size = size;
  m->scale = n > 0 ? (double)size / (double)n : 0;
  ER_MALLOC(m->bounds, (size_t)size + 1);
  for (int r = 0; r < size; ++r) {
    int64_t hi;
    er_block_range(n, size, r, &m->bounds[r], &hi);
  }
  m->bounds[size] = INT64_MAX; /* ids are < n; the last block ends nowhere */
cleanup:
  return err;
}

void imp_owners_free(imp_owners_map *m) {
  free(m->bounds);
  m->bounds = NULL;
}

/* Bytes of one item over all columns. */
static size_t item_bytes(const imp_cols *c) {
  size_t b = 0;
  for (int k = 0; k < c->ncol; ++k) b += c->size[k];
  return b;
}

er_err imp_exchange(MPI_Comm comm, const imp_cols *send, const int *dest, int64_t n, int more,
                    imp_cols *recv, int64_t *nrecv, int *more_any) {
  er_err err = ER_OK;
  int size;
  int64_t *cnt = NULL, *pos = NULL;
  char *packed = NULL;
  imp_cols grouped = *send;
  MPI_Comm_size(comm, &size);
  if (size == 1) return imp_exchange_grouped(comm, send, &n, more, recv, nrecv, more_any);
  memset(recv, 0, sizeof *recv);
  ER_CALLOC(cnt, size);
  ER_MALLOC(pos, size);
  ER_MALLOC(packed, (size_t)n * item_bytes(send));
  for (int64_t i = 0; i < n; ++i) cnt[dest[i]]++;
  /* each destination's block holds its items of column 0, then of column 1, ... */
  size_t at = 0;
  for (int k = 0; k < send->ncol; ++k) {
    const size_t sz = send->size[k];
    const char *src = send->col[k];
    at = 0;
    for (int q = 0; q < size; ++q) {
      size_t before = 0; /* bytes of the earlier columns in q's block */
      for (int k2 = 0; k2 < k; ++k2) before += send->size[k2] * (size_t)cnt[q];
      pos[q] = (int64_t)(at + before);
      at += item_bytes(send) * (size_t)cnt[q];
    }
    if (sz == 8) {
      for (int64_t i = 0; i < n; ++i) memcpy(packed + (pos[dest[i]] += 8) - 8, src + 8 * i, 8);
    } else if (sz == 4) {
      for (int64_t i = 0; i < n; ++i) memcpy(packed + (pos[dest[i]] += 4) - 4, src + 4 * i, 4);
    } else {
      for (int64_t i = 0; i < n; ++i)
        memcpy(packed + (pos[dest[i]] += (int64_t)sz) - (int64_t)sz, src + sz * i, sz);
    }
  }
  grouped.col[0] = packed; /* the layout imp_exchange_grouped takes: only column 0 is read */
cleanup: /* a failure here meets the others' first agreement in imp_exchange_grouped */
  err = err == ER_OK ? imp_exchange_grouped(comm, &grouped, cnt, more, recv, nrecv, more_any)
                     : ER_FINISH(comm);
  free(packed);
  free(cnt);
  free(pos);
  return err;
}

er_err imp_exchange_grouped(MPI_Comm comm, const imp_cols *send, const int64_t *count, int more,
                            imp_cols *recv, int64_t *nrecv, int *more_any) {
  er_err err = ER_OK;
  int size;
  int64_t *cnt = NULL, *rcnt = NULL;
  int *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL;
  char *packed = NULL;
  const size_t item = item_bytes(send);
  MPI_Comm_size(comm, &size);
  memset(recv, 0, sizeof *recv);
  *nrecv = 0;
  *more_any = 0;
  recv->ncol = send->ncol;
  memcpy(recv->size, send->size, sizeof recv->size);
  if (size == 1) { /* nothing travels: the items are read where they are */
    for (int k = 0; k < send->ncol; ++k) recv->col[k] = send->col[k];
    recv->borrowed = 1;
    *nrecv = count[0];
    *more_any = more;
    return ER_OK;
  }
  ER_MALLOC(cnt, 2 * (size_t)size);
  ER_MALLOC(rcnt, 2 * (size_t)size);
  ER_MALLOC(sc, size);
  ER_MALLOC(sd, size);
  ER_MALLOC(rc, size);
  ER_MALLOC(rd, size);
  int64_t n = 0;
  for (int q = 0; q < size; ++q) {
    cnt[2 * q] = count[q];
    cnt[2 * q + 1] = more;
    n += count[q];
  }
  ER_AGREE(comm); /* also the caller's work since its last agreement */
  ER_CALL_MPI(MPI_Alltoall(cnt, 2, MPI_INT64_T, rcnt, 2, MPI_INT64_T, comm));

  //---- one receive buffer; the columns unpacked from it ----
  int64_t total = 0;
  for (int q = 0; q < size; ++q) {
    total += rcnt[2 * q];
    *more_any |= rcnt[2 * q + 1] != 0;
  }
  ER_CHECK((size_t)total * item <= INT_MAX && (size_t)n * item <= INT_MAX, ER_ERR_INPUT,
           "an exchange round of %lld items of %zu bytes exceeds what one MPI call can move "
           "(lines of many megabytes?)", (long long)(total > n ? total : n), item);
  for (int q = 0, so = 0, ro = 0; q < size; ++q) {
    sc[q] = (int)((size_t)cnt[2 * q] * item);
    rc[q] = (int)((size_t)rcnt[2 * q] * item);
    sd[q] = so;
    rd[q] = ro;
    so += sc[q];
    ro += rc[q];
  }
  ER_MALLOC(packed, (size_t)total * item);
  if (send->ncol > 1)
    for (int k = 0; k < send->ncol; ++k) {
      char *col;
      ER_MALLOC(col, (size_t)total * send->size[k]);
      recv->col[k] = col;
    }
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoallv(send->col[0], sc, sd, MPI_BYTE, packed, rc, rd, MPI_BYTE, comm));
  if (send->ncol == 1) {
    recv->col[0] = packed;
    packed = NULL;
  } else {
    size_t at = 0, done = 0; /* source q's block: its items of column 0, then 1, ... */
    for (int q = 0; q < size; ++q) {
      for (int k = 0; k < send->ncol; ++k) {
        size_t bytes = (size_t)rcnt[2 * q] * send->size[k];
        memcpy((char *)recv->col[k] + done * send->size[k], packed + at, bytes);
        at += bytes;
      }
      done += (size_t)rcnt[2 * q];
    }
  }
  *nrecv = total;
cleanup:
  err = ER_FINISH(comm);
  if (err != ER_OK) imp_cols_free(recv);
  free(packed);
  free(cnt);
  free(rcnt);
  free(sc);
  free(sd);
  free(rc);
  free(rd);
  return err;
}
