/* npy.c: the .npy header parser and element conversions (npy.h). The header dictionary is read
 * as the small Python literal numpy writes ({'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }); structured dtypes, object arrays and pickles are refused, not decoded. */
#include "npy.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c reads little-endian data with plain copies: a big-endian host needs byte swaps"
#endif

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

int er_npy_magic(const void *buf, size_t len) {
  return len >= sizeof npy_magic && memcmp(buf, npy_magic, sizeof npy_magic) == 0;
}

static const struct {
  const char *descr;
  int dtype, itemsize;
} npy_types[] = {{"<i4", ER_NPY_I4, 4}, {"<i8", ER_NPY_I8, 8}, {"<f4", ER_NPY_F4, 4},
                 {"<f8", ER_NPY_F8, 8}, {"|b1", ER_NPY_B1, 1}, {"|u1", ER_NPY_U1, 1},
                 {"<u1", ER_NPY_U1, 1}, {"|i1", -1, 1}};

//------------------------------------------------------------------------------------------
// The header dictionary
//------------------------------------------------------------------------------------------

typedef struct {
  const char *p, *end;
} lit;

static void lit_ws(lit *l) {
  while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
    l->p++;
}

static int lit_char(lit *l, char c) {
  lit_ws(l);
  if (l->p < l->end && *l->p == c) {
    l->p++;
    return 1;
  }
  return 0;
}

/* A quoted string ('...' or "...") into buf; 0 if there is none, it does not fit, or it holds a
 * line break or a NUL (Python source cannot: 'shape\0' is not 'shape'). */
static int lit_string(lit *l, char *buf, size_t len) {
  lit_ws(l);
  if (l->p >= l->end || (*l->p != '\'' && *l->p != '"')) return 0;
  char q = *l->p++;
  const char *b = l->p;
  while (l->p < l->end && *l->p != q && *l->p != '\n' && *l->p != '\r' && *l->p != '\0')
    l->p++;
  if (l->p >= l->end || *l->p != q || (size_t)(l->p - b) >= len) return 0;
  memcpy(buf, b, (size_t)(l->p - b));
  buf[l->p - b] = '\0';
  l->p++;
  return 1;
}

static int lit_word(lit *l, const char *w) {
  lit_ws(l);
  size_t n = strlen(w);
  if ((size_t)(l->end - l->p) >= n && !memcmp(l->p, w, n)) {
    l->p += n;
    return 1;
  }
  return 0;
}

/* A shape tuple "(a, b, )" of non-negative integers (an 'L' suffix allowed); one element needs
 * its comma, "(a,)". */
static int lit_shape(lit *l, er_npy_header *h) {
  if (!lit_char(l, '(')) return 0;
  h->ndim = 0;
  for (;;) {
    if (lit_char(l, ')')) return 1;
    lit_ws(l);
    if (l->p >= l->end || *l->p < '0' || *l->p > '9' || h->ndim == ER_NPY_MAXDIM) return 0;
    if (*l->p == '0' && l->end - l->p > 1 && l->p[1] >= '0' && l->p[1] <= '9')
      return 0; /* "03": not a Python 3 integer */
    int64_t v = 0;
    while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return 0;
      v = v * 10 + (*l->p++ - '0');
    }
    if (l->p < l->end && *l->p == 'L') l->p++;
    h->shape[h->ndim++] = v;
    if (!lit_char(l, ',')) return h->ndim > 1 && lit_char(l, ')'); /* (3) is no tuple */
  }
}

er_err er_npy_parse_header(const char *path, const void *buf, size_t len, int64_t file_size,
                           er_npy_header *h, int *complete) {
  const unsigned char *b = buf;
  memset(h, 0, sizeof *h);
  *complete = 0;
  if (len < 12 && (int64_t)len < file_size) return ER_OK;
  *complete = 1;
  if (!er_npy_magic(buf, len))
    return ER_ERROR(ER_ERR_INPUT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
  if (len < 10) return ER_ERROR(ER_ERR_INPUT, "%s: .npy header is truncated", path);
  int major = b[6], minor = b[7];
  if (major < 1 || major > 3 || minor != 0)
    return ER_ERROR(ER_ERR_INPUT, "%s: .npy format version %d.%d is not supported (1.0, 2.0 or "
                    "3.0)", path, major, minor);
  int64_t hlen, start = major == 1 ? 10 : 12;
  if (major == 1) {
    hlen = b[8] | (int64_t)b[9] << 8;
  } else {
    if (len < 12) return ER_ERROR(ER_ERR_INPUT, "%s: .npy header is truncated", path);
    hlen = b[8] | (int64_t)b[9] << 8 | (int64_t)b[10] << 16 | (int64_t)b[11] << 24;
  }
  if (hlen > ER_NPY_MAX_HEADER)
    return ER_ERROR(ER_ERR_INPUT, "%s: .npy header of %lld bytes is too large", path,
                    (long long)hlen);
  if (start + hlen > file_size)
    return ER_ERROR(ER_ERR_INPUT, "%s: file is truncated inside the .npy header (%lld bytes "
                    "declared, the file has %lld)", path, (long long)(start + hlen),
                    (long long)file_size);
  if ((int64_t)len < start + hlen) {
    *complete = 0;
    return ER_OK;
  }
  h->data_off = start + hlen;

  //---- the dictionary ----
  lit l = {(const char *)b + start, (const char *)b + start + hlen};
  int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
  if (!lit_char(&l, '{'))
    return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header (expected a dictionary)", path);
  for (;;) {
    char key[32];
    if (lit_char(&l, '}')) break;
    if (!lit_string(&l, key, sizeof key) || !lit_char(&l, ':'))
      return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header dictionary", path);
    if (!strcmp(key, "descr")) {
      if (!lit_string(&l, h->descr, sizeof h->descr))
        return ER_ERROR(ER_ERR_INPUT, "%s: .npy dtype is not a simple type (structured arrays "
                        "are not supported)", path);
      have_descr = 1;
    } else if (!strcmp(key, "fortran_order")) {
      if (lit_word(&l, "True")) fortran = 1;
      else if (!lit_word(&l, "False"))
        return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header: fortran_order is not True or "
                        "False", path);
      have_order = 1;
    } else if (!strcmp(key, "shape")) {
      if (!lit_shape(&l, h))
        return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header: bad shape", path);
      have_shape = 1;
    } else {
      return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header: unexpected key '%s'", path, key);
    }
    if (!lit_char(&l, ',')) {
      if (!lit_char(&l, '}'))
        return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header dictionary", path);
      break;
    }
  }
  lit_ws(&l); /* the header is one Python literal: only the padding may follow it */
  if (l.p != l.end)
    return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header: text after the dictionary", path);
  if (!have_descr || !have_order || !have_shape)
    return ER_ERROR(ER_ERR_INPUT, "%s: malformed .npy header: '%s' is missing", path,
                    !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");

  //---- dtype, order, size ----
  h->dtype = -1;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; ++i)
    if (!strcmp(h->descr, npy_types[i].descr)) {
      h->dtype = npy_types[i].dtype;
      h->itemsize = npy_types[i].itemsize;
    }
  if (h->dtype < 0 && h->descr[0] == '>' && h->descr[1] != '\0' && h->descr[2] != '1')
    return ER_ERROR(ER_ERR_INPUT, "%s: big-endian dtype '%s' is not supported: .npy inputs must "
                    "be little-endian (numpy: a.astype(a.dtype.newbyteorder('<')))", path,
                    h->descr);
  if (h->dtype < 0)
    return ER_ERROR(ER_ERR_INPUT, "%s: dtype '%s' is not supported (int32, int64, float32, "
                    "float64, bool or uint8, little-endian)", path, h->descr);
  if (fortran)
    return ER_ERROR(ER_ERR_INPUT, "%s: Fortran-order arrays are not supported (numpy: save "
                    "np.ascontiguousarray(a))", path);
  h->count = 1;
  for (int d = 0; d < h->ndim; ++d) {
    if (h->shape[d] && h->count > (INT64_MAX / 16) / h->shape[d])
      return ER_ERROR(ER_ERR_INPUT, "%s: .npy shape is too large", path);
    h->count *= h->shape[d];
  }
  int64_t want = h->data_off + h->count * h->itemsize;
  char shape[96];
  er_npy_shape_str(h, shape, sizeof shape);
  if (file_size < want)
    return ER_ERROR(ER_ERR_INPUT, "%s: file is truncated: shape %s of '%s' needs %lld bytes of "
                    "data, the file holds %lld", path, shape, h->descr,
                    (long long)(h->count * h->itemsize), (long long)(file_size - h->data_off));
  if (file_size > want)
    return ER_ERROR(ER_ERR_INPUT, "%s: %lld bytes of trailing garbage after the %s array data",
                    path, (long long)(file_size - want), shape);
  return ER_OK;
}

void er_npy_shape_str(const er_npy_header *h, char *buf, size_t len) {
  size_t at = (size_t)snprintf(buf, len, "(");
  for (int d = 0; d < h->ndim && at < len; ++d)
    at += (size_t)snprintf(buf + at, len - at, "%s%lld", d ? ", " : "", (long long)h->shape[d]);
  if (at < len) snprintf(buf + at, len - at, h->ndim == 1 ? ",)" : ")");
}

//------------------------------------------------------------------------------------------
// Elements
//------------------------------------------------------------------------------------------

void er_npy_to_i64(const er_npy_header *h, const void *src, int64_t count, int64_t *dst) {
  const unsigned char *s = src;
  switch (h->dtype) {
  case ER_NPY_I8:
    memcpy(dst, s, (size_t)count * 8);
    break;
  case ER_NPY_I4:
    for (int64_t k = 0; k < count; ++k) {
      int32_t v;
      memcpy(&v, s + 4 * k, 4);
      dst[k] = v;
    }
    break;
  default: /* one byte: bool or uint8 */
    for (int64_t k = 0; k < count; ++k) dst[k] = s[k];
    break;
  }
}

int64_t er_npy_to_f32(const er_npy_header *h, const void *src, int64_t count, float *dst,
                      double *bad) {
  const unsigned char *s = src;
  if (h->dtype == ER_NPY_F4) {
    memcpy(dst, s, (size_t)count * 4);
    for (int64_t k = 0; k < count; ++k)
      if (!isfinite(dst[k])) {
        *bad = dst[k];
        return k;
      }
    return -1;
  }
  for (int64_t k = 0; k < count; ++k) {
    double v;
    memcpy(&v, s + 8 * k, 8);
    if (!isfinite(v) || fabs(v) > FLT_MAX) {
      *bad = v;
      return k;
    }
    dst[k] = (float)v;
  }
  return -1;
}
