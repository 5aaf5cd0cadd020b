/* dataset.c: reading side of the one-file dataset (docs/FORMAT.md): metadata + shape checks,
 * rank-count independent checksums, and `erase-mpi info`. It never modifies a dataset and
 * does not check graph content beyond what a checksum pass reads (see test_import for that). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/sort.h"

/* Per-read caps for the block loops (elements): bounded memory on large graphs. */
#define DS_READ_CAP ((int64_t)1 << 22)

/* The checksums' buffer tables (erase/mem.h): (lvalue, elements, type, flags): the offsets of
 * the rows of the rank's block, their columns a batch at a time (cols_cap entries, grown to the
 * largest batch), and a batch of per rows of f features. */
#define CHECKSUM_ROWS(X) X(ptr, rows + 1, int64_t, 0)
#define CHECKSUM_COLS(X) X(cols, cols_cap, int64_t, 0)
#define CHECKSUM_FEATURES(X) X(x, (per < rows ? per : rows) * f, float, 0)

static const char *ds_file_name(hid_t fid, char *buf, size_t len) {
  if (H5Fget_name(fid, buf, len) < 0) snprintf(buf, len, "?");
  return buf;
}

//------------------------------------------------------------------------------------------
// Metadata
//------------------------------------------------------------------------------------------

/* Shape of a required dataset; `missing` is the message when it does not exist. */
static er_err ds_shape(hid_t fid, const char *file, const char *name, const char *missing,
                       int want_nd, int64_t dims[2]) {
  er_err err = ER_OK;
  int nd;
  ER_CHECK(er_h5_exists(fid, name), ER_ERR_INPUT, "'%s': %s (%s is missing)", file, missing,
           name);
  ER_CALL(er_h5_shape(fid, name, &nd, dims));
  ER_CHECK(nd == want_nd, ER_ERR_INPUT, "'%s': %s has rank %d, expected %d", file, name, nd,
           want_nd);
cleanup:
  return err;
}

static er_err ds_meta_local(hid_t fid, er_meta *m) {
  er_err err = ER_OK;
  char file[1024];
  int64_t d[2], attr[4];
  const char *names[4] = {"num_nodes", "num_edges", "num_features", "num_classes"};
  ds_file_name(fid, file, sizeof file);
  for (int i = 0; i < 4; ++i) {
    ER_CHECK(H5Aexists_by_name(fid, "/", names[i], H5P_DEFAULT) > 0, ER_ERR_INPUT,
             "'%s': root attribute '%s' is missing (not an erase-mpi dataset?)", file, names[i]);
    ER_CALL(er_h5_attr_get_i64(fid, "/", names[i], &attr[i]));
    ER_CHECK(attr[i] >= (i == 1 ? 0 : 1), ER_ERR_INPUT, "'%s': root attribute %s = %lld is invalid",
             file, names[i], (long long)attr[i]);
  }
  m->num_nodes = attr[0];
  m->num_edges = attr[1];
  m->num_features = attr[2];
  m->num_classes = attr[3];
  const int64_t n = m->num_nodes;
  /* the readers size indptr (N+1), indices (2E) and features (N x F) in bytes and keep K in
   * an int (labels are int32): counts beyond that are no dataset, and N+1, 2E, N*F overflow */
  ER_CHECK(n <= INT64_MAX / 8 - 1 && m->num_edges <= INT64_MAX / 16 &&
               m->num_features <= INT64_MAX / 4 / n, ER_ERR_INPUT,
           "'%s': root attributes num_nodes = %lld, num_edges = %lld, num_features = %lld "
           "describe arrays of more than 2^63 bytes", file, (long long)n,
           (long long)m->num_edges, (long long)m->num_features);
  ER_CHECK(m->num_classes <= INT32_MAX, ER_ERR_INPUT, "'%s': root attribute num_classes = %lld "
           "is beyond the int32 labels", file, (long long)m->num_classes);

  ER_CALL(ds_shape(fid, file, ER_DS_INDPTR, "dataset has no graph", 1, d));
  ER_CHECK(d[0] == n + 1, ER_ERR_INPUT, "'%s': %s has %lld entries, expected N+1 = %lld", file,
           ER_DS_INDPTR, (long long)d[0], (long long)(n + 1));
  ER_CALL(ds_shape(fid, file, ER_DS_INDICES, "dataset has no graph", 1, d));
  ER_CHECK(d[0] == 2 * m->num_edges, ER_ERR_INPUT,
           "'%s': %s has %lld entries, expected 2 * num_edges = %lld", file, ER_DS_INDICES,
           (long long)d[0], (long long)(2 * m->num_edges));
  ER_CALL(ds_shape(fid, file, ER_DS_FEATURES, "dataset has no features", 2, d));
  ER_CHECK(d[0] == n && d[1] == m->num_features, ER_ERR_INPUT,
           "'%s': %s is %lld x %lld, expected N x F = %lld x %lld", file, ER_DS_FEATURES,
           (long long)d[0], (long long)d[1], (long long)n, (long long)m->num_features);
  ER_CALL(ds_shape(fid, file, ER_DS_LABELS, "dataset has no labels", 1, d));
  ER_CHECK(d[0] == n, ER_ERR_INPUT, "'%s': %s has %lld entries, expected N = %lld", file,
           ER_DS_LABELS, (long long)d[0], (long long)n);
  ER_CALL(ds_shape(fid, file, ER_DS_TRAIN, "dataset has no training split", 1, d));
  m->n_train = d[0];
  ER_CALL(ds_shape(fid, file, ER_DS_VAL, "dataset has no validation split", 1, d));
  m->n_val = d[0];
  ER_CALL(ds_shape(fid, file, ER_DS_TEST, "dataset has no test split", 1, d));
  m->n_test = d[0];
cleanup:
  return err;
}

er_err er_dataset_meta(MPI_Comm comm, hid_t fid, er_meta *meta) {
  memset(meta, 0, sizeof *meta);
  er_err err = er_agree(comm, ds_meta_local(fid, meta));
  if (err != ER_OK) memset(meta, 0, sizeof *meta);
  return err;
}

//------------------------------------------------------------------------------------------
// Checksums: sum over rows of hash(global id, row bytes), mod 2^64
//------------------------------------------------------------------------------------------

#define DS_SALT_GRAPH 0x6772617068ULL   /* "graph" */
#define DS_SALT_FEAT 0x6665617475726573ULL /* "features" */

static inline uint64_t mix64(uint64_t z) { /* splitmix64 */
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t hash_graph_row(int64_t gid, const int64_t *cols, int64_t len) {
  uint64_t h = mix64((uint64_t)gid ^ DS_SALT_GRAPH);
  for (int64_t j = 0; j < len; ++j) h = mix64(h ^ (uint64_t)cols[j]);
  return mix64(h ^ (uint64_t)len);
}

uint64_t er_graph_rows_sum(int64_t row0, int64_t n, const int64_t *indptr, const int64_t *cols) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += hash_graph_row(row0 + i, cols + (indptr[i] - indptr[0]), indptr[i + 1] - indptr[i]);
  return sum;
}

static uint64_t hash_feature_row(int64_t gid, const float *x, int64_t f) {
  uint64_t h = mix64((uint64_t)gid ^ DS_SALT_FEAT);
  int64_t j = 0;
  for (; j + 1 < f; j += 2) {
    uint32_t a, b;
    memcpy(&a, &x[j], 4);
    memcpy(&b, &x[j + 1], 4);
    h = mix64(h ^ ((uint64_t)a | (uint64_t)b << 32));
  }
  if (j < f) {
    uint32_t a;
    memcpy(&a, &x[j], 4);
    h = mix64(h ^ a);
  }
  return mix64(h ^ (uint64_t)f);
}

/* End of the next batch of rows starting at r (at least one row, at most DS_READ_CAP entries
 * unless a single row is longer). ptr is indexed from lo. */
static int64_t graph_batch_end(const int64_t *ptr, int64_t lo, int64_t hi, int64_t r) {
  int64_t e = r + 1;
  while (e < hi && ptr[e + 1 - lo] - ptr[r - lo] <= DS_READ_CAP) ++e;
  return e;
}

static er_err checksum_graph(MPI_Comm comm, hid_t fid, uint64_t *sum_out) {
  er_err err = ER_OK;
  int rank, size, nd;
  int64_t d[2] = {1, 1}, lo = 0, hi = 0, nnz = 0, rounds = 0, max_rounds;
  int64_t *ptr = NULL, *cols = NULL, cols_cap = 0;
  uint64_t sum = 0;
  char file[1024];
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ds_file_name(fid, file, sizeof file);
  err = er_h5_shape(fid, ER_DS_INDPTR, &nd, d);
  if (err == ER_OK) {
    const int64_t n = d[0] - 1;
    err = er_h5_shape(fid, ER_DS_INDICES, &nd, d);
    nnz = d[0];
    er_block_range(n, size, rank, &lo, &hi);
  }
  ER_AGREE(comm);
  const int64_t rows = hi - lo;
  CHECKSUM_ROWS(ER_BUF_ALLOC)
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, lo, hi > lo ? hi - lo + 1 : 0,
                          ptr));
  for (int64_t i = 0; hi > lo && i <= hi - lo && err == ER_OK; ++i)
    if (ptr[i] < 0 || ptr[i] > nnz || (i > 0 && ptr[i] < ptr[i - 1]))
      err = ER_ERROR(ER_ERR_INPUT, "'%s': %s is corrupt at entry %lld (not non-decreasing in "
                     "[0, %lld])", file, ER_DS_INDPTR, (long long)(lo + i), (long long)nnz);
  ER_AGREE(comm);
  for (int64_t r = lo; r < hi; r = graph_batch_end(ptr, lo, hi, r)) ++rounds;
  ER_CALL_MPI(MPI_Allreduce(&rounds, &max_rounds, 1, MPI_INT64_T, MPI_MAX, comm));
  int64_t r = lo;
  for (int64_t round = 0; round < max_rounds; ++round) {
    int64_t e = r < hi ? graph_batch_end(ptr, lo, hi, r) : r;
    int64_t b0 = r < hi ? ptr[r - lo] : 0, cnt = r < hi ? ptr[e - lo] - b0 : 0;
    if (cnt > cols_cap) {
      ER_BUF_RELEASE(cols);
      cols_cap = cnt;
      CHECKSUM_COLS(ER_BUF_ALLOC)
    }
    static int64_t dummy;
    ER_AGREE(comm);
    ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, H5T_NATIVE_INT64, b0, cnt, cols ? cols : &dummy));
    sum += er_graph_rows_sum(r, e - r, ptr + (r - lo), cols);
    r = e;
  }
  ER_CALL_MPI(MPI_Allreduce(&sum, sum_out, 1, MPI_UINT64_T, MPI_SUM, comm));
cleanup:
  err = ER_FINISH(comm);
  CHECKSUM_ROWS(ER_BUF_FREE)
  CHECKSUM_COLS(ER_BUF_FREE)
  return err;
}

static er_err checksum_features(MPI_Comm comm, hid_t fid, uint64_t *sum_out) {
  er_err err = ER_OK;
  int rank, size, nd;
  int64_t d[2] = {0, 1}, lo = 0, hi = 0, rounds, max_rounds, per;
  float *x = NULL;
  uint64_t sum = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ER_CALL(er_h5_shape(fid, ER_DS_FEATURES, &nd, d));
  const int64_t n = d[0], f = d[1];
  er_block_range(n, size, rank, &lo, &hi);
  per = DS_READ_CAP / (f > 0 ? f : 1);
  if (per < 1) per = 1;
  rounds = (hi - lo + per - 1) / per;
  ER_CALL_MPI(MPI_Allreduce(&rounds, &max_rounds, 1, MPI_INT64_T, MPI_MAX, comm));
  const int64_t rows = hi - lo;
  CHECKSUM_FEATURES(ER_BUF_ALLOC)
  ER_AGREE(comm);
  for (int64_t round = 0, r = lo; round < max_rounds; ++round) {
    int64_t cnt = hi - r < per ? hi - r : per;
    ER_CALL(er_h5_read_rows(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, r, cnt, x));
    for (int64_t i = 0; i < cnt; ++i) sum += hash_feature_row(r + i, x + i * f, f);
    r += cnt;
  }
  ER_CALL_MPI(MPI_Allreduce(&sum, sum_out, 1, MPI_UINT64_T, MPI_SUM, comm));
cleanup:
  err = ER_FINISH(comm);
  CHECKSUM_FEATURES(ER_BUF_FREE)
  return err;
}

er_err er_dataset_checksum(MPI_Comm comm, hid_t fid, uint64_t *graph_sum, uint64_t *feature_sum) {
  er_err err = ER_OK;
  *graph_sum = *feature_sum = 0;
  ER_CALL(checksum_graph(comm, fid, graph_sum));
  ER_CALL(checksum_features(comm, fid, feature_sum));
cleanup:
  return err;
}

//------------------------------------------------------------------------------------------
// info
//------------------------------------------------------------------------------------------

/* Class histogram: counts[0..K) per class, counts[K] unknown (-1), counts[K+1] invalid. */
static er_err info_histogram(MPI_Comm comm, hid_t fid, const er_meta *m, int64_t *counts) {
  er_err err = ER_OK;
  int rank, size;
  int64_t lo, hi, k = m->num_classes;
  int32_t *y = NULL;
  int64_t *local = NULL;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  er_block_range(m->num_nodes, size, rank, &lo, &hi);
  ER_MALLOC(y, hi - lo);
  ER_CALLOC(local, k + 2);
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_LABELS, H5T_NATIVE_INT32, lo, hi - lo, y));
  for (int64_t i = 0; i < hi - lo; ++i) {
    if (y[i] == -1) local[k]++;
    else if (y[i] >= 0 && y[i] < k) local[y[i]]++;
    else local[k + 1]++;
  }
  ER_CALL_MPI(MPI_Allreduce(local, counts, (int)(k + 2), MPI_INT64_T, MPI_SUM, comm));
cleanup:
  err = ER_FINISH(comm);
  free(y);
  free(local);
  return err;
}

/* String attribute, fixed-length (er_h5_attr_set_str) or variable-length (h5py); buf keeps
 * its content ("?" by the caller) when the attribute is missing or unreadable. Sets no error. */
static void ds_attr_str(hid_t fid, const char *obj, const char *attr, char *buf, size_t len) {
  hid_t a = -1, ft = -1, mt = -1, sp = -1;
  if (H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) <= 0) return;
  a = H5Aopen_by_name(fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return;
  ft = H5Aget_type(a);
  sp = H5Aget_space(a);
  if (ft >= 0 && sp >= 0 && H5Tget_class(ft) == H5T_STRING &&
      H5Sget_simple_extent_npoints(sp) == 1) {
    if (H5Tis_variable_str(ft) > 0) {
      char *v = NULL;
      mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      H5Tset_cset(mt, H5Tget_cset(ft)); /* h5py writes UTF-8; no ASCII<->UTF-8 conversion */
      if (H5Aread(a, mt, &v) >= 0 && v) {
        snprintf(buf, len, "%s", v);
        H5free_memory(v);
      }
    } else {
      size_t sz = H5Tget_size(ft);
      char *v = malloc(sz + 1);
      mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, sz + 1);
      H5Tset_cset(mt, H5Tget_cset(ft));
      if (v && H5Aread(a, mt, v) >= 0) {
        v[sz] = '\0';
        snprintf(buf, len, "%s", v);
      }
      free(v);
    }
  }
  if (mt >= 0) H5Tclose(mt);
  if (sp >= 0) H5Sclose(sp);
  if (ft >= 0) H5Tclose(ft);
  H5Aclose(a);
}

er_err er_info(MPI_Comm comm, const char *path) {
  er_err err = ER_OK;
  hid_t fid = -1;
  er_meta m;
  int64_t *counts = NULL;
  uint64_t gsum = 0, fsum = 0;
  char source[4096] = "?";
  ER_CALL(er_h5_open(comm, path, 0, &fid));
  ER_CALL(er_dataset_meta(comm, fid, &m));
  ds_attr_str(fid, "/", "source", source, sizeof source);
  ER_CALLOC(counts, m.num_classes + 2);
  ER_AGREE(comm);
  ER_CALL(info_histogram(comm, fid, &m, counts));
  ER_CALL(er_dataset_checksum(comm, fid, &gsum, &fsum));

  const int64_t n = m.num_nodes, k = m.num_classes;
  er_log(comm,
         "dataset     %s\n"
         "source      %s\n"
         "nodes       %lld\n"
         "edges       %lld undirected (%lld CSR entries, mean degree %.2f)\n"
         "features    %lld\n"
         "classes     %lld\n"
         "splits      train %lld, val %lld, test %lld (%.1f%% of nodes)\n"
         "labels      %lld known, %lld unknown\n",
         path, source, (long long)n, (long long)m.num_edges, (long long)(2 * m.num_edges),
         2.0 * m.num_edges / n, (long long)m.num_features, (long long)k, (long long)m.n_train,
         (long long)m.n_val, (long long)m.n_test,
         100.0 * (m.n_train + m.n_val + m.n_test) / n, (long long)(n - counts[k] - counts[k + 1]),
         (long long)counts[k]);
  if (counts[k + 1])
    er_log(comm, "            %lld labels outside [-1, K) (invalid)\n", (long long)counts[k + 1]);
  for (int64_t c = 0; c < k; ++c)
    er_log(comm, "  class %-4lld %8lld  (%5.1f%%)\n", (long long)c, (long long)counts[c],
           100.0 * counts[c] / n);
  ER_CALL(er_partition_list(comm, fid, m.num_nodes, m.num_edges));
  er_log(comm, "checksums   graph %016" PRIx64 ", features %016" PRIx64 "\n", gsum, fsum);
cleanup:
  err = ER_FINISH(comm);
  free(counts);
  er_h5_close(&fid);
  return err;
}
