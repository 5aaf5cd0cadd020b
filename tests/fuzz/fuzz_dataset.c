/* fuzz_dataset.c: the dataset validator (er_dataset_meta + er_dblock_read through
 * er_dgraph_create) and er_h5_verify_file, structure-aware. The input is a recipe: a small
 * valid dataset (N <= 64) drawn from its bytes, then edits that may break it (CSR entries,
 * labels, features, splits, partition owners, root attributes, element types, shapes, layouts,
 * digest attributes right, wrong or malformed), written with the plain HDF5 API. A reference
 * validator here reads the file back whole (serial HDF5, the reader's memory types) and decides
 * from docs/FORMAT.md and the contract of er_dblock_read whether the dataset is valid; the
 * verdicts must agree, and an accepted graph must hold exactly the file's rows. It does not
 * fuzz HDF5's file parser: every file here is well-formed HDF5 (fuzz_h5_raw.c does that). */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "fuzz.h"

enum { A_INDPTR, A_INDICES, A_FEATURES, A_LABELS, A_TRAIN, A_VAL, A_TEST, A_PART, A_N };
static const char *const arr_name[A_N] = {ER_DS_INDPTR, ER_DS_INDICES, ER_DS_FEATURES,
                                          ER_DS_LABELS, ER_DS_TRAIN,   ER_DS_VAL,
                                          ER_DS_TEST,   ER_DS_PARTITIONS "/1"};
enum { ATTR_N, ATTR_E, ATTR_F, ATTR_K, ATTR_COUNT };
static const char *const attr_name[ATTR_COUNT] = {"num_nodes", "num_edges", "num_features",
                                                  "num_classes"};

/* the element types a file may hold; the first of each kind is what erase-mpi writes */
static hid_t file_type(int t) {
  switch (t) {
  case 0: return H5T_STD_I64LE;
  case 1: return H5T_STD_I32LE;
  case 2: return H5T_IEEE_F32LE;
  case 3: return H5T_IEEE_F64LE;
  case 4: return H5T_STD_I16LE;
  case 5: return H5T_STD_I8LE;
  case 6: return H5T_STD_I64BE;
  case 7: return H5T_IEEE_F32BE;
  default: return H5T_STD_U8LE;
  }
}
#define N_TYPES 9

enum { DIG_NONE, DIG_RIGHT, DIG_WRONG, DIG_FLOAT, DIG_STRING, DIG_PAIR, N_DIG };
enum { SHAPE_AS_IS, SHAPE_2D_1, SHAPE_2D_2, SHAPE_SCALAR, SHAPE_MISSING, SHAPE_GROUP, N_SHAPE };
enum { ATTR_INT64, ATTR_MISSING, ATTR_F64, ATTR_STRING, ATTR_INT32, ATTR_PAIR, ATTR_1D, N_AFORM };

typedef struct {
  int64_t *v;  /* values (integer arrays) */
  float *x;    /* values (features) */
  int64_t n;   /* rows */
  int64_t cols;
  int type;    /* index into file_type */
  int shape;   /* SHAPE_* */
  int digest;  /* DIG_* */
  int layout;  /* 0 chunked, 1 contiguous, 2 compact */
  int present;
  int64_t huge_rows, huge_cols; /* > 0: a sparse dataset of this extent, nothing written */
} arr;

typedef struct {
  int64_t N, F, K;
  arr a[A_N];
  int attr_form[ATTR_COUNT];
  int64_t attr_delta[ATTR_COUNT];
  int64_t attr_huge[ATTR_COUNT]; /* > 0: the attribute claims this, with matching shapes */
} recipe;

//---- building the recipe -----------------------------------------------------------------------

static void push(arr *a, int64_t at, int64_t val) { /* insert val at row `at` (1-D int) */
  int64_t *nv = realloc(a->v, (size_t)(a->n + 1) * sizeof *nv);
  if (!nv) abort();
  a->v = nv;
  memmove(a->v + at + 1, a->v + at, (size_t)(a->n - at) * sizeof *a->v);
  a->v[at] = val;
  a->n++;
}

static void erase(arr *a, int64_t at) {
  memmove(a->v + at, a->v + at + 1, (size_t)(a->n - at - 1) * sizeof *a->v);
  a->n--;
}

/* add entry (u, v) into row u of the CSR at its sorted place (or at `place` when >= 0) */
static void csr_insert(recipe *r, int64_t u, int64_t v, int64_t place) {
  arr *p = &r->a[A_INDPTR], *c = &r->a[A_INDICES];
  if (u < 0 || u >= r->N || p->n != r->N + 1) return;
  int64_t lo = p->v[u], hi = p->v[u + 1];
  if (lo < 0 || hi > c->n || lo > hi) return;
  int64_t at = lo;
  while (at < hi && c->v[at] < v) ++at;
  if (place >= 0) at = lo + place % (hi - lo + 1);
  push(c, at, v);
  for (int64_t i = u + 1; i <= r->N; ++i) p->v[i]++;
}

static void csr_remove(recipe *r, int64_t k) {
  arr *p = &r->a[A_INDPTR], *c = &r->a[A_INDICES];
  if (k < 0 || k >= c->n || p->n != r->N + 1) return;
  erase(c, k);
  for (int64_t i = 0; i <= r->N; ++i)
    if (p->v[i] > k) p->v[i]--;
}

static int64_t pick_i64(fz_reader *in, int64_t lo_small, int64_t hi_small) {
  static const int64_t odd[] = {-1, INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN,
                                (int64_t)1 << 32, INT64_MAX, INT64_MIN, -2};
  uint8_t b = fz_u8(in);
  if (b < 224) return lo_small + (int64_t)fz_below(in, (uint64_t)(hi_small - lo_small + 1));
  return odd[b % 8];
}

static void build(recipe *r, fz_reader *in) {
  memset(r, 0, sizeof *r);
  const int64_t N = r->N = 1 + fz_below(in, 64);
  r->F = 1 + fz_below(in, 4);
  r->K = 1 + fz_below(in, 5);
  /* a symmetric graph without loops or duplicates */
  uint64_t adj[64] = {0};
  for (uint64_t e = fz_below(in, 2 * (uint64_t)N + 1); e > 0; --e) {
    uint64_t u = fz_below(in, (uint64_t)N), v = fz_below(in, (uint64_t)N);
    if (u != v) adj[u] |= 1ull << v, adj[v] |= 1ull << u;
  }
  for (int k = 0; k < A_N; ++k) r->a[k].present = k != A_PART, r->a[k].cols = 1;
  arr *p = &r->a[A_INDPTR], *c = &r->a[A_INDICES], *y = &r->a[A_LABELS], *x = &r->a[A_FEATURES];
  p->v = calloc((size_t)N + 1, sizeof *p->v);
  c->v = calloc(64 * 64, sizeof *c->v);
  y->v = calloc((size_t)N, sizeof *y->v);
  x->x = calloc((size_t)(N * r->F), sizeof *x->x);
  for (int k = A_TRAIN; k <= A_PART; ++k) r->a[k].v = calloc((size_t)N, sizeof(int64_t));
  if (!p->v || !c->v || !y->v || !x->x) abort();
  p->n = N + 1, y->n = N, x->n = N, x->cols = r->F, x->type = 2, y->type = 1;
  r->a[A_PART].type = 1, r->a[A_PART].n = N;
  for (int64_t u = 0; u < N; ++u) {
    for (int64_t v = 0; v < N; ++v)
      if (adj[u] >> v & 1) c->v[c->n++] = v;
    p->v[u + 1] = c->n;
  }
  for (int64_t i = 0; i < N; ++i) {
    int64_t l = (int64_t)fz_below(in, (uint64_t)r->K + 1);
    y->v[i] = l == r->K ? -1 : l;
  }
  for (int64_t i = 0; i < N * r->F; ++i) {
    uint8_t b = fz_u8(in);
    x->x[i] = b == 255 ? NAN : b == 254 ? INFINITY : ((float)b - 128.0f) / 16.0f;
  }
  for (int64_t i = 0; i < N; ++i) {
    int s = (int)fz_below(in, 4);
    if (s && y->v[i] >= 0) r->a[A_TRAIN + s - 1].v[r->a[A_TRAIN + s - 1].n++] = i;
  }
  r->a[A_PART].present = fz_below(in, 4) == 3;
  int mode = (int)fz_below(in, 3); /* digests: all right (sealed), none, per array */
  for (int k = 0; k < A_N; ++k)
    r->a[k].digest = mode == 0 ? DIG_RIGHT : mode == 1 ? DIG_NONE : (int)fz_below(in, N_DIG);

  //---- edits ----
  for (uint64_t ops = fz_below(in, 16); ops > 0; --ops) {
    int op = (int)fz_below(in, 19);
    int k = (int)fz_below(in, A_N);
    arr *a = &r->a[k];
    switch (op) {
    case 0: /* an offset */
      if (p->n) p->v[fz_below(in, (uint64_t)p->n)] += (int8_t)fz_u8(in);
      break;
    case 1: /* a neighbour id */
      if (c->n) c->v[fz_below(in, (uint64_t)c->n)] = pick_i64(in, -1, N);
      break;
    case 2: /* one direction of an edge gone */
      if (c->n) csr_remove(r, (int64_t)fz_below(in, (uint64_t)c->n));
      break;
    case 3: { /* one direction of an edge more (possibly a self loop or a duplicate) */
      int64_t u = (int64_t)fz_below(in, (uint64_t)N);
      csr_insert(r, u, pick_i64(in, 0, N - 1), -1);
      break;
    }
    case 4: { /* an entry out of order */
      int64_t u = (int64_t)fz_below(in, (uint64_t)N);
      csr_insert(r, u, pick_i64(in, 0, N - 1), (int64_t)fz_u8(in));
      break;
    }
    case 5: /* a label */
      y->v[fz_below(in, (uint64_t)N)] = pick_i64(in, -2, r->K);
      break;
    case 6: { /* a feature */
      static const float fv[] = {NAN, INFINITY, -INFINITY, 3.4e38f, -1e-40f, 0.0f};
      x->x[fz_below(in, (uint64_t)(N * r->F))] = fv[fz_below(in, 6)];
      break;
    }
    case 7: { /* a split entry more: another split's node, a repeat, out of range, unlabelled */
      arr *s = &r->a[A_TRAIN + fz_below(in, 3)];
      push(s, s->n ? (int64_t)fz_below(in, (uint64_t)s->n + 1) : 0, pick_i64(in, -1, N));
      break;
    }
    case 8: { /* a split entry less, or a split emptied */
      arr *s = &r->a[A_TRAIN + fz_below(in, 3)];
      if (fz_u8(in) & 1) s->n = 0;
      else if (s->n) erase(s, (int64_t)fz_below(in, (uint64_t)s->n));
      break;
    }
    case 9: /* a partition owner */
      r->a[A_PART].present = 1;
      r->a[A_PART].v[fz_below(in, (uint64_t)N)] = pick_i64(in, -1, 2);
      break;
    case 10: { /* a root attribute */
      int t = (int)fz_below(in, ATTR_COUNT);
      r->attr_form[t] = (int)fz_below(in, N_AFORM);
      r->attr_delta[t] = fz_u8(in) & 1 ? pick_i64(in, -2, 2) : 0;
      break;
    }
    case 11: a->type = (int)fz_below(in, N_TYPES); break;
    case 12: a->shape = (int)fz_below(in, N_SHAPE); break;
    case 13: a->digest = (int)fz_below(in, N_DIG); break;
    case 14: a->layout = (int)fz_below(in, 3); break;
    case 15: /* a row more at the end */
      if (k != A_FEATURES) push(a, a->n, pick_i64(in, -1, N));
      break;
    case 16: /* a row less at the end */
      if (a->n) a->n--;
      break;
    case 17: /* a label removed from a node that may be in a split */
      y->v[fz_below(in, (uint64_t)N)] = -1;
      break;
    default: { /* a claim of N, E or F whose arrays' sizes overflow 64 bits, shapes matching
                  (HDF5 stores such datasets sparse, in a few KB) */
      static const int64_t big[3][3] = {{(int64_t)1 << 61, (int64_t)1 << 62, INT64_MAX},
                                        {(int64_t)1 << 60, (int64_t)1 << 61, ((int64_t)1 << 62) - 1},
                                        {(int64_t)1 << 61, (int64_t)1 << 62, INT64_MAX / 2}};
      int what = (int)fz_below(in, 3);
      int64_t v = big[what][fz_below(in, 3)];
      if (what == 0) r->attr_huge[ATTR_F] = v, x->huge_cols = v;
      if (what == 1) r->attr_huge[ATTR_E] = v, c->huge_rows = 2 * v;
      if (what == 2) {
        r->attr_huge[ATTR_N] = v;
        p->huge_rows = v + 1, y->huge_rows = x->huge_rows = v;
      }
      break;
    }
    }
  }
}

static void recipe_free(recipe *r) {
  for (int k = 0; k < A_N; ++k) free(r->a[k].v), free(r->a[k].x);
}

//---- writing -----------------------------------------------------------------------------------

/* The value every correct digest holds: the dataset as its native type reads it. */
static int64_t native_digest(hid_t ds) {
  hid_t ft = H5Dget_type(ds), mt = H5Tget_native_type(ft, H5T_DIR_ASCEND), sp = H5Dget_space(ds);
  hsize_t d[2] = {1, 1};
  int nd = H5Sget_simple_extent_dims(sp, d, NULL);
  int64_t rows = nd >= 1 ? (int64_t)d[0] : 1, cols = nd == 2 ? (int64_t)d[1] : 1;
  size_t rb = H5Tget_size(mt) * (size_t)cols;
  unsigned char *buf = malloc(rb * (size_t)rows + 1);
  if (!buf) abort();
  uint64_t dg = 0;
  if (rows * cols == 0 || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
    dg = er_digest_rows(buf, rb, 0, rows);
  free(buf);
  H5Sclose(sp), H5Tclose(mt), H5Tclose(ft);
  return (int64_t)dg;
}

static void put_attr(hid_t obj, const char *name, int form, int64_t value) {
  hid_t sp = -1, a = -1, t = -1;
  switch (form) {
  case ATTR_MISSING: return;
  case ATTR_F64: {
    double d = (double)value;
    sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &d);
    break;
  }
  case ATTR_STRING: {
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)value);
    t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(s) + 1);
    sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, s);
    break;
  }
  case ATTR_PAIR:
  case ATTR_1D: {
    int64_t v[2] = {value, value};
    hsize_t n = form == ATTR_PAIR ? 2 : 1;
    sp = H5Screate_simple(1, &n, NULL);
    a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, v);
    break;
  }
  default: {
    sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(obj, name, form == ATTR_INT32 ? H5T_STD_I32LE : H5T_STD_I64LE, sp,
                   H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &value);
    break;
  }
  }
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
}

static const int dig_form[N_DIG] = {ATTR_MISSING, ATTR_INT64, ATTR_INT64, ATTR_F64, ATTR_STRING,
                                    ATTR_PAIR};

/* 0 when HDF5 would not write what the recipe asks (the input is skipped) */
static int write_array(hid_t fid, const arr *a, const char *name) {
  if (!a->present || a->shape == SHAPE_MISSING) return 1;
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  if (a->shape == SHAPE_GROUP) {
    hid_t g = H5Gcreate2(fid, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return 0;
    H5Gclose(g);
    return 1;
  }
  int64_t rows = a->n, cols = a->cols;
  int nd = a->cols > 1 ? 2 : 1;
  if (a->huge_rows || a->huge_cols) { /* chunked, no chunk written: a few KB */
    hsize_t dims[2] = {(hsize_t)(a->huge_rows ? a->huge_rows : rows),
                       (hsize_t)(a->huge_cols ? a->huge_cols : cols)};
    hsize_t chunk[2] = {nd == 2 ? 1 : 1024, 1024};
    if (nd == 2 && dims[1] < chunk[1]) chunk[1] = dims[1];
    hid_t sp = H5Screate_simple(nd, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, nd, chunk);
    hid_t ds = H5Dcreate2(fid, name, file_type(a->type), sp, lcpl, dcpl, H5P_DEFAULT);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl), H5Sclose(sp), H5Pclose(lcpl);
    return ds >= 0;
  }
  const void *buf = a->x ? (const void *)a->x : (const void *)a->v;
  void *dup = NULL;
  if (a->shape == SHAPE_2D_1 || a->shape == SHAPE_2D_2) {
    nd = 2;
    if (a->shape == SHAPE_2D_2 && !a->x) { /* each value twice: (n, 2) */
      int64_t *d2 = malloc((size_t)(2 * rows + 1) * sizeof *d2);
      if (!d2) abort();
      for (int64_t i = 0; i < rows; ++i) d2[2 * i] = d2[2 * i + 1] = a->v[i];
      buf = dup = d2, cols = 2;
    }
  } else if (a->shape == SHAPE_SCALAR) {
    nd = 0, rows = 1;
    if (a->n == 0) buf = a->x ? (const void *)&(float){0} : (const void *)&(int64_t){0};
  }
  hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols}, maxd[2] = {H5S_UNLIMITED, (hsize_t)cols};
  hid_t sp = nd == 0 ? H5Screate(H5S_SCALAR)
                     : H5Screate_simple(nd, dims, a->layout == 0 ? maxd : NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (nd > 0 && (a->layout == 0 || rows * cols == 0)) {
    hsize_t chunk[2] = {rows > 0 && rows < 16 ? (hsize_t)rows : 16, (hsize_t)cols};
    H5Pset_chunk(dcpl, nd, chunk);
    if (a->layout != 0) { /* an empty dataset must be chunked: recreate the space extendible */
      H5Sclose(sp);
      sp = H5Screate_simple(nd, dims, maxd);
    }
  } else if (a->layout == 2) {
    H5Pset_layout(dcpl, H5D_COMPACT);
  }
  hid_t ds = H5Dcreate2(fid, name, file_type(a->type), sp, lcpl, dcpl, H5P_DEFAULT);
  int ok = ds >= 0;
  if (ok && rows * cols > 0)
    ok = H5Dwrite(ds, a->x ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                  buf) >= 0;
  if (ok && a->digest != DIG_NONE) {
    int64_t d = native_digest(ds);
    if (a->digest == DIG_WRONG) d ^= 0x100;
    put_attr(ds, "digest", dig_form[a->digest], d);
  }
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl), H5Sclose(sp), H5Pclose(lcpl);
  free(dup);
  return ok;
}

static int write_file(const recipe *r, const char *path) {
  hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (fid < 0) abort();
  int ok = 1;
  for (int k = 0; k < A_N && ok; ++k) ok = write_array(fid, &r->a[k], arr_name[k]);
  const int64_t base[ATTR_COUNT] = {r->N, r->a[A_INDICES].n / 2, r->F, r->K};
  for (int t = 0; t < ATTR_COUNT; ++t) {
    int64_t v = r->attr_huge[t] ? r->attr_huge[t] : base[t];
    if (r->attr_delta[t] > INT32_MAX || r->attr_delta[t] < INT32_MIN) v = r->attr_delta[t];
    else v += r->attr_delta[t];
    put_attr(fid, attr_name[t], r->attr_form[t], v);
  }
  if (H5Fclose(fid) < 0) abort();
  return ok;
}

//---- the reference validator -------------------------------------------------------------------

typedef struct {
  int64_t N, E, F, K;
  int64_t *indptr, *indices, *split[3];
  int64_t nsplit[3];
  int32_t *labels, *owner;
  float *x;
} ref_data;

static void ref_free(ref_data *d) {
  free(d->indptr), free(d->indices), free(d->labels), free(d->owner), free(d->x);
  for (int s = 0; s < 3; ++s) free(d->split[s]);
}

/* a scalar (one-element) integer-convertible attribute */
static int ref_attr(hid_t obj, const char *name, int64_t *v) {
  if (H5Aexists_by_name(obj, ".", name, H5P_DEFAULT) <= 0) return 0;
  hid_t a = H5Aopen_by_name(obj, ".", name, H5P_DEFAULT, H5P_DEFAULT), sp = H5Aget_space(a);
  int ok = H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
  H5Sclose(sp), H5Aclose(a);
  return ok;
}

/* the dataset as the reader sees it: a dataset, of rank want_nd, of the right class; its rows
 * read whole in mem_type; its digest (when its element size is want_bytes and it has one)
 * matching the bytes read */
static int ref_array(hid_t fid, const char *name, int want_nd, int want_float, hid_t mem_type,
                     size_t want_bytes, int64_t dims[2], void **out) {
  H5O_info_t info;
  *out = NULL;
  if (!er_h5_exists(fid, name) || H5Oget_info_by_name(fid, name, &info, H5P_DEFAULT) < 0 ||
      info.type != H5O_TYPE_DATASET)
    return 0;
  hid_t ds = H5Dopen2(fid, name, H5P_DEFAULT), sp = H5Dget_space(ds), ft = H5Dget_type(ds);
  hsize_t d[2] = {1, 1};
  int nd = H5Sget_simple_extent_dims(sp, d, NULL), ok = nd == want_nd;
  H5T_class_t cls = H5Tget_class(ft);
  ok = ok && (want_float ? cls == H5T_FLOAT : cls == H5T_INTEGER);
  dims[0] = (int64_t)d[0], dims[1] = nd == 2 ? (int64_t)d[1] : 1;
  size_t mb = H5Tget_size(mem_type), rb = mb * (size_t)dims[1];
  unsigned char *buf = ok ? malloc(rb * (size_t)dims[0] + 1) : NULL;
  if (ok && dims[0] > 0) ok = H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
  if (ok && H5Tget_size(ft) == want_bytes && H5Aexists(ds, "digest") > 0) {
    int64_t want;
    ok = ref_attr(ds, "digest", &want) &&
         (uint64_t)want == er_digest_rows(buf, rb, 0, dims[0]);
  }
  H5Tclose(ft), H5Sclose(sp), H5Dclose(ds);
  if (ok) *out = buf;
  else free(buf);
  return ok;
}

/* 1 when the dataset is valid, with its content in d */
static int reference(const char *path, ref_data *d) {
  memset(d, 0, sizeof *d);
  hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) abort();
  int64_t a[ATTR_COUNT], dims[2];
  int ok = 1;
  for (int t = 0; t < ATTR_COUNT && ok; ++t) ok = ref_attr(fid, attr_name[t], &a[t]);
  /* K is the class count of int32 labels: above INT32_MAX it cannot be one; the arrays the
   * counts describe (indptr, indices, features) must have a byte size an int64 can hold */
  ok = ok && a[ATTR_N] >= 1 && a[ATTR_E] >= 0 && a[ATTR_F] >= 1 && a[ATTR_K] >= 1 &&
       a[ATTR_K] <= INT32_MAX && a[ATTR_N] <= INT64_MAX / 8 - 1 && a[ATTR_E] <= INT64_MAX / 16 &&
       a[ATTR_F] <= INT64_MAX / 4 / a[ATTR_N];
  if (!ok) goto done;
  const int64_t N = d->N = a[ATTR_N], F = d->F = a[ATTR_F];
  d->E = a[ATTR_E], d->K = a[ATTR_K];
  const int64_t nnz = 2 * d->E;
  ok = ref_array(fid, ER_DS_INDPTR, 1, 0, H5T_NATIVE_INT64, 8, dims, (void **)&d->indptr) &&
       dims[0] == N + 1;
  ok = ok && ref_array(fid, ER_DS_INDICES, 1, 0, H5T_NATIVE_INT64, 8, dims,
                       (void **)&d->indices) && dims[0] == nnz;
  ok = ok && ref_array(fid, ER_DS_FEATURES, 2, 1, H5T_NATIVE_FLOAT, 4, dims, (void **)&d->x) &&
       dims[0] == N && dims[1] == F;
  ok = ok && ref_array(fid, ER_DS_LABELS, 1, 0, H5T_NATIVE_INT32, 4, dims,
                       (void **)&d->labels) && dims[0] == N;
  static const char *const sn[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  for (int s = 0; s < 3 && ok; ++s) {
    ok = ref_array(fid, sn[s], 1, 0, H5T_NATIVE_INT64, 8, dims, (void **)&d->split[s]);
    d->nsplit[s] = dims[0];
  }
  if (ok && er_h5_exists(fid, ER_DS_PARTITIONS "/1")) {
    ok = ref_array(fid, ER_DS_PARTITIONS "/1", 1, 0, H5T_NATIVE_INT32, 4, dims,
                   (void **)&d->owner) && dims[0] == N;
  }
  if (!ok) goto done;
  /* CSR: offsets from 0 to 2E, non-decreasing; neighbours in range, ascending, no loops */
  ok = d->indptr[0] == 0 && d->indptr[N] == nnz;
  for (int64_t u = 0; u < N && ok; ++u) {
    ok = d->indptr[u + 1] >= d->indptr[u] && d->indptr[u + 1] <= nnz;
    for (int64_t k = d->indptr[u]; k < d->indptr[u + 1] && ok; ++k)
      ok = d->indices[k] >= 0 && d->indices[k] < N && d->indices[k] != u &&
           (k == d->indptr[u] || d->indices[k - 1] < d->indices[k]);
  }
  /* symmetric: every (u, v) has its (v, u), found by binary search of row v */
  for (int64_t u = 0; u < N && ok; ++u)
    for (int64_t k = d->indptr[u]; k < d->indptr[u + 1] && ok; ++k) {
      int64_t v = d->indices[k], lo = d->indptr[v], hi = d->indptr[v + 1];
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (d->indices[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      ok = lo < d->indptr[v + 1] && d->indices[lo] == u;
    }
  for (int64_t i = 0; i < N && ok; ++i) ok = d->labels[i] >= -1 && d->labels[i] < d->K;
  for (int64_t i = 0; i < N * F && ok; ++i) ok = isfinite(d->x[i]);
  for (int64_t i = 0; d->owner && i < N && ok; ++i) ok = d->owner[i] == 0;
  /* splits: in range, no repeats, disjoint, labelled */
  uint8_t *seen = calloc((size_t)N, 1);
  if (!seen) abort();
  for (int s = 0; s < 3 && ok; ++s)
    for (int64_t k = 0; k < d->nsplit[s] && ok; ++k) {
      int64_t v = d->split[s][k];
      ok = v >= 0 && v < N && !seen[v] && d->labels[v] >= 0;
      if (ok) seen[v] = 1;
    }
  free(seen);
done:
  H5Fclose(fid);
  return ok;
}

/* er_h5_verify_file's rule: every dataset that carries a digest matches it */
static herr_t visit_digest(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
  if (info->type != H5O_TYPE_DATASET) return 0;
  hid_t ds = H5Dopen2(obj, name, H5P_DEFAULT);
  if (H5Aexists(ds, "digest") > 0) {
    int64_t want;
    if (!ref_attr(ds, "digest", &want) || want != native_digest(ds)) *(int *)data = 0;
  }
  H5Dclose(ds);
  return 0;
}

static int reference_verify(const char *path) {
  int ok = 1;
  hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) abort();
  H5Ovisit(fid, H5_INDEX_NAME, H5_ITER_INC, visit_digest, &ok);
  H5Fclose(fid);
  return ok;
}

//---- the target --------------------------------------------------------------------------------

static void check_graph(const er_dgraph *g, const ref_data *d) {
  FZ_ASSERT(g->n_global == d->N && g->e_global == d->E && g->K == d->K && g->F == d->F,
            "graph N=%lld E=%lld K=%d F=%lld, file %lld %lld %lld %lld", (long long)g->n_global,
            (long long)g->e_global, g->K, (long long)g->F, (long long)d->N, (long long)d->E,
            (long long)d->K, (long long)d->F);
  FZ_ASSERT(g->n_own == d->N && g->n_ghost == 0, "one rank owns %d rows, %d ghosts of %lld",
            g->n_own, g->n_ghost, (long long)d->N);
  for (int64_t i = 0; i < d->N; ++i) {
    FZ_ASSERT(g->gid[i] == i && g->indptr[i + 1] == d->indptr[i + 1], "row %lld differs",
              (long long)i);
    FZ_ASSERT(g->labels[i] == d->labels[i] && g->labels[i] >= -1 && g->labels[i] < g->K,
              "label of %lld is %d, file %d, K %d", (long long)i, g->labels[i], d->labels[i],
              g->K);
  }
  for (int64_t k = 0; k < d->indptr[d->N]; ++k)
    FZ_ASSERT(g->indices[k] == d->indices[k], "entry %lld differs", (long long)k);
  FZ_ASSERT(!memcmp(g->x, d->x, (size_t)(d->N * d->F) * sizeof(float)), "features differ");
  uint8_t *bits = calloc((size_t)d->N, 1);
  if (!bits) abort();
  for (int s = 0; s < 3; ++s)
    for (int64_t k = 0; k < d->nsplit[s]; ++k) bits[d->split[s][k]] |= (uint8_t)(1 << s);
  for (int64_t i = 0; i < d->N; ++i)
    FZ_ASSERT(g->split[i] == bits[i], "split bits of %lld: %d, file %d", (long long)i,
              g->split[i], bits[i]);
  free(bits);
}

void fz_run(const uint8_t *data, size_t size) {
  fz_reader in = {data, size};
  recipe r;
  build(&r, &in);
  const char *path = fz_path("data.h5");
  int written = write_file(&r, path);
  recipe_free(&r);
  if (!written) return;
  ref_data d;
  int valid = reference(path, &d);

  hid_t fid = -1;
  er_dgraph *g = NULL;
  er_err err = er_h5_open(MPI_COMM_SELF, path, 0, &fid);
  FZ_ASSERT(err == ER_OK, "er_h5_open of a well-formed file: %s", er_error_message());
  err = er_dgraph_create(MPI_COMM_SELF, fid, (er_part_choice){ER_PART_CHOICE_AUTO, 0}, 1, &g);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT) | FZ_CODE(ER_ERR_IO), 0, "er_dgraph_create");
  FZ_ASSERT((err == ER_OK) == valid, "er_dgraph_create says %s, the reference says %s",
            err == ER_OK ? "valid" : er_error_message(), valid ? "valid" : "invalid");
  if (g) check_graph(g, &d);
  er_dgraph_destroy(&g);
  er_h5_close(&fid);
  ref_free(&d);
  er_error_clear();

  int n_checked = 0, n_unsealed = 0, whole = -1;
  err = er_h5_verify_file(MPI_COMM_SELF, path, &n_checked, &n_unsealed, &whole);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT) | FZ_CODE(ER_ERR_IO), 0, "er_h5_verify_file");
  int sound = reference_verify(path);
  FZ_ASSERT((err == ER_OK) == sound, "er_h5_verify_file says %s, the reference says %s",
            err == ER_OK ? "sound" : er_error_message(), sound ? "sound" : "corrupted");
  FZ_ASSERT(err != ER_OK || whole == 0, "a dataset file with a whole-file digest?");
}
