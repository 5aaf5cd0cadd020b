/* text.c: the text parsers of import over in-memory chunks of whole lines (text.h): line
 * cursor, hand-rolled number scanning, Matrix Market header and entries, edge lists, labels,
 * node ids, CSV rows. It reads no file and knows no rank: chunk boundaries and the global line
 * and item numbers come from the caller. */
#include "text.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//------------------------------------------------------------------------------------------
// Tokens
//------------------------------------------------------------------------------------------

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

int er_tok_i64(const char *b, const char *e, int64_t *v) {
  int neg = 0;
  if (b < e && (*b == '-' || *b == '+')) neg = *b++ == '-';
  if (b == e) return ER_TOK_NAN;
  uint64_t x = 0;
  if (e - b <= 18) { /* no overflow possible */
    for (; b < e; ++b) {
      unsigned d = (unsigned)(*b - '0');
      if (d > 9) return ER_TOK_NAN;
      x = x * 10 + d;
    }
  } else { /* INT64_MIN is in range; a non-digit after too many digits is still no number */
    const uint64_t limit = (uint64_t)INT64_MAX + (uint64_t)neg;
    int range = 0;
    for (; b < e; ++b) {
      unsigned d = (unsigned)(*b - '0');
      if (d > 9) return ER_TOK_NAN;
      if (range || x > (limit - d) / 10) range = 1;
      else x = x * 10 + d;
    }
    if (range) return ER_TOK_RANGE;
  }
  *v = !neg ? (int64_t)x : x > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)x;
  return ER_TOK_OK;
}

int er_tok_f64(const char *b, const char *e, double *v) {
  static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char *p = b;
  int neg = 0, digits = 0, seen = 0, frac = 0, dot = 0;
  uint64_t m = 0;
  if (p < e && (*p == '-' || *p == '+')) neg = *p++ == '-';
  for (; p < e; ++p) {
    if (*p >= '0' && *p <= '9') {
      seen = 1;
      if (m || *p != '0') digits++; /* significant digits */
      m = m * 10 + (uint64_t)(*p - '0');
      frac += dot;
      if (digits > 15) break;
    } else if (*p == '.' && !dot) {
      dot = 1;
    } else {
      break;
    }
  }
  if (p == e && seen && digits <= 15 && frac <= 22) {
    double x = (double)m / p10[frac];
    *v = neg ? -x : x;
    return ER_TOK_OK;
  }
  char buf[128], *tmp = buf; /* a longer token on the heap (NaN when that fails) */
  size_t n = (size_t)(e - b);
  if (n == 0 || (n >= sizeof buf && !(tmp = malloc(n + 1)))) return ER_TOK_NAN;
  memcpy(tmp, b, n);
  tmp[n] = '\0';
  char *end;
  double x = strtod(tmp, &end);
  int ok = end == tmp + n;
  if (tmp != buf) free(tmp);
  if (!ok) return ER_TOK_NAN;
  *v = x;
  return ER_TOK_OK;
}

/* Short printable excerpt of a token for messages. */
#define TOK_FMT "'%.*s'"
#define TOK_ARG(b, e) (int)((e) - (b) > 40 ? 40 : (e) - (b)), (b)

//------------------------------------------------------------------------------------------
// Line cursor over a chunk
//------------------------------------------------------------------------------------------

typedef struct {
  const er_text_chunk *c;
  const char *next, *stop; /* start of the next line; end of the chunk */
  int64_t lineno;          /* number of the current line */
  const char *line, *end;  /* rest of the current line, without '\n' and a trailing '\r' */
  int fields_done;         /* cur_field: the line's last field was handed out */
  er_text_stop *where;
} cursor;

static void cur_init(cursor *t, const er_text_chunk *c, er_text_stop *where) {
  t->c = c;
  t->next = c->buf;
  t->stop = c->buf + c->len;
  t->lineno = c->line0 - 1;
  t->line = t->end = c->buf;
  t->where = where;
  where->line = 0;
  where->entry_kept = 0;
}

static int cur_next_line(cursor *t) {
  if (t->next >= t->stop) return 0;
  t->line = t->next;
  const char *nl = memchr(t->next, '\n', (size_t)(t->stop - t->next));
  t->end = nl ? nl : t->stop;
  t->next = nl ? nl + 1 : t->stop;
  if (t->end > t->line && t->end[-1] == '\r') t->end--;
  t->lineno++;
  t->fields_done = 0;
  return 1;
}

/* Comment lines start with '%' (Matrix Market), or also '#' (the other text inputs). */
#define COMMENT_MM 0
#define COMMENT_ALL 1
static int is_comment(char c, int hash) { return c == '%' || (hash && c == '#'); }

/* Next line holding data: blank lines and comment lines skipped; t->line then points at the
 * first non-blank character. */
static int cur_next_data(cursor *t, int hash) {
  while (cur_next_line(t)) {
    while (t->line < t->end && is_blank(*t->line)) t->line++;
    if (t->line == t->end || is_comment(*t->line, hash)) continue;
    return 1;
  }
  return 0;
}

/* Next blank-separated token of the current line: [*b, *e). 0 when the line is used up. */
static int cur_token(cursor *t, const char **b, const char **e) {
  const char *p = t->line;
  while (p < t->end && is_blank(*p)) ++p;
  if (p == t->end) {
    t->line = p;
    return 0;
  }
  *b = p;
  while (p < t->end && !is_blank(*p)) ++p;
  *e = p;
  t->line = p;
  return 1;
}

/* Next comma-separated field of the current line, blanks around it trimmed (possibly empty).
 * 0 when the line is used up (after its last field). */
static int cur_field(cursor *t, const char **b, const char **e) {
  const char *p = t->line;
  if (t->fields_done) return 0;
  const char *comma = memchr(p, ',', (size_t)(t->end - p));
  const char *fe = comma ? comma : t->end;
  t->line = comma ? comma + 1 : t->end;
  t->fields_done = !comma;
  while (p < fe && is_blank(*p)) ++p;
  while (fe > p && is_blank(fe[-1])) --fe;
  *b = p;
  *e = fe;
  return 1;
}

static er_err cur_error(cursor *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static er_err cur_error(cursor *t, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  t->where->line = t->lineno;
  return ER_ERROR(ER_ERR_INPUT, "%s:%lld: %s", t->c->path, (long long)t->lineno, msg);
}

/* The single token of a one-value-per-line file ('what' names the value for the message). */
static er_err cur_single_token(cursor *t, const char *what, const char **b, const char **e) {
  const char *xb, *xe;
  cur_token(t, b, e);
  if (cur_token(t, &xb, &xe))
    return cur_error(t, "expected one %s per line, found extra token " TOK_FMT, what,
                     TOK_ARG(xb, xe));
  return ER_OK;
}

/* One id token; 1-based ids (Matrix Market) pass base = 1. Errors name the token. */
static er_err cur_id(cursor *t, const char *b, const char *e, int64_t base, int64_t *v,
                     const char *what) {
  int rc = er_tok_i64(b, e, v);
  if (rc == ER_TOK_NAN)
    return cur_error(t, "non-numeric token " TOK_FMT " (expected a %s)", TOK_ARG(b, e), what);
  if (rc == ER_TOK_RANGE) return cur_error(t, "%s " TOK_FMT " is too large", what, TOK_ARG(b, e));
  if (*v < base) {
    if (*v < 0) return cur_error(t, "negative %s %lld", what, (long long)*v);
    return cur_error(t, "%s %lld is invalid: Matrix Market indices are 1-based", what,
                     (long long)*v);
  }
  *v -= base;
  return ER_OK;
}

/* Fast path of the common lines: an unsigned decimal of at most 18 digits at *p, followed by a
 * blank or the end of the line. 0 (nothing consumed) for anything else: the general path then
 * parses the line and gives the message. */
static int fast_uint(const char **p, const char *end, int64_t *v) {
  const char *q = *p;
  uint64_t x = 0;
  while (q < end && (unsigned)(*q - '0') <= 9 && q - *p < 18) x = x * 10 + (uint64_t)(*q++ - '0');
  if (q == *p || (q < end && !is_blank(*q))) return 0;
  *v = (int64_t)x;
  *p = q;
  return 1;
}

static const char *skip_blanks(const char *p, const char *end) {
  while (p < end && is_blank(*p)) ++p;
  return p;
}

//------------------------------------------------------------------------------------------
// Counting
//------------------------------------------------------------------------------------------

void er_text_count(const char *buf, size_t len, er_item_kind kind, int64_t *lines,
                   int64_t *items) {
  const char *p = buf, *end = buf + len;
  int64_t nl = 0, it = 0;
  if (kind == ER_ITEM_NONE || kind == ER_ITEM_LINE) {
    for (size_t i = 0; i < len; ++i) nl += buf[i] == '\n'; /* vectorized */
    if (len && buf[len - 1] != '\n') nl++;               /* a last line without '\n' */
    *lines = nl;
    *items = kind == ER_ITEM_LINE ? nl : 0;
    return;
  }
  const int hash = kind == ER_ITEM_DATA;
  while (p < end) {
    const char *q = memchr(p, '\n', (size_t)(end - p)), *le = q ? q : end;
    nl++;
    while (p < le && is_blank(*p)) ++p;
    if (p < le && !is_comment(*p, hash)) {
      if (kind != ER_ITEM_MM_TOKEN) {
        it++;
      } else {
        while (p < le) {
          while (p < le && is_blank(*p)) ++p;
          if (p == le) break;
          it++;
          while (p < le && !is_blank(*p)) ++p;
        }
      }
    }
    p = q ? q + 1 : end;
  }
  *lines = nl;
  *items = it;
}

//------------------------------------------------------------------------------------------
// Outputs
//------------------------------------------------------------------------------------------

/* Grow *p (of *cap elements of elem bytes) to hold need elements: doubles, at least 1024. */
static er_err grow(void **p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return ER_OK;
  int64_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  void *q = er_fault(ER_FAULT_ALLOC) ? NULL : realloc(*p, (size_t)c * elem);
  if (!q)
    return ER_ERROR(ER_ERR_MEM, "out of memory growing a parse buffer to %lld bytes",
                    (long long)((size_t)c * elem));
  *p = q;
  *cap = c;
  return ER_OK;
}

void er_text_pairs_free(er_text_pairs *p) {
  free(p->uv);
  memset(p, 0, sizeof *p);
}

void er_text_items_init(er_text_items *it, size_t val_size, int keep_line) {
  memset(it, 0, sizeof *it);
  it->val_size = val_size;
  it->keep_line = keep_line;
}

void er_text_items_free(er_text_items *it) {
  free(it->idx);
  free(it->line);
  free(it->val);
  er_text_items_init(it, it->val_size, it->keep_line);
}

er_err er_text_items_reserve(er_text_items *it, int64_t more) {
  er_err err = ER_OK;
  int64_t need = it->n + more;
  if (need <= it->cap) return ER_OK;
  int64_t c = it->cap ? it->cap : 1024;
  while (c < need) c *= 2;
  int64_t c1 = it->cap, c2 = it->cap, c3 = it->cap;
  ER_CALL(grow((void **)&it->idx, &c1, c, sizeof *it->idx));
  if (it->keep_line) ER_CALL(grow((void **)&it->line, &c2, c, sizeof *it->line));
  if (it->val_size) ER_CALL(grow(&it->val, &c3, c, it->val_size));
  it->cap = c;
cleanup:
  return err;
}

er_err er_text_pairs_reserve(er_text_pairs *p, int64_t more) {
  int64_t cap = p->cap;
  er_err err = grow((void **)&p->uv, &cap, p->m + more, 2 * sizeof *p->uv);
  if (err == ER_OK) p->cap = cap;
  return err;
}

er_err er_text_pairs_push(er_text_pairs *out, int64_t u, int64_t v) {
  out->entries++;
  if (u == v) {
    out->self_loops++;
    return ER_OK;
  }
  if (out->m == out->cap) {
    int64_t cap = out->cap;
    er_err err = grow((void **)&out->uv, &cap, out->m + 1, 2 * sizeof *out->uv);
    if (err != ER_OK) return err;
    out->cap = cap;
  }
  out->uv[2 * out->m] = u;
  out->uv[2 * out->m + 1] = v;
  out->m++;
  return ER_OK;
}

/* Append one item (val: val_size bytes or NULL for zeroes); the line is the cursor's. */
static er_err items_push(er_text_items *out, const cursor *t, int64_t idx, const void *val) {
  if (out->n == out->cap) {
    er_err err = er_text_items_reserve(out, 1);
    if (err != ER_OK) return err;
  }
  out->idx[out->n] = idx;
  if (out->keep_line) out->line[out->n] = t->lineno;
  if (out->val_size) {
    char *dst = (char *)out->val + (size_t)out->n * out->val_size;
    if (val) memcpy(dst, val, out->val_size);
    else memset(dst, 0, out->val_size);
  }
  out->n++;
  return ER_OK;
}

//------------------------------------------------------------------------------------------
// Matrix Market header
//------------------------------------------------------------------------------------------

static int tok_is(const char *b, const char *e, const char *word) {
  return (size_t)(e - b) == strlen(word) && strncasecmp(b, word, (size_t)(e - b)) == 0;
}

er_err er_mm_header_parse(const char *path, const char *buf, size_t len, int at_eof,
                          int allow_sym, er_mm_header *h, int *complete, int64_t *data_off,
                          int64_t *data_line) {
  er_text_stop where;
  er_text_chunk c = {.path = path, .buf = buf, .len = len, .line0 = 1};
  cursor t;
  const char *b[5], *e[5], *xb, *xe;
  int n = 0;
  memset(h, 0, sizeof *h);
  *complete = 0;
  /* every line looked at must be whole: otherwise ask for more bytes */
#define WHOLE_LINE() (at_eof || t.next[-1] == '\n')
  cur_init(&t, &c, &where);
  if (!cur_next_line(&t)) {
    if (!at_eof) return ER_OK;
  } else if (!WHOLE_LINE()) {
    return ER_OK;
  }
  *complete = 1;
  if (len < strlen(ER_MM_BANNER) || strncmp(buf, ER_MM_BANNER, strlen(ER_MM_BANNER)) != 0) {
    t.lineno = 1;
    return cur_error(&t, "not a Matrix Market file: the first line must start with '%s'",
                     ER_MM_BANNER);
  }
  while (n < 5 && cur_token(&t, &b[n], &e[n])) ++n;
  const char *expect = allow_sym ? "'%%MatrixMarket matrix coordinate|array real|integer|pattern "
                                   "general|symmetric'"
                                 : "'%%MatrixMarket matrix coordinate|array real|integer|pattern "
                                   "general'";
  if (n < 5 || cur_token(&t, &xb, &xe) || !tok_is(b[0], e[0], ER_MM_BANNER))
    return cur_error(&t, "malformed Matrix Market header (expected %s)", expect);
  if (!tok_is(b[1], e[1], "matrix"))
    return cur_error(&t, "unsupported Matrix Market object " TOK_FMT " (expected 'matrix')",
                     TOK_ARG(b[1], e[1]));
  if (tok_is(b[2], e[2], "coordinate")) h->coordinate = 1;
  else if (tok_is(b[2], e[2], "array")) h->coordinate = 0;
  else
    return cur_error(&t, "unsupported Matrix Market format " TOK_FMT
                     " (expected 'coordinate' or 'array')", TOK_ARG(b[2], e[2]));
  if (tok_is(b[3], e[3], "real")) h->field = ER_MM_REAL;
  else if (tok_is(b[3], e[3], "integer")) h->field = ER_MM_INTEGER;
  else if (tok_is(b[3], e[3], "pattern") && h->coordinate) h->field = ER_MM_PATTERN;
  else
    return cur_error(&t, "unsupported Matrix Market field " TOK_FMT " (expected %s)",
                     TOK_ARG(b[3], e[3]),
                     h->coordinate ? "'real', 'integer' or 'pattern'" : "'real' or 'integer'");
  if (tok_is(b[4], e[4], "general")) h->symmetric = 0;
  else if (allow_sym && tok_is(b[4], e[4], "symmetric")) h->symmetric = 1;
  else
    return cur_error(&t, "unsupported Matrix Market symmetry " TOK_FMT " (expected %s)",
                     TOK_ARG(b[4], e[4]), allow_sym ? "'general' or 'symmetric'" : "'general'");
  // size line: "rows cols nnz" (coordinate) or "rows cols" (array)
  for (;;) {
    if (!cur_next_line(&t)) {
      if (!at_eof) goto more;
      return cur_error(&t, "Matrix Market size line is missing");
    }
    if (!WHOLE_LINE()) goto more;
    while (t.line < t.end && is_blank(*t.line)) t.line++;
    if (t.line < t.end && *t.line != '%') break;
  }
  int want = h->coordinate ? 3 : 2;
  int64_t v[3] = {0, 0, 0};
  for (int i = 0; i < want; ++i) {
    const char *tb, *te;
    if (!cur_token(&t, &tb, &te))
      return cur_error(&t, "Matrix Market size line needs %s",
                       h->coordinate ? "'rows cols entries'" : "'rows cols'");
    int rc = er_tok_i64(tb, te, &v[i]);
    if (rc != ER_TOK_OK || v[i] < 0)
      return cur_error(&t, "bad Matrix Market size " TOK_FMT, TOK_ARG(tb, te));
  }
  if (cur_token(&t, &xb, &xe))
    return cur_error(&t, "Matrix Market size line has extra token " TOK_FMT, TOK_ARG(xb, xe));
  if (v[0] < 1 || v[1] < 1)
    return cur_error(&t, "Matrix Market size %lld x %lld is empty", (long long)v[0],
                     (long long)v[1]);
  if (v[0] > ER_TEXT_MAX_NODES || v[1] > ER_TEXT_MAX_NODES)
    return cur_error(&t, "Matrix Market size %lld x %lld is too large", (long long)v[0],
                     (long long)v[1]);
  h->rows = v[0];
  h->cols = v[1];
  h->nnz = v[2];
  *data_off = (int64_t)(t.next - buf);
  *data_line = t.lineno + 1;
  return ER_OK;
more:
  *complete = 0;
  memset(h, 0, sizeof *h);
  return ER_OK;
#undef WHOLE_LINE
}

//------------------------------------------------------------------------------------------
// Edges
//------------------------------------------------------------------------------------------

er_err er_text_parse_edge_list(const er_text_chunk *c, int csv, int64_t n, const char *fpath,
                               er_text_pairs *out, er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  cur_init(&t, c, stop);
  while (cur_next_data(&t, COMMENT_ALL)) {
    const char *tb[2], *te[2], *xb, *xe, *q = t.line;
    int got = 0;
    int64_t u, v;
    if (!csv && fast_uint(&q, t.end, &u) && q < t.end && fast_uint((q = skip_blanks(q, t.end), &q),
                                                                     t.end, &v) &&
        skip_blanks(q, t.end) == t.end && u < n && v < n) {
      ER_CALL(er_text_pairs_push(out, u, v));
      continue;
    }
    if (csv) {
      while (got < 2 && cur_field(&t, &tb[got], &te[got])) ++got;
      if (got < 2 || cur_field(&t, &xb, &xe))
        return cur_error(&t, "expected two node ids 'u,v'");
    } else {
      while (got < 2 && cur_token(&t, &tb[got], &te[got])) ++got;
      if (got < 2 || cur_token(&t, &xb, &xe)) return cur_error(&t, "expected two node ids 'u v'");
    }
    ER_CALL(cur_id(&t, tb[0], te[0], 0, &u, "node id"));
    ER_CALL(cur_id(&t, tb[1], te[1], 0, &v, "node id"));
    if (u >= n || v >= n)
      return cur_error(&t,
                       "node id %lld is beyond the node count N=%lld (the rows of the "
                       "features file '%s'): ids must be 0..N-1",
                       (long long)(u >= n ? u : v), (long long)n, fpath);
    ER_CALL(er_text_pairs_push(out, u, v));
  }
cleanup:
  return err;
}

/* The coordinate entry on the current data line, k entries before it in the file: checks the
 * count against the size line and the position against the shape; *i, *j are 0-based and
 * [*vb, *ve) is the value token (NULL for pattern). */
static er_err mm_entry(cursor *t, const er_mm_header *h, int64_t k, int64_t *i, int64_t *j,
                       const char **vbp, const char **vep) {
  er_err err = ER_OK;
  const char *tb[3], *te[3], *xb, *xe, *q = t->line;
  int want = h->field == ER_MM_PATTERN ? 2 : 3, got = 0;
  if (k < h->nnz && fast_uint(&q, t->end, i) && *i >= 1 && *i <= h->rows &&
      (q = skip_blanks(q, t->end), fast_uint(&q, t->end, j)) && *j >= 1 && *j <= h->cols) {
    q = skip_blanks(q, t->end);
    const char *vb = q;
    while (q < t->end && !is_blank(*q)) ++q;
    if ((want == 2) == (vb == q) && skip_blanks(q, t->end) == t->end) {
      *i -= 1;
      *j -= 1;
      *vbp = want == 3 ? vb : NULL;
      *vep = want == 3 ? q : NULL;
      return ER_OK;
    }
  }
  while (got < want && cur_token(t, &tb[got], &te[got])) ++got;
  if (got < want || cur_token(t, &xb, &xe))
    return cur_error(t, "expected %s", want == 2 ? "'row col'" : "'row col value'");
  if (k >= h->nnz)
    return cur_error(t, "more entries than the %lld declared in the size line",
                     (long long)h->nnz);
  ER_CALL(cur_id(t, tb[0], te[0], 1, i, "row index"));
  ER_CALL(cur_id(t, tb[1], te[1], 1, j, "column index"));
  if (*i >= h->rows || *j >= h->cols)
    return cur_error(t, "entry (%lld, %lld) is outside the declared %lld x %lld shape",
                     (long long)*i + 1, (long long)*j + 1, (long long)h->rows,
                     (long long)h->cols);
  *vbp = want == 3 ? tb[2] : NULL;
  *vep = want == 3 ? te[2] : NULL;
cleanup:
  return err;
}

er_err er_text_parse_mm_edges(const er_text_chunk *c, const er_mm_header *h,
                              er_text_pairs *out, er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  cur_init(&t, c, stop);
  for (int64_t k = c->item0; cur_next_data(&t, COMMENT_MM); ++k) {
    int64_t i, j;
    const char *vb, *ve;
    double val;
    ER_CALL(mm_entry(&t, h, k, &i, &j, &vb, &ve));
    if (vb && er_tok_f64(vb, ve, &val) != ER_TOK_OK)
      return cur_error(&t, "non-numeric token " TOK_FMT " (expected an entry value)",
                       TOK_ARG(vb, ve));
    ER_CALL(er_text_pairs_push(out, i, j)); /* every stored entry is an edge, whatever its value */
  }
cleanup:
  return err;
}

//------------------------------------------------------------------------------------------
// Features
//------------------------------------------------------------------------------------------

/* A feature value token at (i, j) (0-based) into *out; integer: the field is 'integer'. */
static er_err feature_value(cursor *t, int integer, const char *b, const char *e, int64_t i,
                            int64_t j, float *out) {
  double v;
  if (integer) {
    int64_t iv;
    int rc = er_tok_i64(b, e, &iv);
    if (rc == ER_TOK_NAN)
      return cur_error(t, "non-numeric token " TOK_FMT " (expected an integer feature value)",
                       TOK_ARG(b, e));
    if (rc == ER_TOK_RANGE) return cur_error(t, "integer " TOK_FMT " is too large", TOK_ARG(b, e));
    v = (double)iv;
  } else if (er_tok_f64(b, e, &v) != ER_TOK_OK) {
    return cur_error(t, "non-numeric token " TOK_FMT " (expected a feature value)", TOK_ARG(b, e));
  }
  if (!isfinite(v))
    return cur_error(t, "feature value " TOK_FMT " at row %lld, column %lld is NaN or Inf",
                     TOK_ARG(b, e), (long long)i + 1, (long long)j + 1);
  if (fabs(v) > FLT_MAX)
    return cur_error(t, "feature value " TOK_FMT " at row %lld, column %lld overflows float32",
                     TOK_ARG(b, e), (long long)i + 1, (long long)j + 1);
  *out = (float)v;
  return ER_OK;
}

er_err er_text_parse_mm_cells(const er_text_chunk *c, const er_mm_header *h, er_text_items *out,
                              er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  cur_init(&t, c, stop);
  for (int64_t k = c->item0; cur_next_data(&t, COMMENT_MM); ++k) {
    int64_t i, j;
    const char *vb, *ve;
    float x = 1.0f;
    ER_CALL(mm_entry(&t, h, k, &i, &j, &vb, &ve));
    er_err verr = vb ? feature_value(&t, h->field == ER_MM_INTEGER, vb, ve, i, j, &x) : ER_OK;
    /* the cell is stored even when its value is bad: a duplicate on this line comes first */
    ER_CALL(items_push(out, &t, i * h->cols + j, verr == ER_OK ? &x : NULL));
    if (verr != ER_OK) {
      stop->entry_kept = 1;
      return verr;
    }
  }
cleanup:
  return err;
}

er_err er_text_parse_mm_array(const er_text_chunk *c, const er_mm_header *h, er_text_items *out,
                              er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  const int64_t total = h->rows * h->cols;
  int64_t k = c->item0;
  cur_init(&t, c, stop);
  while (cur_next_data(&t, COMMENT_MM)) {
    const char *b, *e;
    while (cur_token(&t, &b, &e)) {
      if (k >= total)
        return cur_error(&t, "more values than the declared %lld x %lld array",
                         (long long)h->rows, (long long)h->cols);
      int64_t i = k % h->rows, j = k / h->rows; /* column-major */
      float x;
      ER_CALL(feature_value(&t, h->field == ER_MM_INTEGER, b, e, i, j, &x));
      ER_CALL(items_push(out, &t, i * h->cols + j, &x));
      ++k;
    }
  }
cleanup:
  return err;
}

er_err er_text_parse_csv_rows(const er_text_chunk *c, int64_t n, int64_t f, er_text_items *out,
                              er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  float *row = NULL;
  int64_t node = c->item0;
  cur_init(&t, c, stop);
  ER_MALLOC(row, f);
  for (; cur_next_line(&t); ++node) {
    if (node >= n) {
      err = cur_error(&t, "more rows than the N=%lld nodes", (long long)n);
      goto cleanup;
    }
    const char *b, *e, *p = t.line;
    while (p < t.end && is_blank(*p)) ++p;
    if (p == t.end) {
      err = cur_error(&t, "empty line (expected a row of %lld comma-separated values)",
                      (long long)f);
      goto cleanup;
    }
    int64_t j = 0;
    while (cur_field(&t, &b, &e)) {
      if (j < f) ER_CALL(feature_value(&t, 0, b, e, node, j, &row[j]));
      ++j;
    }
    if (j != f) {
      err = cur_error(&t, "expected %lld comma-separated values (as on the first row), found "
                      "%lld", (long long)f, (long long)j);
      goto cleanup;
    }
    ER_CALL(items_push(out, &t, node, row));
  }
cleanup:
  free(row);
  return err;
}

int64_t er_text_csv_columns(const char *buf, size_t len, int at_eof, int *complete) {
  const char *nl = memchr(buf, '\n', len), *end = nl ? nl : buf + len;
  *complete = nl || at_eof;
  const char *p = buf;
  while (p < end && is_blank(*p)) ++p;
  if (p == end) return 0;
  int64_t cols = 1;
  for (; p < end; ++p) cols += *p == ',';
  return cols;
}

//------------------------------------------------------------------------------------------
// Labels and node ids
//------------------------------------------------------------------------------------------

/* An OGB label field: empty or NaN = -1; an integer, or a real with an integral value. */
static er_err ogb_label(cursor *t, const char *b, const char *e, int64_t *v) {
  double x;
  if (b == e || tok_is(b, e, "nan")) {
    *v = -1;
    return ER_OK;
  }
  int rc = er_tok_i64(b, e, v);
  if (rc == ER_TOK_OK) return ER_OK;
  if (rc == ER_TOK_NAN && er_tok_f64(b, e, &x) == ER_TOK_OK && x == floor(x)) {
    *v = fabs(x) < 1e18 ? (int64_t)x : INT64_MAX; /* too large: invalid */
    return ER_OK;
  }
  if (rc == ER_TOK_RANGE) {
    *v = INT64_MAX; /* rejected as invalid by the caller */
    return ER_OK;
  }
  return cur_error(t, "non-numeric token " TOK_FMT " (expected an integer label)", TOK_ARG(b, e));
}

er_err er_text_parse_labels(const er_text_chunk *c, int ogb, int64_t n, int64_t classes,
                            er_text_items *out, er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  int64_t node = c->item0;
  cur_init(&t, c, stop);
  for (; ogb ? cur_next_line(&t) : cur_next_data(&t, COMMENT_ALL); ++node) {
    const char *b = NULL, *e = NULL;
    int64_t v = 0;
    int rc = ER_TOK_OK;
    if (ogb) {
      const char *xb, *xe;
      while (t.line < t.end && is_blank(*t.line)) t.line++;
      b = e = t.line;
      if (cur_token(&t, &b, &e) && cur_token(&t, &xb, &xe))
        return cur_error(&t, "expected one label per line, found extra token " TOK_FMT,
                         TOK_ARG(xb, xe));
      ER_CALL(ogb_label(&t, b, e, &v));
      if (v == INT64_MAX) rc = ER_TOK_RANGE;
    } else {
      ER_CALL(cur_single_token(&t, "label", &b, &e));
      rc = er_tok_i64(b, e, &v);
      if (rc == ER_TOK_NAN)
        return cur_error(&t, "non-numeric token " TOK_FMT " (expected an integer label)",
                         TOK_ARG(b, e));
    }
    if (rc == ER_TOK_RANGE || v > INT32_MAX - 1 || v < -1)
      return cur_error(&t, "label " TOK_FMT " is invalid (use -1 for unknown, else 0..K-1)",
                       TOK_ARG(b, e));
    if (classes > 0 && v >= classes)
      return cur_error(&t, "label %lld is outside [0, %lld) given by --classes %lld",
                       (long long)v, (long long)classes, (long long)classes);
    if (node >= n)
      return ogb ? cur_error(&t, "more labels than the N=%lld nodes", (long long)n)
                 : cur_error(&t, "more labels than the %lld feature rows", (long long)n);
    int32_t y = (int32_t)v;
    ER_CALL(items_push(out, &t, node, &y));
  }
cleanup:
  return err;
}

er_err er_text_parse_ids(const er_text_chunk *c, int64_t n, er_text_items *out,
                         er_text_stop *stop) {
  er_err err = ER_OK;
  cursor t;
  cur_init(&t, c, stop);
  while (cur_next_data(&t, COMMENT_ALL)) {
    const char *b = NULL, *e = NULL;
    int64_t v;
    ER_CALL(cur_single_token(&t, "node id", &b, &e));
    ER_CALL(cur_id(&t, b, e, 0, &v, "node id"));
    if (v >= n)
      return cur_error(&t, "node id %lld is out of range: the graph has N=%lld nodes",
                       (long long)v, (long long)n);
    ER_CALL(items_push(out, &t, v, NULL));
  }
cleanup:
  return err;
}
