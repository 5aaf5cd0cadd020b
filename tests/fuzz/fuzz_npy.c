/* fuzz_npy.c: the .npy reader of import (src/io/npy.h) on raw bytes: er_npy_magic and
 * er_npy_parse_header on the whole input and on a prefix (a prefix that is complete gives the
 * full input's verdict), an accepted header checked against the header text (NumPy format:
 * version, header length, 'descr', 'fortran_order', a shape tuple), then the element
 * conversions on the data against a per-element reference. Input: [mode][file bytes]. Buffers
 * are exact-size copies, so a read past them is an ASan report. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/npy.h"

typedef struct {
  er_err err;
  int complete;
  er_npy_header h;
  char msg[600];
} result;

static void parse_at(const uint8_t *d, size_t len, int64_t file_size, result *r) {
  unsigned char *b = malloc(len ? len : 1);
  if (!b) abort();
  if (len) memcpy(b, d, len);
  memset(r, 0, sizeof *r);
  er_error_clear();
  r->err = er_npy_parse_header("f.npy", b, len, file_size, &r->h, &r->complete);
  fz_check_verdict(r->err, FZ_CODE(ER_ERR_INPUT), 0, "er_npy_parse_header");
  if (r->err) snprintf(r->msg, sizeof r->msg, "%s", er_error_message());
  FZ_ASSERT(r->complete || r->err == ER_OK, "incomplete with an error");
  FZ_ASSERT(r->complete || (int64_t)len < file_size, "incomplete with the whole file");
  free(b);
}

/* the text after the last `'key':` (or "key":) of the header dictionary, blanks skipped */
static const char *value_of(const char *dict, const char *key) {
  const char *at = NULL, *p = dict;
  size_t n = strlen(key);
  while ((p = strstr(p, key)) != NULL) {
    if (p > dict && (p[-1] == '\'' || p[-1] == '"') && p[n] == p[-1]) {
      const char *q = p + n + 1;
      while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') ++q;
      if (*q == ':') at = q + 1;
    }
    ++p;
  }
  while (at && (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')) ++at;
  return at;
}

/* an accepted header against its text */
static void check_header(const uint8_t *d, size_t size, const er_npy_header *h) {
  int major = d[6];
  int64_t start = major == 1 ? 10 : 12;
  int64_t hlen = major == 1 ? d[8] | d[9] << 8
                            : d[8] | d[9] << 8 | (int64_t)d[10] << 16 | (int64_t)d[11] << 24;
  FZ_ASSERT(major >= 1 && major <= 3 && d[7] == 0, "version %d.%d accepted", major, d[7]);
  FZ_ASSERT(h->data_off == start + hlen, "data at %lld, header ends at %lld",
            (long long)h->data_off, (long long)(start + hlen));
  static const struct {
    const char *descr;
    int dtype, size;
  } types[] = {{"<i4", ER_NPY_I4, 4}, {"<i8", ER_NPY_I8, 8}, {"<f4", ER_NPY_F4, 4},
               {"<f8", ER_NPY_F8, 8}, {"|b1", ER_NPY_B1, 1}, {"|u1", ER_NPY_U1, 1},
               {"<u1", ER_NPY_U1, 1}};
  int known = 0;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; ++i)
    known |= !strcmp(h->descr, types[i].descr) && h->dtype == types[i].dtype &&
             h->itemsize == types[i].size;
  FZ_ASSERT(known, "dtype '%s' = %d (%d bytes)", h->descr, h->dtype, h->itemsize);
  FZ_ASSERT(h->ndim >= 0 && h->ndim <= ER_NPY_MAXDIM, "ndim %d", h->ndim);
  int64_t count = 1;
  for (int k = 0; k < h->ndim; ++k) {
    FZ_ASSERT(h->shape[k] >= 0, "negative dimension");
    count *= h->shape[k];
  }
  FZ_ASSERT(count == h->count, "count %lld, shape product %lld", (long long)h->count,
            (long long)count);
  FZ_ASSERT(h->data_off + count * h->itemsize == (int64_t)size, "data size %lld, file %zu",
            (long long)(count * h->itemsize), size);
  char *dict = fz_strndup(d + start, (size_t)hlen);
  const char *v = value_of(dict, "descr");
  FZ_ASSERT(v && (*v == '\'' || *v == '"') && !strncmp(v + 1, h->descr, strlen(h->descr)) &&
                v[1 + strlen(h->descr)] == *v,
            "descr '%s', header %s", h->descr, dict);
  v = value_of(dict, "fortran_order");
  FZ_ASSERT(v && !strncmp(v, "False", 5), "accepted with fortran_order %s", v ? v : "missing");
  /* the shape as a Python tuple: blanks and 'L' dropped, one element needs its comma */
  v = value_of(dict, "shape");
  FZ_ASSERT(v && *v == '(', "shape %s", v ? v : "missing");
  char got[128] = "", want[128];
  size_t g = 0;
  for (; *v && *v != ')' && g + 2 < sizeof got; ++v)
    if (*v != ' ' && *v != 'L' && *v != '\t' && *v != '\n' && *v != '\r') got[g++] = *v;
  got[g++] = ')';
  got[g] = '\0';
  size_t w = (size_t)snprintf(want, sizeof want, "(");
  for (int k = 0; k < h->ndim; ++k)
    w += (size_t)snprintf(want + w, sizeof want - w, "%lld,", (long long)h->shape[k]);
  snprintf(want + w, sizeof want - w, ")"); /* "()", "(a,)", "(a,b,)" */
  if (h->ndim >= 2 && strcmp(got, want) != 0) snprintf(want + w - 1, sizeof want - w + 1, ")");
  FZ_ASSERT(!strcmp(got, want), "shape text %s, parsed %s (header %s)", got, want, dict);
  free(dict);
}

static void check_data(const uint8_t *d, const er_npy_header *h) {
  int64_t count = h->count < 4096 ? h->count : 4096;
  size_t bytes = (size_t)(count * h->itemsize);
  unsigned char *src = malloc(bytes ? bytes : 1);
  if (!src) abort();
  if (bytes) memcpy(src, d + h->data_off, bytes);
  if (h->dtype == ER_NPY_F4 || h->dtype == ER_NPY_F8) {
    float *x = malloc((size_t)(count ? count : 1) * sizeof *x);
    double bad = 0;
    if (!x) abort();
    int64_t at = er_npy_to_f32(h, src, count, x, &bad), want = -1;
    for (int64_t k = 0; k < count && want < 0; ++k) {
      double v;
      if (h->dtype == ER_NPY_F4) {
        float f;
        memcpy(&f, src + 4 * k, 4);
        v = f;
      } else {
        memcpy(&v, src + 8 * k, 8);
      }
      if (!isfinite(v) || fabs(v) > FLT_MAX) {
        want = k;
        FZ_ASSERT(at != k || (isnan(v) ? isnan(bad) : bad == v), "bad value %g, not %g", bad, v);
      } else {
        FZ_ASSERT(x[k] == (float)v, "element %lld: %g, not %g", (long long)k, x[k], v);
      }
    }
    FZ_ASSERT(at == want, "first bad value at %lld, reference %lld", (long long)at,
              (long long)want);
    free(x);
  } else {
    int64_t *x = malloc((size_t)(count ? count : 1) * sizeof *x);
    if (!x) abort();
    er_npy_to_i64(h, src, count, x);
    for (int64_t k = 0; k < count; ++k) {
      const unsigned char *s = src + (size_t)k * (size_t)h->itemsize;
      int64_t v;
      if (h->itemsize == 1) v = s[0];
      else if (h->itemsize == 4)
        v = (int32_t)((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                      (uint32_t)s[3] << 24);
      else {
        uint64_t u = 0;
        for (int i = 7; i >= 0; --i) u = u << 8 | s[i];
        v = (int64_t)u;
      }
      FZ_ASSERT(x[k] == v, "element %lld: %lld, not %lld", (long long)k, (long long)x[k],
                (long long)v);
    }
    free(x);
  }
  free(src);
}

void fz_run(const uint8_t *data, size_t size) {
  if (size < 1) return;
  uint8_t mode = data[0];
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  unsigned char *copy = malloc(n ? n : 1);
  if (!copy) abort();
  if (n) memcpy(copy, d, n);
  int magic = er_npy_magic(copy, n);
  FZ_ASSERT(magic == (n >= 6 && !memcmp(d, "\x93NUMPY", 6)), "magic %d", magic);
  free(copy);
  /* the file as given, and a prefix of it (as import reads the header in pieces) */
  result full, part;
  parse_at(d, n, (int64_t)n, &full);
  FZ_ASSERT(full.complete, "the whole file is incomplete");
  size_t len = n ? (size_t)mode * n / 255 : 0;
  parse_at(d, len, (int64_t)n, &part);
  if (part.complete)
    FZ_ASSERT(part.err == full.err && !strcmp(part.msg, full.msg) &&
                  (part.err || !memcmp(&part.h, &full.h, sizeof part.h)),
              "the first %zu bytes give '%s', the whole file '%s'", len, part.msg, full.msg);
  if (full.err == ER_OK) {
    check_header(d, n, &full.h);
    check_data(d, &full.h);
  }
  /* an accepted file said to be larger: truncated, never accepted */
  if (full.err == ER_OK) {
    parse_at(d, n, (int64_t)n + 1 + (mode & 7), &part);
    FZ_ASSERT(part.err != ER_OK || !part.complete, "a file with missing bytes accepted");
  }
}
