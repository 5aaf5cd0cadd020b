/* import.c: `erase-mpi import`: parse edge list / Matrix Market / label / split text files on
 * rank 0, build a symmetric sorted CSR and write the one-file HDF5 dataset (docs/FORMAT.md).
 * It does not partition, normalize features or fix bad input: any problem is a one-line error. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/sort.h"

/* Sizes far beyond any graph this code is meant for; they keep N*F and ids in range. */
#define IMP_MAX_NODES ((int64_t)1 << 40)
#define IMP_MAX_DENSE ((int64_t)1 << 40) /* N * F feature cells */

//------------------------------------------------------------------------------------------
// Text files: whole-file read, line iteration, hand-rolled number scanning
//------------------------------------------------------------------------------------------

typedef struct {
  const char *path;
  char *buf;      /* whole file, NUL terminated */
  size_t len;
  size_t pos;     /* offset of the next line */
  int64_t lineno; /* number of the current line (1-based) */
  char *line;     /* current line, [line, end) without the newline */
  char *end;
} text_file;

static er_err text_error(const text_file *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static er_err text_error(const text_file *t, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ER_ERROR(ER_ERR_INPUT, "%s:%lld: %s", t->path, (long long)t->lineno, msg);
}

static void text_close(text_file *t) {
  free(t->buf);
  t->buf = NULL;
}

/* Read the whole file; missing, unreadable, non-regular and empty files are input errors. */
static er_err text_open(text_file *t, const char *path, const char *what) {
  er_err err = ER_OK;
  int fd = -1;
  struct stat st;
  memset(t, 0, sizeof *t);
  t->path = path;
  fd = open(path, O_RDONLY);
  ER_CHECK(fd >= 0, ER_ERR_INPUT, "cannot open %s file '%s': %s", what, path, strerror(errno));
  ER_CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), ER_ERR_INPUT,
           "%s file '%s' is not a regular file", what, path);
  ER_CHECK(st.st_size > 0, ER_ERR_INPUT, "%s file '%s' is empty", what, path);
  t->len = (size_t)st.st_size;
  ER_MALLOC(t->buf, t->len + 1);
  size_t got = 0;
  while (got < t->len) {
    ssize_t r = read(fd, t->buf + got, t->len - got);
    if (r < 0 && errno == EINTR) continue;
    ER_CHECK(r > 0, ER_ERR_IO, "reading %s file '%s' failed: %s", what, path,
             r < 0 ? strerror(errno) : "file shrank while reading");
    got += (size_t)r;
  }
  t->buf[t->len] = '\0';
  size_t i = 0;
  while (i < t->len && isspace((unsigned char)t->buf[i])) ++i;
  ER_CHECK(i < t->len, ER_ERR_INPUT, "%s file '%s' is empty", what, path);
cleanup:
  if (fd >= 0) close(fd);
  if (err != ER_OK) text_close(t);
  return err;
}

/* Advance to the next line; 0 at end of file. */
static int text_next_line(text_file *t) {
  if (t->pos >= t->len) return 0;
  t->line = t->buf + t->pos;
  char *nl = memchr(t->line, '\n', t->len - t->pos);
  t->end = nl ? nl : t->buf + t->len;
  t->pos = (size_t)(t->end - t->buf) + 1;
  if (t->end > t->line && t->end[-1] == '\r') t->end--;
  t->lineno++;
  return 1;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Advance to the next line holding data: blank lines and lines whose first non-blank character
 * is in comment_chars are skipped. t->line then points at the first non-blank character. */
static int text_next_data(text_file *t, const char *comment_chars) {
  while (text_next_line(t)) {
    while (t->line < t->end && is_blank(*t->line)) t->line++;
    if (t->line == t->end || strchr(comment_chars, *t->line)) continue;
    return 1;
  }
  return 0;
}

/* Next whitespace-separated token of the current line: [*b, *e). 0 when the line is used up. */
static int text_token(text_file *t, char **b, char **e) {
  char *p = t->line;
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

enum { TOK_OK = 0, TOK_NAN = 1, TOK_RANGE = 2 };

/* Decimal integer with optional sign, the whole token. */
static int tok_i64(const char *b, const char *e, int64_t *v) {
  int neg = 0;
  if (b < e && (*b == '-' || *b == '+')) neg = *b++ == '-';
  if (b == e) return TOK_NAN;
  uint64_t x = 0;
  for (; b < e; ++b) {
    unsigned d = (unsigned)(*b - '0');
    if (d > 9) return TOK_NAN;
    if (x > ((uint64_t)INT64_MAX - d) / 10) return TOK_RANGE;
    x = x * 10 + d;
  }
  *v = neg ? -(int64_t)x : (int64_t)x;
  return TOK_OK;
}

/* Floating-point token (the whole token). Plain decimals with at most 15 significant digits
 * take an exact fast path (mantissa / 10^k, both exact in double, one correctly rounded
 * division: the same result strtod gives); anything else goes through strtod. */
static int tok_f64(const char *b, const char *e, double *v) {
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
    return TOK_OK;
  }
  char tmp[128];
  size_t n = (size_t)(e - b);
  if (n >= sizeof tmp) return TOK_NAN;
  memcpy(tmp, b, n);
  tmp[n] = '\0';
  char *end;
  errno = 0;
  double x = strtod(tmp, &end);
  if (end != tmp + n || n == 0) return TOK_NAN;
  *v = x;
  return TOK_OK;
}

/* Short printable excerpt of a token for messages. */
#define TOK_FMT "'%.*s'"
#define TOK_ARG(b, e) (int)((e) - (b) > 40 ? 40 : (e) - (b)), (b)

/* The single token of a one-value-per-line file ('what' names the value for the message). */
static er_err text_single_token(text_file *t, const char *what, char **b, char **e) {
  char *xb, *xe;
  text_token(t, b, e);
  if (text_token(t, &xb, &xe))
    return text_error(t, "expected one %s per line, found extra token " TOK_FMT, what,
                      TOK_ARG(xb, xe));
  return ER_OK;
}

/* Parse one id token; 1-based ids (Matrix Market) pass base = 1. Errors name the token. */
static er_err parse_id(text_file *t, const char *b, const char *e, int64_t base, int64_t *v,
                       const char *what) {
  int rc = tok_i64(b, e, v);
  if (rc == TOK_NAN) return text_error(t, "non-numeric token " TOK_FMT " (expected a %s)",
                                       TOK_ARG(b, e), what);
  if (rc == TOK_RANGE) return text_error(t, "%s " TOK_FMT " is too large", what, TOK_ARG(b, e));
  if (*v < base) {
    if (*v < 0) return text_error(t, "negative %s %lld", what, (long long)*v);
    return text_error(t, "%s %lld is invalid: Matrix Market indices are 1-based", what,
                      (long long)*v);
  }
  *v -= base;
  return ER_OK;
}

//------------------------------------------------------------------------------------------
// Matrix Market header
//------------------------------------------------------------------------------------------

enum { MM_REAL = 0, MM_INTEGER = 1, MM_PATTERN = 2 };

typedef struct {
  int coordinate; /* 1 coordinate, 0 array */
  int field;      /* MM_* */
  int symmetric;  /* 1 symmetric, 0 general */
  int64_t rows, cols, nnz;
} mm_header;

#define MM_BANNER "%%MatrixMarket"

static int starts_with_banner(const text_file *t) {
  return t->len >= strlen(MM_BANNER) && strncmp(t->buf, MM_BANNER, strlen(MM_BANNER)) == 0;
}

static int tok_is(const char *b, const char *e, const char *word) {
  return (size_t)(e - b) == strlen(word) && strncasecmp(b, word, (size_t)(e - b)) == 0;
}

/* Read the banner line and the size line. allow_sym: whether 'symmetric' is accepted. */
static er_err mm_read_header(text_file *t, int allow_sym, mm_header *h) {
  er_err err = ER_OK;
  char *b[5], *e[5];
  int n = 0;
  memset(h, 0, sizeof *h);
  if (!text_next_line(t) || !starts_with_banner(t))
    return text_error(t, "not a Matrix Market file: the first line must start with '%s'",
                      MM_BANNER);
  while (n < 5 && text_token(t, &b[n], &e[n])) ++n;
  char *xb, *xe;
  const char *expect = allow_sym ? "'%%MatrixMarket matrix coordinate|array real|integer|pattern "
                                   "general|symmetric'"
                                 : "'%%MatrixMarket matrix coordinate|array real|integer|pattern "
                                   "general'";
  if (n < 5 || text_token(t, &xb, &xe) || !tok_is(b[0], e[0], MM_BANNER))
    return text_error(t, "malformed Matrix Market header (expected %s)", expect);
  if (!tok_is(b[1], e[1], "matrix"))
    return text_error(t, "unsupported Matrix Market object " TOK_FMT " (expected 'matrix')",
                      TOK_ARG(b[1], e[1]));
  if (tok_is(b[2], e[2], "coordinate")) h->coordinate = 1;
  else if (tok_is(b[2], e[2], "array")) h->coordinate = 0;
  else
    return text_error(t, "unsupported Matrix Market format " TOK_FMT
                      " (expected 'coordinate' or 'array')", TOK_ARG(b[2], e[2]));
  if (tok_is(b[3], e[3], "real")) h->field = MM_REAL;
  else if (tok_is(b[3], e[3], "integer")) h->field = MM_INTEGER;
  else if (tok_is(b[3], e[3], "pattern") && h->coordinate) h->field = MM_PATTERN;
  else
    return text_error(t, "unsupported Matrix Market field " TOK_FMT " (expected %s)",
                      TOK_ARG(b[3], e[3]),
                      h->coordinate ? "'real', 'integer' or 'pattern'" : "'real' or 'integer'");
  if (tok_is(b[4], e[4], "general")) h->symmetric = 0;
  else if (allow_sym && tok_is(b[4], e[4], "symmetric")) h->symmetric = 1;
  else
    return text_error(t, "unsupported Matrix Market symmetry " TOK_FMT " (expected %s)",
                      TOK_ARG(b[4], e[4]), allow_sym ? "'general' or 'symmetric'" : "'general'");
  // size line: "rows cols nnz" (coordinate) or "rows cols" (array)
  if (!text_next_data(t, "%"))
    return text_error(t, "Matrix Market size line is missing");
  int want = h->coordinate ? 3 : 2;
  int64_t v[3] = {0, 0, 0};
  for (int i = 0; i < want; ++i) {
    char *tb, *te;
    if (!text_token(t, &tb, &te))
      return text_error(t, "Matrix Market size line needs %s",
                        h->coordinate ? "'rows cols entries'" : "'rows cols'");
    int rc = tok_i64(tb, te, &v[i]);
    if (rc != TOK_OK || v[i] < 0)
      return text_error(t, "bad Matrix Market size " TOK_FMT, TOK_ARG(tb, te));
  }
  if (text_token(t, &xb, &xe))
    return text_error(t, "Matrix Market size line has extra token " TOK_FMT, TOK_ARG(xb, xe));
  if (v[0] < 1 || v[1] < 1)
    return text_error(t, "Matrix Market size %lld x %lld is empty", (long long)v[0],
                      (long long)v[1]);
  if (v[0] > IMP_MAX_NODES || v[1] > IMP_MAX_NODES)
    return text_error(t, "Matrix Market size %lld x %lld is too large", (long long)v[0],
                      (long long)v[1]);
  h->rows = v[0];
  h->cols = v[1];
  h->nnz = v[2];
  return err;
}

/* The coordinate entry on the current data line: k entries came before it. Reads 'row col' or
 * 'row col value' (pattern or not), checks the count against the size line and the position
 * against the declared shape; *i, *j are 0-based and [*vb, *ve) is the value token, if any. */
static er_err mm_entry(text_file *t, const mm_header *h, int64_t k, int64_t *i, int64_t *j,
                       char **vb, char **ve) {
  er_err err = ER_OK;
  char *tb[3], *te[3], *xb, *xe;
  int want = h->field == MM_PATTERN ? 2 : 3, got = 0;
  while (got < want && text_token(t, &tb[got], &te[got])) ++got;
  if (got < want || text_token(t, &xb, &xe))
    return text_error(t, "expected %s", want == 2 ? "'row col'" : "'row col value'");
  if (k >= h->nnz)
    return text_error(t, "more entries than the %lld declared in the size line",
                      (long long)h->nnz);
  ER_CALL(parse_id(t, tb[0], te[0], 1, i, "row index"));
  ER_CALL(parse_id(t, tb[1], te[1], 1, j, "column index"));
  if (*i >= h->rows || *j >= h->cols)
    return text_error(t, "entry (%lld, %lld) is outside the declared %lld x %lld shape",
                      (long long)*i + 1, (long long)*j + 1, (long long)h->rows,
                      (long long)h->cols);
  *vb = want == 3 ? tb[2] : NULL;
  *ve = want == 3 ? te[2] : NULL;
cleanup:
  return err;
}

//------------------------------------------------------------------------------------------
// Features: Matrix Market coordinate or array -> dense (N, F) float32
//------------------------------------------------------------------------------------------

static er_err parse_value(text_file *t, const mm_header *h, const char *b, const char *e,
                          int64_t i, int64_t j, float *out) {
  double v;
  if (h->field == MM_INTEGER) {
    int64_t iv;
    int rc = tok_i64(b, e, &iv);
    if (rc == TOK_NAN)
      return text_error(t, "non-numeric token " TOK_FMT " (expected an integer feature value)",
                        TOK_ARG(b, e));
    if (rc == TOK_RANGE) return text_error(t, "integer " TOK_FMT " is too large", TOK_ARG(b, e));
    v = (double)iv;
  } else if (tok_f64(b, e, &v) != TOK_OK) {
    return text_error(t, "non-numeric token " TOK_FMT " (expected a feature value)",
                      TOK_ARG(b, e));
  }
  if (!isfinite(v))
    return text_error(t, "feature value " TOK_FMT " at row %lld, column %lld is NaN or Inf",
                      TOK_ARG(b, e), (long long)i + 1, (long long)j + 1);
  if (fabs(v) > FLT_MAX)
    return text_error(t, "feature value " TOK_FMT " at row %lld, column %lld overflows float32",
                      TOK_ARG(b, e), (long long)i + 1, (long long)j + 1);
  *out = (float)v;
  return ER_OK;
}

/* Reads the feature matrix; *n and *f are its shape, *x (caller frees) row-major. */
static er_err parse_features(const char *path, int64_t *n, int64_t *f, float **x) {
  er_err err = ER_OK;
  text_file t;
  mm_header h;
  float *xv = NULL;
  uint8_t *seen = NULL;
  ER_CALL(text_open(&t, path, "features"));
  ER_CALL(mm_read_header(&t, 0, &h));
  ER_CHECK(h.rows <= IMP_MAX_DENSE / h.cols, ER_ERR_INPUT,
           "%s: %lld x %lld features are too many for a dense matrix", path, (long long)h.rows,
           (long long)h.cols);
  ER_CALLOC(xv, h.rows * h.cols);
  if (h.coordinate) {
    ER_CHECK(h.nnz <= h.rows * h.cols, ER_ERR_INPUT,
             "%s:%lld: %lld entries declared but a %lld x %lld matrix has only %lld cells", path,
             (long long)t.lineno, (long long)h.nnz, (long long)h.rows, (long long)h.cols,
             (long long)(h.rows * h.cols));
    ER_CALLOC(seen, (h.rows * h.cols + 7) / 8);
    int64_t k = 0;
    for (; text_next_data(&t, "%"); ++k) {
      int64_t i, j;
      char *vb, *ve;
      ER_CALL(mm_entry(&t, &h, k, &i, &j, &vb, &ve));
      int64_t cell = i * h.cols + j;
      if (seen[cell >> 3] & (1u << (cell & 7))) {
        err = text_error(&t, "duplicate entry (%lld, %lld)", (long long)i + 1, (long long)j + 1);
        goto cleanup;
      }
      seen[cell >> 3] |= (uint8_t)(1u << (cell & 7));
      if (vb) ER_CALL(parse_value(&t, &h, vb, ve, i, j, &xv[cell]));
      else xv[cell] = 1.0f;
    }
    ER_CHECK(k == h.nnz, ER_ERR_INPUT, "%s: file ends after %lld of the %lld declared entries",
             path, (long long)k, (long long)h.nnz);
  } else {
    int64_t k = 0, total = h.rows * h.cols;
    char *b, *e;
    while (text_next_data(&t, "%")) {
      while (text_token(&t, &b, &e)) {
        if (k >= total) {
          err = text_error(&t, "more values than the declared %lld x %lld array",
                           (long long)h.rows, (long long)h.cols);
          goto cleanup;
        }
        int64_t i = k % h.rows, j = k / h.rows; /* column-major */
        ER_CALL(parse_value(&t, &h, b, e, i, j, &xv[i * h.cols + j]));
        ++k;
      }
    }
    ER_CHECK(k == total, ER_ERR_INPUT,
             "%s: file ends after %lld of the %lld values of the declared %lld x %lld array",
             path, (long long)k, (long long)total, (long long)h.rows, (long long)h.cols);
  }
  *n = h.rows;
  *f = h.cols;
  *x = xv;
  xv = NULL;
cleanup:
  free(seen);
  free(xv);
  text_close(&t);
  return err;
}

//------------------------------------------------------------------------------------------
// Labels and splits
//------------------------------------------------------------------------------------------

/* One integer per line, n lines; -1 = unknown. classes = 0: K = max label + 1. */
static er_err parse_labels(const char *path, int64_t n, int64_t classes, int32_t **labels,
                           int64_t *nclass_out) {
  er_err err = ER_OK;
  text_file t;
  int32_t *y = NULL;
  int64_t count = 0, kmax = -1;
  ER_CALL(text_open(&t, path, "labels"));
  ER_MALLOC(y, n);
  while (text_next_data(&t, "#%")) {
    char *b = NULL, *e = NULL;
    int64_t v;
    ER_CALL(text_single_token(&t, "label", &b, &e));
    int rc = tok_i64(b, e, &v);
    if (rc == TOK_NAN) {
      err = text_error(&t, "non-numeric token " TOK_FMT " (expected an integer label)",
                       TOK_ARG(b, e));
      goto cleanup;
    }
    if (rc == TOK_RANGE || v > INT32_MAX - 1 || v < -1) {
      err = text_error(&t, "label " TOK_FMT " is invalid (use -1 for unknown, else 0..K-1)",
                       TOK_ARG(b, e));
      goto cleanup;
    }
    if (classes > 0 && v >= classes) {
      err = text_error(&t, "label %lld is outside [0, %lld) given by --classes %lld",
                       (long long)v, (long long)classes, (long long)classes);
      goto cleanup;
    }
    if (count >= n) {
      err = text_error(&t, "more labels than the %lld feature rows", (long long)n);
      goto cleanup;
    }
    y[count++] = (int32_t)v;
    if (v > kmax) kmax = v;
  }
  ER_CHECK(count == n, ER_ERR_INPUT, "%s: %lld labels but the features have %lld rows", path,
           (long long)count, (long long)n);
  ER_CHECK(kmax >= 0, ER_ERR_INPUT, "%s: no node has a known label (all are -1)", path);
  *nclass_out = classes > 0 ? classes : kmax + 1;
  *labels = y;
  y = NULL;
cleanup:
  free(y);
  text_close(&t);
  return err;
}

static const char *const split_names[3] = {"train", "val", "test"};

/* One node id per line. member[v] (0 = none, s+1 = split s) and where[v] (line) detect repeats
 * within a split and overlaps between splits. Output sorted ascending. */
static er_err parse_split(const char *path, int s, int64_t n, const int32_t *labels,
                          uint8_t *member, int64_t *where, const char *const paths[3],
                          int64_t **ids_out, int64_t *count_out) {
  er_err err = ER_OK;
  text_file t;
  int64_t *ids = NULL, count = 0, cap = 1024;
  ER_CALL(text_open(&t, path, "split"));
  ER_MALLOC(ids, cap);
  while (text_next_data(&t, "#%")) {
    char *b = NULL, *e = NULL;
    int64_t v;
    ER_CALL(text_single_token(&t, "node id", &b, &e));
    ER_CALL(parse_id(&t, b, e, 0, &v, "node id"));
    if (v >= n) {
      err = text_error(&t, "node id %lld is out of range: the graph has N=%lld nodes",
                       (long long)v, (long long)n);
      goto cleanup;
    }
    if (member[v] == s + 1) {
      err = text_error(&t, "node %lld is repeated in the %s split (first at line %lld)",
                       (long long)v, split_names[s], (long long)where[v]);
      goto cleanup;
    }
    if (member[v]) {
      int o = member[v] - 1;
      err = text_error(&t, "node %lld is also in the %s split (%s:%lld); splits must not overlap",
                       (long long)v, split_names[o], paths[o], (long long)where[v]);
      goto cleanup;
    }
    if (labels[v] < 0) {
      err = text_error(&t, "node %lld of the %s split has no label (-1 in the labels file)",
                       (long long)v, split_names[s]);
      goto cleanup;
    }
    member[v] = (uint8_t)(s + 1);
    where[v] = t.lineno;
    if (count == cap) {
      int64_t *grown = realloc(ids, (size_t)(2 * cap) * sizeof *ids);
      ER_CHECK(grown, ER_ERR_MEM, "out of memory reading split '%s'", path);
      ids = grown;
      cap *= 2;
    }
    ids[count++] = v;
  }
  ER_CHECK(count > 0, ER_ERR_INPUT, "%s split file '%s' contains no node ids", split_names[s],
           path);
  er_sort_i64(ids, count);
  *ids_out = ids;
  *count_out = count;
  ids = NULL;
cleanup:
  free(ids);
  text_close(&t);
  return err;
}

//------------------------------------------------------------------------------------------
// Edges: plain list (0-based) or Matrix Market adjacency (1-based) -> pairs
//------------------------------------------------------------------------------------------

typedef struct {
  int64_t *uv; /* (2 * m) endpoint pairs, self loops already dropped */
  int64_t m, cap;
  int64_t entries, self_loops; /* all edge entries read; how many were self loops */
} edge_list;

static er_err edges_push(edge_list *el, int64_t u, int64_t v) {
  el->entries++;
  if (u == v) {
    el->self_loops++;
    return ER_OK;
  }
  if (el->m == el->cap) {
    int64_t cap = el->cap ? 2 * el->cap : 4096;
    int64_t *grown = realloc(el->uv, (size_t)(2 * cap) * sizeof *grown);
    if (!grown) return ER_ERROR(ER_ERR_MEM, "out of memory storing %lld edges", (long long)cap);
    el->uv = grown;
    el->cap = cap;
  }
  el->uv[2 * el->m] = u;
  el->uv[2 * el->m + 1] = v;
  el->m++;
  return ER_OK;
}

static er_err parse_edges(const char *path, int64_t n, const char *fpath, edge_list *el) {
  er_err err = ER_OK;
  text_file t;
  memset(el, 0, sizeof *el);
  ER_CALL(text_open(&t, path, "edge"));
  if (starts_with_banner(&t)) {
    mm_header h;
    ER_CALL(mm_read_header(&t, 1, &h));
    if (!h.coordinate) {
      err = text_error(&t, "adjacency Matrix Market must be 'coordinate', not 'array'");
      goto cleanup;
    }
    if (h.rows != h.cols || h.rows != n) {
      err = text_error(&t, "adjacency is %lld x %lld but the features file '%s' has N=%lld rows",
                       (long long)h.rows, (long long)h.cols, fpath, (long long)n);
      goto cleanup;
    }
    int64_t k = 0;
    for (; text_next_data(&t, "%"); ++k) {
      int64_t i, j;
      char *vb, *ve;
      double val;
      ER_CALL(mm_entry(&t, &h, k, &i, &j, &vb, &ve));
      if (vb && tok_f64(vb, ve, &val) != TOK_OK) {
        err = text_error(&t, "non-numeric token " TOK_FMT " (expected an entry value)",
                         TOK_ARG(vb, ve));
        goto cleanup;
      }
      ER_CALL(edges_push(el, i, j)); /* every stored entry is an edge, whatever its value */
    }
    ER_CHECK(k == h.nnz, ER_ERR_INPUT, "%s: file ends after %lld of the %lld declared entries",
             path, (long long)k, (long long)h.nnz);
  } else {
    while (text_next_data(&t, "#%")) {
      char *tb[2], *te[2], *xb, *xe;
      int got = 0;
      while (got < 2 && text_token(&t, &tb[got], &te[got])) ++got;
      if (got < 2 || text_token(&t, &xb, &xe)) {
        err = text_error(&t, "expected two node ids 'u v'");
        goto cleanup;
      }
      int64_t u, v;
      ER_CALL(parse_id(&t, tb[0], te[0], 0, &u, "node id"));
      ER_CALL(parse_id(&t, tb[1], te[1], 0, &v, "node id"));
      if (u >= n || v >= n) {
        err = text_error(&t,
                         "node id %lld is beyond the node count N=%lld (the rows of the "
                         "features file '%s'): ids must be 0..N-1",
                         (long long)(u >= n ? u : v), (long long)n, fpath);
        goto cleanup;
      }
      ER_CALL(edges_push(el, u, v));
    }
  }
  ER_CHECK(el->entries > 0, ER_ERR_INPUT, "edge file '%s' contains no edges", path);
cleanup:
  text_close(&t);
  return err;
}

//------------------------------------------------------------------------------------------
// Import driver: parse on rank 0, agree, write collectively
//------------------------------------------------------------------------------------------

/* What rank 0 learns while parsing and every rank needs: broadcast as one int64 array. */
typedef struct {
  int64_t n, f, nclass, nnz, nsplit[3];
  int64_t entries;    /* edge entries read */
  int64_t self_loops; /* entries (u, u), dropped */
  int64_t duplicates; /* repeats or reverse copies of an undirected edge, dropped */
} import_counts;
#define IMPORT_NCOUNTS ((int)(sizeof(import_counts) / sizeof(int64_t)))

typedef struct {
  import_counts c;
  int64_t *indptr, *indices, *split[3];
  float *x;
  int32_t *labels;
  char source[4096 + 16];
} import_data;

static void import_data_free(import_data *d) {
  free(d->indptr);
  free(d->indices);
  free(d->x);
  free(d->labels);
  for (int s = 0; s < 3; ++s) free(d->split[s]);
  memset(d, 0, sizeof *d);
}

/* Rank 0 only. */
static er_err import_parse(const er_import_opts *o, import_data *d) {
  er_err err = ER_OK;
  uint8_t *member = NULL;
  int64_t *where = NULL;
  edge_list el = {0};
  er_csr_dropped dropped;
  const char *paths[3] = {o->train, o->val, o->test};
  import_counts *c = &d->c;
  ER_CALL(parse_features(o->features, &c->n, &c->f, &d->x));
  ER_CALL(parse_labels(o->labels, c->n, o->classes, &d->labels, &c->nclass));
  ER_CALLOC(member, c->n);
  ER_MALLOC(where, c->n);
  for (int s = 0; s < 3; ++s)
    ER_CALL(parse_split(paths[s], s, c->n, d->labels, member, where, paths, &d->split[s],
                        &c->nsplit[s]));
  ER_CALL(parse_edges(o->edges, c->n, o->features, &el));
  ER_CALL(er_csr_block_build(0, c->n, el.uv, el.m, 1, &d->indptr, &d->indices, &dropped));
  c->nnz = d->indptr[c->n];
  c->entries = el.entries;
  c->self_loops = el.self_loops;          /* edges_push stored none of them */
  c->duplicates = dropped.duplicates / 2; /* a repeated undirected edge drops two entries */
  char *abs = realpath(o->edges, NULL);
  snprintf(d->source, sizeof d->source, "import:%s", abs ? abs : o->edges);
  free(abs);
cleanup:
  free(el.uv);
  free(member);
  free(where);
  return err;
}

static er_err import_check_opts(const er_import_opts *o) {
  const char *names[7] = {"--edges", "--features", "--labels", "--train", "--val", "--test",
                          "--out"};
  const char *vals[7] = {o->edges, o->features, o->labels, o->train, o->val, o->test, o->out};
  for (int i = 0; i < 7; ++i)
    if (!vals[i] || !*vals[i])
      return ER_ERROR(ER_ERR_INPUT, "import: %s FILE is required (or --dir DIR)", names[i]);
  for (int i = 0; i < 6; ++i)
    if (!strcmp(vals[i], o->out))
      return ER_ERROR(ER_ERR_INPUT, "import: --out '%s' is also the %s input", o->out, names[i]);
  if (o->classes < 0 || o->classes > INT32_MAX)
    return ER_ERROR(ER_ERR_INPUT, "import: --classes must be in [1, %d]", INT32_MAX);
  return ER_OK;
}

er_err er_import(MPI_Comm comm, const er_import_opts *opts) {
  er_err err = ER_OK;
  import_data d;
  hid_t fid = -1;
  char *tmp = NULL;
  int rank;
  double t0 = er_wtime();
  memset(&d, 0, sizeof d);
  MPI_Comm_rank(comm, &rank);
  err = import_check_opts(opts);
  if (err == ER_OK && rank == 0) err = import_parse(opts, &d);
  ER_CALL(er_agree(comm, err));
  const double t_parse = er_wtime() - t0;

  //---- share sizes; rank 0 holds all rows, the others write none ----
  ER_CALL_MPI(MPI_Bcast(&d.c, IMPORT_NCOUNTS, MPI_INT64_T, 0, comm));
  ER_CALL_MPI(MPI_Bcast(d.source, (int)sizeof d.source, MPI_CHAR, 0, comm));
  const import_counts c = d.c;
  const int64_t n = c.n, f = c.f, nnz = c.nnz;
  const int root = rank == 0;
  static const int64_t dummy[1] = {0};
#define MINE(total) (root ? (total) : 0)
#define BUF(p) (root ? (const void *)(p) : (const void *)dummy)

  ER_CALL(er_h5_create(comm, opts->out, &fid, &tmp));
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_INDPTR, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                          n + 1, 0, 0, MINE(n + 1), BUF(d.indptr))));
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_INDICES, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                          nnz, 0, 0, MINE(nnz), BUF(d.indices))));
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_FEATURES, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                          n, f, 0, MINE(n), BUF(d.x))));
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_LABELS, H5T_STD_I32LE, H5T_NATIVE_INT32, n,
                                          0, 0, MINE(n), BUF(d.labels))));
  const char *split_ds[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  for (int s = 0; s < 3; ++s)
    ER_CALL(er_agree(comm, er_h5_write_rows(fid, split_ds[s], H5T_STD_I64LE, H5T_NATIVE_INT64,
                                            c.nsplit[s], 0, 0, MINE(c.nsplit[s]),
                                            BUF(d.split[s]))));
#undef MINE
#undef BUF
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(fid, "/", "num_nodes", n)));
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(fid, "/", "num_edges", nnz / 2)));
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(fid, "/", "num_features", f)));
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(fid, "/", "num_classes", c.nclass)));
  ER_CALL(er_agree(comm, er_h5_attr_set_str(fid, "/", "source", d.source)));
  err = er_h5_commit(comm, fid, opts->out, &tmp);
  fid = -1;
  ER_CALL(err);

  er_log(comm,
         "import: %s -> %s\n"
         "  nodes N=%lld, undirected edges %lld (%lld CSR entries), features F=%lld, "
         "classes K=%lld\n"
         "  splits train/val/test %lld/%lld/%lld\n"
         "  edge entries read %lld: dropped %lld self loops and %lld duplicates "
         "(repeats or reverse copies of an edge)\n"
         "  parsed in %.3f s, total %.3f s\n",
         d.source + strlen("import:"), opts->out, (long long)n, (long long)(nnz / 2),
         (long long)nnz, (long long)f, (long long)c.nclass, (long long)c.nsplit[0],
         (long long)c.nsplit[1], (long long)c.nsplit[2], (long long)c.entries,
         (long long)c.self_loops, (long long)c.duplicates, t_parse, er_wtime() - t0);
cleanup:
  if (tmp) er_h5_abort(comm, fid, &tmp);
  import_data_free(&d);
  return err;
}
