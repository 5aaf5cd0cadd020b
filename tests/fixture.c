/* fixture.c: writes test datasets in the dataset format straight from arrays, and generates
 * grid and seeded random graphs. No validation of the graph: that is er_csr_read's job. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/rng.h"

/* An empty 1-D dataset. Made chunked with unlimited extent: a contiguous empty dataset has no
 * storage address, and collective MPI-IO transfers on it fail in HDF5 1.10 (even of zero
 * rows), so er_h5_write_rows cannot write one and er_h5_read_rows could not read it back. */
static er_err fixture_write_empty(hid_t fid, const char *name, hid_t file_type) {
  er_err err = ER_OK;
  hsize_t dim = 0, maxdim = H5S_UNLIMITED, chunk = 1024;
  hid_t sp = -1, dcpl = -1, ds = -1;
  ER_CALL(er_h5_make_parents(fid, name));
  sp = H5Screate_simple(1, &dim, &maxdim);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  ER_CHECK(sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0, ER_ERR_IO,
           "cannot set up empty dataset '%s'", name);
  ds = H5Dcreate2(fid, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ER_CHECK(ds >= 0, ER_ERR_IO, "cannot create dataset '%s'", name);
cleanup:
  if (ds >= 0) H5Dclose(ds);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (sp >= 0) H5Sclose(sp);
  return err;
}

/* Write this rank's block of a dataset of nrows rows (ncols = 0: 1-D) held whole in buf. */
static er_err fixture_write_block(MPI_Comm comm, hid_t fid, const char *name, hid_t file_type,
                                  hid_t mem_type, size_t elem, int64_t nrows, int64_t ncols,
                                  const void *buf) {
  int rank, size;
  if (nrows == 0 && ncols == 0) return fixture_write_empty(fid, name, file_type);
  int64_t lo, hi;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  er_block_range(nrows, size, rank, &lo, &hi);
  const char *p = (const char *)buf;
  size_t row_bytes = elem * (size_t)(ncols > 0 ? ncols : 1);
  return er_h5_write_rows(fid, name, file_type, mem_type, nrows, ncols, lo, hi - lo,
                          p ? p + (size_t)lo * row_bytes : NULL);
}

er_err er_test_write_dataset(MPI_Comm comm, const char *path, int64_t n, const int64_t *indptr,
                             const int64_t *indices, int64_t F, const float *x,
                             const int32_t *labels, int K, const int64_t *train, int64_t ntrain,
                             const int64_t *val, int64_t nval, const int64_t *test,
                             int64_t ntest) {
  er_err err = ER_OK;
  hid_t fid = -1;
  char *tmp = NULL;
  float *x0 = NULL;
  int32_t *y0 = NULL;
  if (n < 0 || F < 1 || !indptr)
    err = ER_ERROR(ER_ERR_INPUT, "er_test_write_dataset: need n >= 0, F >= 1 and indptr");
  if (err == ER_OK && !x) { /* zero features, whole array for simplicity (tests are small) */
    x0 = calloc((size_t)n * (size_t)F + 1, sizeof *x0);
    if (!x0) err = ER_ERROR(ER_ERR_MEM, "er_test_write_dataset: out of memory");
    x = x0;
  }
  if (err == ER_OK && !labels) {
    y0 = malloc((size_t)(n + 1) * sizeof *y0);
    if (!y0) err = ER_ERROR(ER_ERR_MEM, "er_test_write_dataset: out of memory");
    for (int64_t i = 0; y0 && i < n; ++i) y0[i] = -1;
    labels = y0;
  }
  ER_CALL(er_agree(comm, err)); /* nobody enters the collective create alone */
  int64_t nnz = indptr[n];
  ER_CALL(er_h5_create(comm, path, &fid, &tmp));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_INDPTR, H5T_STD_I64LE, H5T_NATIVE_INT64,
                              sizeof(int64_t), n + 1, 0, indptr));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_INDICES, H5T_STD_I64LE, H5T_NATIVE_INT64,
                              sizeof(int64_t), nnz, 0, indices));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_FEATURES, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                              sizeof(float), n, F, x));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_LABELS, H5T_STD_I32LE, H5T_NATIVE_INT32,
                              sizeof(int32_t), n, 0, labels));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_TRAIN, H5T_STD_I64LE, H5T_NATIVE_INT64,
                              sizeof(int64_t), ntrain, 0, train));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_VAL, H5T_STD_I64LE, H5T_NATIVE_INT64,
                              sizeof(int64_t), nval, 0, val));
  ER_CALL(fixture_write_block(comm, fid, ER_DS_TEST, H5T_STD_I64LE, H5T_NATIVE_INT64,
                              sizeof(int64_t), ntest, 0, test));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_nodes", n));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_edges", nnz / 2));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_features", F));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_classes", K));
  ER_CALL(er_h5_attr_set_str(fid, "/", "source", "test fixture"));
  err = er_h5_commit(comm, fid, path, &tmp);
  fid = -1;
cleanup:
  err = er_agree(comm, err);
  if (err != ER_OK && tmp) er_h5_abort(comm, fid, &tmp);
  free(x0);
  free(y0);
  return err;
}

void er_test_grid_graph(int64_t rows, int64_t cols, int64_t **indptr, int64_t **indices) {
  int64_t n = rows * cols;
  int64_t *ptr = malloc((size_t)(n + 1) * sizeof *ptr);
  int64_t *idx = malloc((size_t)(4 * n + 1) * sizeof *idx);
  *indptr = *indices = NULL;
  if (!ptr || !idx) {
    free(ptr);
    free(idx);
    return;
  }
  int64_t k = 0;
  ptr[0] = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      int64_t u = r * cols + c; /* neighbours in ascending id order */
      if (r > 0) idx[k++] = u - cols;
      if (c > 0) idx[k++] = u - 1;
      if (c + 1 < cols) idx[k++] = u + 1;
      if (r + 1 < rows) idx[k++] = u + cols;
      ptr[u + 1] = k;
    }
  *indptr = ptr;
  *indices = idx;
}

static int fixture_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

void er_test_random_graph(int64_t n, int64_t m, uint64_t seed, int64_t **indptr,
                          int64_t **indices) {
  int64_t *ptr = calloc((size_t)(n + 1), sizeof *ptr);
  int64_t *fill = malloc((size_t)(n + 1) * sizeof *fill);
  int64_t *idx = malloc((size_t)(2 * m + 1) * sizeof *idx);
  *indptr = *indices = NULL;
  if (!ptr || !fill || !idx || n < 1) {
    free(ptr);
    free(fill);
    free(idx);
    return;
  }
  /* two passes over the same draws (pure functions of their address): count, then fill */
  for (int64_t i = 0; i < m; ++i) {
    int64_t u = (int64_t)er_rng_below(seed, ER_TEST_STREAM_GRAPH, (uint64_t)i, 0, (uint64_t)n);
    int64_t v = (int64_t)er_rng_below(seed, ER_TEST_STREAM_GRAPH, (uint64_t)i, 1, (uint64_t)n);
    if (u == v) continue;
    ++ptr[u + 1];
    ++ptr[v + 1];
  }
  for (int64_t u = 0; u < n; ++u) ptr[u + 1] += ptr[u];
  memcpy(fill, ptr, (size_t)(n + 1) * sizeof *fill);
  for (int64_t i = 0; i < m; ++i) {
    int64_t u = (int64_t)er_rng_below(seed, ER_TEST_STREAM_GRAPH, (uint64_t)i, 0, (uint64_t)n);
    int64_t v = (int64_t)er_rng_below(seed, ER_TEST_STREAM_GRAPH, (uint64_t)i, 1, (uint64_t)n);
    if (u == v) continue;
    idx[fill[u]++] = v;
    idx[fill[v]++] = u;
  }
  /* sort each row, drop repeats, compact in place (rows only move left) */
  int64_t k = 0;
  for (int64_t u = 0; u < n; ++u) {
    int64_t lo = ptr[u], hi = ptr[u + 1];
    qsort(idx + lo, (size_t)(hi - lo), sizeof *idx, fixture_cmp_i64);
    ptr[u] = k;
    for (int64_t j = lo; j < hi; ++j)
      if (j == lo || idx[j] != idx[j - 1]) idx[k++] = idx[j];
  }
  ptr[n] = k;
  free(fill);
  *indptr = ptr;
  *indices = idx;
}

er_err er_test_generated_graph(MPI_Comm comm, const er_generate_opts *o, er_dgraph **g) {
  er_err err = ER_OK;
  hid_t fid = -1;
  int size;
  MPI_Comm_size(comm, &size);
  *g = NULL;
  ER_CALL(er_generate(comm, o));
  if (size > 1) ER_CALL(er_partition(comm, o->out, size, ER_PART_METIS, 1, NULL));
  ER_CALL(er_h5_open(comm, o->out, 0, &fid));
  err = er_dgraph_create(comm, fid, (er_part_choice){ER_PART_CHOICE_AUTO, 0}, 1, g);
  er_h5_close(&fid);
cleanup:
  return err;
}
