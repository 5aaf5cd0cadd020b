/* test_partition.c: er_partition_run (METIS, PT-Scotch, block) and er_csr_read on a grid, a
 * random graph and Cora (when present): stored owners, attributes and statistics against
 * independent recomputation, quality on a grid, coexistence and replacement of /partitions/<P>
 * in the sidecar, a dataset file that never changes, locating partitions (dataset first, then
 * the sidecar; a sidecar of another graph), seeds, bad input. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "fixture.h"
#include "testutil.h"

typedef struct {
  const char *name;
  int64_t n;
  int64_t *indptr, *indices;
} graph;

static const int test_parts[] = {2, 3, 4, 8};
enum { N_TEST_PARTS = 4 };

//---- independent recomputation ------------------------------------------------------------

static int64_t ref_cut(const graph *g, const int32_t *owner) {
  int64_t directed = 0;
  for (int64_t u = 0; u < g->n; ++u)
    for (int64_t k = g->indptr[u]; k < g->indptr[u + 1]; ++k)
      directed += owner[u] != owner[g->indices[k]];
  return directed / 2;
}

/* Sum over parts of distinct off-part neighbours, one part at a time with a marker. */
static int64_t ref_ghosts(const graph *g, const int32_t *owner, int parts) {
  int64_t total = 0;
  char *mark = malloc((size_t)g->n + 1);
  for (int p = 0; p < parts; ++p) {
    memset(mark, 0, (size_t)g->n + 1);
    for (int64_t u = 0; u < g->n; ++u) {
      if (owner[u] != p) continue;
      for (int64_t k = g->indptr[u]; k < g->indptr[u + 1]; ++k) {
        int64_t v = g->indices[k];
        if (owner[v] != p && !mark[v]) {
          mark[v] = 1;
          ++total;
        }
      }
    }
  }
  free(mark);
  return total;
}

//---- checks -------------------------------------------------------------------------------

static void check_csr_read(const char *path, const graph *g) {
  hid_t fid = -1;
  er_csr c = {0, 0, NULL, NULL};
  TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
  TEST_OK(er_csr_read(MPI_COMM_WORLD, fid, &c));
  er_h5_close(&fid);
  TEST_CHECK(c.n == g->n && c.nnz == g->indptr[g->n], "%s: csr sizes %lld/%lld", g->name,
             (long long)c.n, (long long)c.nnz);
  if (c.n == g->n && c.nnz == g->indptr[g->n]) {
    TEST_CHECK(!memcmp(c.indptr, g->indptr, (size_t)(g->n + 1) * sizeof(int64_t)),
               "%s: indptr differs", g->name);
    TEST_CHECK(!memcmp(c.indices, g->indices, (size_t)c.nnz * sizeof(int64_t)),
               "%s: indices differ", g->name);
  }
  er_csr_free(&c);
  TEST_CHECK(c.indptr == NULL && c.indices == NULL && c.n == 0, "er_csr_free resets");
  er_csr_free(NULL);
}

static const char *method_name(er_part_method m) {
  return m == ER_PART_METIS ? "metis" : m == ER_PART_PTSCOTCH ? "ptscotch" : "block";
}

/* Rank 0: the names in dir that contain ".tmp." (a temporary file left behind). */
static int count_tmp_files(const char *dir) {
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) ++n;
  if (d) closedir(d);
  return n;
}

/* A digest of the file's bytes and its mtime, on rank 0 (0 elsewhere): a dataset must never
 * change when it is partitioned. */
static uint64_t file_digest(const char *path) {
  int rank;
  uint64_t h = 1469598103934665603ull;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return 0;
  struct stat st;
  FILE *f = fopen(path, "rb");
  if (!f || stat(path, &st) != 0) {
    if (f) fclose(f);
    return 0;
  }
  for (int c; (c = getc(f)) != EOF;) h = (h ^ (uint64_t)c) * 1099511628211ull;
  fclose(f);
  return h ^ ((uint64_t)st.st_mtim.tv_sec * 1000000007ull + (uint64_t)st.st_mtim.tv_nsec);
}

/* Re-read /partitions/<P> (wherever er_partition_locate finds it) and check it against g and
 * the stats er_partition returned. Returns the owners (caller frees) or NULL when they could
 * not be read. */
static int32_t *check_partition_w(const char *path, const graph *g, int parts,
                                  er_part_method method, er_part_weights weights,
                                  const er_part_stats *st) {
  hid_t fid = -1, pfid = -1;
  char name[64], meth[16] = "", dir[512];
  int64_t cut_attr = -1, max_attr = -1, ghosts_attr = -1;
  double mean_attr = -1;
  int32_t *owner = malloc((size_t)g->n * sizeof *owner);
  int64_t *size = calloc((size_t)parts, sizeof *size);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
  TEST_OK(er_partition_locate(fid, parts, &pfid, name, sizeof name));
  TEST_CHECK(pfid >= 0 && pfid != fid, "%s P=%d: not found in the sidecar", g->name, parts);
  er_err e = pfid >= 0 ? er_h5_read_all(pfid, name, H5T_NATIVE_INT32, owner) : ER_ERR_INPUT;
  TEST_CHECK(e == ER_OK, "%s P=%d: read %s: %s", g->name, parts, name, er_error_message());
  if (pfid >= 0) {
    TEST_OK(er_h5_attr_get_str(pfid, name, "method", meth, sizeof meth));
    TEST_OK(er_h5_attr_get_i64(pfid, name, "edge_cut", &cut_attr));
    TEST_OK(er_h5_attr_get_i64(pfid, name, "max_part_size", &max_attr));
    TEST_OK(er_h5_attr_get_f64(pfid, name, "mean_part_size", &mean_attr));
    TEST_OK(er_h5_attr_get_i64(pfid, name, "ghosts", &ghosts_attr));
  }
  er_partition_release(fid, &pfid);
  er_h5_close(&fid);
  snprintf(dir, sizeof dir, "%s", path);
  *strrchr(dir, '/') = '\0';
  if (rank == 0)
    TEST_CHECK(count_tmp_files(dir) == 0, "%s P=%d: temporary file left in %s", g->name, parts,
               dir);
  if (e != ER_OK) {
    free(owner);
    free(size);
    return NULL;
  }

  int bad = 0;
  for (int64_t u = 0; u < g->n; ++u) {
    if (owner[u] < 0 || owner[u] >= parts) ++bad;
    else ++size[owner[u]];
  }
  TEST_CHECK(bad == 0, "%s P=%d: %d owners outside [0, P)", g->name, parts, bad);
  int64_t max_size = 0, empty = 0;
  for (int p = 0; p < parts; ++p) {
    empty += size[p] == 0;
    if (size[p] > max_size) max_size = size[p];
  }
  TEST_CHECK(empty == 0, "%s P=%d: %lld empty parts", g->name, parts, (long long)empty);
  if (bad == 0) {
    int64_t cut = ref_cut(g, owner), ghosts = ref_ghosts(g, owner, parts);
    TEST_CHECK(cut_attr == cut, "%s P=%d: edge_cut attribute %lld, recomputed %lld", g->name,
               parts, (long long)cut_attr, (long long)cut);
    TEST_CHECK(ghosts_attr == ghosts, "%s P=%d: ghosts attribute %lld, recomputed %lld", g->name,
               parts, (long long)ghosts_attr, (long long)ghosts);
    TEST_CHECK(st->edge_cut == cut && st->total_ghosts == ghosts,
               "%s P=%d: stats cut %lld ghosts %lld, recomputed %lld %lld", g->name, parts,
               (long long)st->edge_cut, (long long)st->total_ghosts, (long long)cut,
               (long long)ghosts);
  }
  TEST_CHECK(max_attr == max_size && st->max_part_size == max_size,
             "%s P=%d: max_part_size attribute %lld stats %lld, recomputed %lld", g->name,
             parts, (long long)max_attr, (long long)st->max_part_size, (long long)max_size);
  double mean = (double)g->n / parts;
  TEST_CHECK(mean_attr == mean && st->mean_part_size == mean,
             "%s P=%d: mean_part_size %g, expected %g", g->name, parts, mean_attr, mean);
  TEST_CHECK(!strcmp(meth, method_name(method)), "%s P=%d: method attribute '%s'", g->name,
             parts, meth);
  if (method == ER_PART_BLOCK) {
    int wrong = 0;
    for (int p = 0; p < parts; ++p) {
      int64_t lo, hi;
      er_block_range(g->n, parts, p, &lo, &hi);
      for (int64_t u = lo; u < hi; ++u) wrong += owner[u] != p;
    }
    TEST_CHECK(wrong == 0, "%s P=%d: %d nodes not in their contiguous block", g->name, parts,
               wrong);
  } else if (weights == ER_PART_WEIGHTS_NONE) {
    /* METIS's and our PT-Scotch tolerance is 1.03; leave slack for small graphs */
    TEST_CHECK(max_size <= 1.10 * mean + 1, "%s P=%d: %s part of %lld nodes, mean %.1f",
               g->name, parts, meth, (long long)max_size, mean);
  } else if (bad == 0) { /* degree weights: the parts' sums of 1 + degree are balanced */
    int64_t *w = calloc((size_t)parts, sizeof *w), wmax = 0, wmax_node = 0;
    for (int64_t u = 0; u < g->n; ++u) {
      int64_t wu = 1 + g->indptr[u + 1] - g->indptr[u];
      w[owner[u]] += wu;
      if (wu > wmax_node) wmax_node = wu;
    }
    for (int p = 0; p < parts; ++p)
      if (w[p] > wmax) wmax = w[p];
    double wmean = (double)(g->n + g->indptr[g->n]) / parts;
    TEST_CHECK(wmax <= 1.10 * wmean + wmax_node, "%s P=%d: %s weighted part %lld, mean %.1f",
               g->name, parts, meth, (long long)wmax, wmean);
    free(w);
  }
  free(size);
  return owner;
}

static int32_t *check_partition(const char *path, const graph *g, int parts,
                                er_part_method method, const er_part_stats *st) {
  return check_partition_w(path, g, parts, method, ER_PART_WEIGHTS_NONE, st);
}

/* The sidecar of path must hold /partitions/<P> with this method attribute. */
static void check_sidecar_method(const char *path, const graph *g, int P, const char *want) {
  hid_t fid = -1;
  char side[600], name[64], meth[16] = "";
  TEST_OK(er_partition_sidecar(path, side, sizeof side));
  snprintf(name, sizeof name, "%s/%d", ER_DS_PARTITIONS, P);
  TEST_OK(er_h5_open(MPI_COMM_WORLD, side, 0, &fid));
  TEST_CHECK(fid >= 0 && er_h5_exists(fid, name), "%s: %s vanished", g->name, name);
  if (fid >= 0 && er_h5_exists(fid, name))
    TEST_OK(er_h5_attr_get_str(fid, name, "method", meth, sizeof meth));
  TEST_CHECK(!strcmp(meth, want), "%s: %s has method '%s', expected %s", g->name, name, meth,
             want);
  er_h5_close(&fid);
}

/* METIS, PT-Scotch and block for every test P; afterwards all P coexist in the sidecar (block,
 * the last written); the dataset file itself never changes. Same seed, same result. */
static void run_suite(const char *path, const graph *g, uint64_t seed) {
  int32_t *metis_owner[N_TEST_PARTS] = {NULL}, *scotch_owner[N_TEST_PARTS] = {NULL};
  er_part_stats st;
  uint64_t digest = file_digest(path);
  for (int i = 0; i < N_TEST_PARTS; ++i) {
    int P = test_parts[i];
    TEST_OK(er_partition(MPI_COMM_WORLD, path, P, ER_PART_METIS, seed, &st));
    metis_owner[i] = check_partition(path, g, P, ER_PART_METIS, &st);
    TEST_OK(er_partition(MPI_COMM_WORLD, path, P, ER_PART_PTSCOTCH, seed, &st));
    scotch_owner[i] = check_partition(path, g, P, ER_PART_PTSCOTCH, &st);
    TEST_OK(er_partition(MPI_COMM_WORLD, path, P, ER_PART_BLOCK, seed, &st));
    free(check_partition(path, g, P, ER_PART_BLOCK, &st)); /* replaced the PT-Scotch one */
  }
  for (int i = 0; i < N_TEST_PARTS; ++i) /* coexistence: every P still there, as block */
    check_sidecar_method(path, g, test_parts[i], "block");
  TEST_CHECK(digest == file_digest(path), "%s: partition changed the dataset file", g->name);
  /* same seed, same result: METIS runs on rank 0 only, so at any rank count; PT-Scotch at the
   * same rank count (its result depends on it) */
  TEST_OK(er_partition(MPI_COMM_WORLD, path, 4, ER_PART_METIS, seed, &st));
  int32_t *again = check_partition(path, g, 4, ER_PART_METIS, &st);
  TEST_CHECK(again && metis_owner[2] &&
                 !memcmp(again, metis_owner[2], (size_t)g->n * sizeof *again),
             "%s: METIS with the same seed gave a different partition", g->name);
  free(again);
  TEST_OK(er_partition(MPI_COMM_WORLD, path, 4, ER_PART_PTSCOTCH, seed, &st));
  again = check_partition(path, g, 4, ER_PART_PTSCOTCH, &st);
  TEST_CHECK(again && scotch_owner[2] &&
                 !memcmp(again, scotch_owner[2], (size_t)g->n * sizeof *again),
             "%s: PT-Scotch with the same seed gave a different partition", g->name);
  free(again);
  /* the objective and the weights: valid partitions with the options recorded */
  const er_part_opts variants[3] = {
      {8, ER_PART_METIS, ER_PART_OBJ_VOL, ER_PART_WEIGHTS_NONE, seed, 1},
      {8, ER_PART_METIS, ER_PART_OBJ_CUT, ER_PART_WEIGHTS_DEGREE, seed, 1},
      {8, ER_PART_PTSCOTCH, ER_PART_OBJ_CUT, ER_PART_WEIGHTS_DEGREE, seed, 1}};
  for (int v = 0; v < 3; ++v) {
    const er_part_opts *o = &variants[v];
    TEST_OK(er_partition_run(MPI_COMM_WORLD, path, o, &st));
    free(check_partition_w(path, g, 8, o->method, o->weights, &st));
    hid_t fid = -1, pfid = -1;
    char name[64], obj[16] = "", wts[16] = "";
    TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
    TEST_OK(er_partition_locate(fid, 8, &pfid, name, sizeof name));
    if (pfid >= 0) {
      TEST_OK(er_h5_attr_get_str(pfid, name, "objective", obj, sizeof obj));
      TEST_OK(er_h5_attr_get_str(pfid, name, "weights", wts, sizeof wts));
    }
    TEST_CHECK(!strcmp(obj, o->objective == ER_PART_OBJ_VOL ? "vol" : "cut") &&
                   !strcmp(wts, o->weights == ER_PART_WEIGHTS_DEGREE ? "degree" : "none"),
               "%s variant %d: objective '%s', weights '%s'", g->name, v, obj, wts);
    er_partition_release(fid, &pfid);
    er_h5_close(&fid);
  }
  TEST_CHECK(digest == file_digest(path), "%s: partition changed the dataset file", g->name);
  for (int i = 0; i < N_TEST_PARTS; ++i) free(metis_owner[i]), free(scotch_owner[i]);
}

//---- datasets -----------------------------------------------------------------------------

static void write_graph(const char *path, const graph *g) {
  TEST_OK(er_test_write_dataset(MPI_COMM_WORLD, path, g->n, g->indptr, g->indices, 2, NULL,
                                NULL, 3, NULL, 0, NULL, 0, NULL, 0));
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Cora's graph.edges ("u v" per line) symmetrized, sorted, deduplicated; 0 if unreadable. */
static int cora_graph(const char *dir, graph *g) {
  char path[4096];
  snprintf(path, sizeof path, "%s/graph.edges", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int64_t cap = 1 << 14, m = 0, n = 0, *e = malloc((size_t)cap * 2 * sizeof *e);
  long long u, v;
  while (fscanf(f, "%lld %lld", &u, &v) == 2) {
    if (u == v || u < 0 || v < 0) continue;
    if (m == cap) e = realloc(e, (size_t)(cap *= 2) * 2 * sizeof *e);
    e[2 * m] = u;
    e[2 * m + 1] = v;
    ++m;
    if (u + 1 > n) n = u + 1;
    if (v + 1 > n) n = v + 1;
  }
  fclose(f);
  g->n = n;
  g->indptr = calloc((size_t)n + 1, sizeof *g->indptr);
  g->indices = malloc((size_t)(2 * m + 1) * sizeof *g->indices);
  for (int64_t i = 0; i < 2 * m; ++i) ++g->indptr[e[i] + 1];
  for (int64_t i = 0; i < n; ++i) g->indptr[i + 1] += g->indptr[i];
  int64_t *fill = malloc((size_t)n * sizeof *fill);
  memcpy(fill, g->indptr, (size_t)n * sizeof *fill);
  for (int64_t i = 0; i < m; ++i) {
    g->indices[fill[e[2 * i]]++] = e[2 * i + 1];
    g->indices[fill[e[2 * i + 1]]++] = e[2 * i];
  }
  int64_t k = 0;
  for (int64_t r = 0; r < n; ++r) {
    int64_t lo = g->indptr[r], hi = g->indptr[r + 1];
    qsort(g->indices + lo, (size_t)(hi - lo), sizeof(int64_t), cmp_i64);
    g->indptr[r] = k;
    for (int64_t j = lo; j < hi; ++j)
      if (j == lo || g->indices[j] != g->indices[j - 1]) g->indices[k++] = g->indices[j];
  }
  g->indptr[n] = k;
  free(fill);
  free(e);
  return n > 0;
}

//---- bad input ----------------------------------------------------------------------------

static void expect_input_error(er_err e, const char *what, const char *needle) {
  TEST_CHECK(e == ER_ERR_INPUT, "%s: expected ER_ERR_INPUT, got %d (%s)", what, e,
             er_error_message());
  TEST_CHECK(strstr(er_error_message(), needle), "%s: message '%s' lacks '%s'", what,
             er_error_message(), needle);
  er_error_clear();
}

/* A file whose /graph/indptr claims 2^31 + 1 nodes: chunked and never written, so it takes no
 * space; METIS's 32-bit idx_t must be refused before anything is read. */
static void write_huge_claim(const char *path) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(fid, "/graph", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {((hsize_t)1 << 31) + 2, 8}, chunk[2] = {1 << 16, 8};
    const char *names[2] = {ER_DS_INDPTR, ER_DS_INDICES};
    for (int i = 0; i < 2; ++i) {
      hid_t sp = H5Screate_simple(1, &dims[i], NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(dcpl, 1, &chunk[i]);
      hid_t ds = H5Dcreate2(fid, names[i], H5T_STD_I64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
      H5Dclose(ds);
      H5Pclose(dcpl);
      H5Sclose(sp);
    }
    H5Gclose(g);
    H5Fclose(fid);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

/* No sidecar next to path (nothing was stored). */
static void check_no_sidecar(const char *path, const char *what) {
  char side[600];
  struct stat st;
  TEST_OK(er_partition_sidecar(path, side, sizeof side));
  TEST_CHECK(stat(side, &st) != 0, "%s: a sidecar was written", what);
}

static void check_bad_input(const char *dir, const char *grid_path, int64_t n) {
  char path[512];
  er_part_stats st;
  expect_input_error(er_partition(MPI_COMM_WORLD, grid_path, 0, ER_PART_METIS, 0, &st),
                     "P=0", "at least 1");
  expect_input_error(er_partition(MPI_COMM_WORLD, grid_path, -3, ER_PART_BLOCK, 0, &st),
                     "P<0", "at least 1");
  expect_input_error(er_partition(MPI_COMM_WORLD, grid_path, (int)n + 1, ER_PART_METIS, 0, &st),
                     "P>N", "parts must be between 1 and N");
  expect_input_error(er_partition(MPI_COMM_WORLD, grid_path, (int)n + 1, ER_PART_PTSCOTCH, 0,
                                  &st),
                     "P>N ptscotch", "parts must be between 1 and N");
  expect_input_error(er_partition(MPI_COMM_WORLD, grid_path, 2, (er_part_method)7, 0, &st),
                     "bad method", "unknown partition method");
  {
    er_part_opts vol = {2, ER_PART_PTSCOTCH, ER_PART_OBJ_VOL, ER_PART_WEIGHTS_NONE, 0, 1};
    er_part_opts deg = {2, ER_PART_BLOCK, ER_PART_OBJ_CUT, ER_PART_WEIGHTS_DEGREE, 0, 1};
    expect_input_error(er_partition_run(MPI_COMM_WORLD, grid_path, &vol, &st), "ptscotch vol",
                       "--objective vol needs --method metis");
    expect_input_error(er_partition_run(MPI_COMM_WORLD, grid_path, &deg, &st), "block degree",
                       "--method block takes no");
    er_part_opts many = {2, ER_PART_PTSCOTCH, ER_PART_OBJ_CUT, ER_PART_WEIGHTS_NONE, 0,
                         ER_PART_NCUTS_MAX + 1};
    er_part_opts block2 = {2, ER_PART_BLOCK, ER_PART_OBJ_CUT, ER_PART_WEIGHTS_NONE, 0, 2};
    expect_input_error(er_partition_run(MPI_COMM_WORLD, grid_path, &many, &st), "ncuts > max",
                       "--ncuts must be between 1 and");
    expect_input_error(er_partition_run(MPI_COMM_WORLD, grid_path, &block2, &st), "block ncuts",
                       "--method block takes no");
  }
  snprintf(path, sizeof path, "%s/missing.h5", dir);
  expect_input_error(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_METIS, 0, &st), "missing",
                     "cannot open");
  expect_input_error(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_PTSCOTCH, 0, &st),
                     "missing ptscotch", "cannot open");
  check_no_sidecar(path, "missing");
  snprintf(path, sizeof path, "%s/huge.h5", dir);
  write_huge_claim(path);
  expect_input_error(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_METIS, 0, &st), "huge",
                     "graph too large for METIS's 32-bit idx_t (N=2147483649, 2E=8); use "
                     "--method ptscotch or block");
  expect_input_error(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_PTSCOTCH, 0, &st),
                     "huge ptscotch",
                     sizeof(int) == 4 ? "graph too large for PT-Scotch's 32-bit SCOTCH_Num "
                                        "(N=2147483649, 2E=8)"
                                      : "graph too large");
  check_no_sidecar(path, "huge");
  /* a dataset with no graph: a fixture file whose graph group is unlinked */
  {
    int64_t ptr[3] = {0, 1, 2}, idx[2] = {1, 0};
    graph tiny = {"tiny", 2, ptr, idx};
    snprintf(path, sizeof path, "%s/nograph.h5", dir);
    write_graph(path, &tiny);
    hid_t fid = -1;
    TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 1, &fid));
    TEST_CHECK(H5Ldelete(fid, "/graph", H5P_DEFAULT) >= 0, "unlink /graph");
    er_h5_close(&fid);
    expect_input_error(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_METIS, 0, &st), "no graph",
                       "holds no graph");
    expect_input_error(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_PTSCOTCH, 0, &st),
                       "no graph ptscotch", "holds no graph");
    TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
    er_csr c;
    expect_input_error(er_csr_read(MPI_COMM_WORLD, fid, &c), "csr no graph", "holds no graph");
    er_h5_close(&fid);
    check_no_sidecar(path, "no graph");
  }
  /* broken CSRs are refused by er_csr_read (block, METIS) and by PT-Scotch's own checks of
   * each rank's rows; nothing is written */
  {
    static const struct {
      const char *what, *needle;
      int64_t ptr[4], idx[4];
    } bad[] = {
        {"asymmetric", "not symmetric", {0, 1, 2, 2}, {1, 2}},
        {"self loop", "self loop", {0, 2, 3, 4}, {0, 1, 0, 0}},
        {"unsorted", "not strictly ascending", {0, 2, 3, 4}, {2, 1, 0, 0}},
        {"duplicate", "not strictly ascending", {0, 2, 4, 4}, {1, 1, 0, 0}},
        {"out of range", "outside [0, 3)", {0, 1, 2, 2}, {7, 0}},
        {"indptr decreasing", "not non-decreasing", {0, 2, 1, 2}, {1, 0}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
      for (int m = 0; m < 2; ++m) {
        graph g = {bad[i].what, 3, (int64_t *)bad[i].ptr, (int64_t *)bad[i].idx};
        snprintf(path, sizeof path, "%s/broken.h5", dir);
        write_graph(path, &g);
        expect_input_error(
            er_partition(MPI_COMM_WORLD, path, 2, m ? ER_PART_PTSCOTCH : ER_PART_BLOCK, 0, &st),
            bad[i].what, bad[i].needle);
        check_no_sidecar(path, bad[i].what);
      }
  }
}

/* Where partitions are found: the sidecar's name; a dataset that holds /partitions/<P> itself
 * (older versions, h5py) is read first; a sidecar left by another graph at the same path is
 * refused by readers and replaced by the next partition. */
static void check_locate(const char *dir, const graph *grid) {
  char path[512], side[600], name[64];
  const struct {
    const char *in, *out;
  } names[] = {{"a.h5", "a.partitions.h5"},
               {"/x/b.hdf5", "/x/b.hdf5.partitions.h5"},
               {"d.h5/c", "d.h5/c.partitions.h5"},
               {".h5", ".h5.partitions.h5"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    TEST_OK(er_partition_sidecar(names[i].in, side, sizeof side));
    TEST_CHECK(!strcmp(side, names[i].out), "sidecar of '%s' is '%s'", names[i].in, side);
  }
  TEST_CHECK(er_partition_sidecar("long.h5", side, 8) == ER_ERR_INPUT, "too long");
  er_error_clear();

  // ---- a dataset with its own /partitions/2 (all nodes on part 1) ----
  er_part_stats st;
  hid_t fid = -1, pfid = -1;
  int32_t *ones = malloc((size_t)grid->n * sizeof *ones), *got = malloc(grid->n * sizeof *got);
  for (int64_t i = 0; i < grid->n; ++i) ones[i] = 1;
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  snprintf(path, sizeof path, "%s/old.h5", dir);
  write_graph(path, grid);
  TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 1, &fid));
  TEST_OK(er_h5_write_rows(fid, ER_DS_PARTITIONS "/2", H5T_STD_I32LE, H5T_NATIVE_INT32, grid->n,
                           0, 0, rank == 0 ? grid->n : 0, ones));
  er_h5_close(&fid);
  TEST_OK(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_METIS, 0, &st));
  TEST_OK(er_partition(MPI_COMM_WORLD, path, 4, ER_PART_BLOCK, 0, &st));
  TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
  TEST_OK(er_partition_locate(fid, 2, &pfid, name, sizeof name));
  TEST_CHECK(pfid == fid && !strcmp(name, "/partitions/2"), "the dataset's own P=2 comes first");
  if (pfid >= 0) TEST_OK(er_h5_read_all(pfid, name, H5T_NATIVE_INT32, got));
  TEST_CHECK(pfid >= 0 && !memcmp(got, ones, grid->n * sizeof *got), "read the dataset's P=2");
  er_partition_release(fid, &pfid);
  TEST_CHECK(pfid == -1, "release resets");
  TEST_OK(er_partition_locate(fid, 4, &pfid, name, sizeof name));
  TEST_CHECK(pfid >= 0 && pfid != fid, "P=4 from the sidecar");
  er_partition_release(fid, &pfid);
  TEST_OK(er_partition_locate(fid, 3, &pfid, name, sizeof name));
  TEST_CHECK(pfid == -1, "no P=3 anywhere: not an error");
  er_h5_close(&fid);

  // ---- another graph written at the same path: its old sidecar is refused, then replaced ----
  int64_t pptr[6] = {0, 1, 3, 5, 7, 8}, pidx[8] = {1, 0, 2, 1, 3, 2, 4, 3};
  graph path5 = {"path5", 5, pptr, pidx};
  write_graph(path, &path5);
  TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
  expect_input_error(er_partition_locate(fid, 4, &pfid, name, sizeof name), "stale sidecar",
                     "does not belong to the dataset");
  TEST_CHECK(pfid == -1, "no fid on error");
  er_h5_close(&fid);
  TEST_OK(er_partition(MPI_COMM_WORLD, path, 2, ER_PART_PTSCOTCH, 0, &st));
  free(check_partition(path, &path5, 2, ER_PART_PTSCOTCH, &st));
  TEST_OK(er_h5_open(MPI_COMM_WORLD, path, 0, &fid));
  TEST_OK(er_partition_locate(fid, 4, &pfid, name, sizeof name));
  TEST_CHECK(pfid == -1, "the other graph's P=4 was dropped");
  er_h5_close(&fid);
  free(ones);
  free(got);
}

/* Degenerate but valid graphs: P == N on a path, an edgeless graph. Every part must be
 * non-empty even where METIS or PT-Scotch leaves parts empty. */
static void check_edge_cases(const char *dir) {
  char path[512];
  er_part_stats st;
  int64_t pptr[6] = {0, 1, 3, 5, 7, 8}, pidx[8] = {1, 0, 2, 1, 3, 2, 4, 3};
  int64_t eptr[11] = {0};
  graph cases[2] = {{"path5", 5, pptr, pidx}, {"edgeless10", 10, eptr, pidx}};
  const int parts[2][3] = {{5, 4, 2}, {3, 10, 1}};
  const er_part_method methods[3] = {ER_PART_METIS, ER_PART_BLOCK, ER_PART_PTSCOTCH};
  for (int c = 0; c < 2; ++c) {
    snprintf(path, sizeof path, "%s/edge.h5", dir);
    write_graph(path, &cases[c]);
    for (int i = 0; i < 3; ++i)
      for (int m = 0; m < 3; ++m) {
        er_err e = er_partition(MPI_COMM_WORLD, path, parts[c][i], methods[m], 3, &st);
        TEST_CHECK(e == ER_OK, "%s P=%d %s: %s", cases[c].name, parts[c][i],
                   method_name(methods[m]), er_error_message());
        if (e == ER_OK) free(check_partition(path, &cases[c], parts[c][i], methods[m], &st));
        er_error_clear();
      }
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *dir = er_test_tmpdir();
  char path[512], grid_path[512];

  // ---- 64 x 64 grid: METIS must find the natural 2 x 2 cut ----
  graph grid = {"grid64", 64 * 64, NULL, NULL};
  er_test_grid_graph(64, 64, &grid.indptr, &grid.indices);
  TEST_CHECK(grid.indptr && grid.indptr[grid.n] == 4 * 64 * 63, "grid CSR");
  snprintf(grid_path, sizeof grid_path, "%s/grid.h5", dir);
  write_graph(grid_path, &grid);
  check_csr_read(grid_path, &grid);
  run_suite(grid_path, &grid, 0);
  {
    er_part_stats sm, sb;
    TEST_OK(er_partition(MPI_COMM_WORLD, grid_path, 4, ER_PART_BLOCK, 0, &sb));
    TEST_OK(er_partition(MPI_COMM_WORLD, grid_path, 4, ER_PART_METIS, 0, &sm));
    TEST_CHECK(sb.edge_cut == 3 * 64, "grid block cut %lld, expected 192", (long long)sb.edge_cut);
    TEST_CHECK(sm.edge_cut <= 1.3 * 128, "grid METIS cut %lld > 1.3 * 128",
               (long long)sm.edge_cut);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      printf("grid 64x64 P=4: METIS cut %lld, block cut %lld\n", (long long)sm.edge_cut,
             (long long)sb.edge_cut);
    TEST_OK(er_partition(MPI_COMM_WORLD, grid_path, 1, ER_PART_METIS, 0, &sm));
    TEST_CHECK(sm.edge_cut == 0 && sm.max_part_size == grid.n && sm.total_ghosts == 0,
               "P=1 is trivial");
    /* many more parts than ranks (64 parts on 1, 2, 4 ranks): PT-Scotch, with METIS beside it;
     * the attributes are checked against a recomputation, no part is empty */
    er_part_stats s64;
    TEST_OK(er_partition(MPI_COMM_WORLD, grid_path, 64, ER_PART_PTSCOTCH, 0, &s64));
    free(check_partition(grid_path, &grid, 64, ER_PART_PTSCOTCH, &s64));
    TEST_CHECK(s64.edge_cut <= 2 * 8 * 7 * 8 * 2, "grid PT-Scotch P=64 cut %lld > 1792",
               (long long)s64.edge_cut);
    int64_t cut_scotch = s64.edge_cut;
    TEST_OK(er_partition(MPI_COMM_WORLD, grid_path, 64, ER_PART_METIS, 0, &s64));
    free(check_partition(grid_path, &grid, 64, ER_PART_METIS, &s64));
    if (rank == 0)
      printf("grid 64x64 P=64: PT-Scotch cut %lld, METIS cut %lld\n", (long long)cut_scotch,
             (long long)s64.edge_cut);
  }

  // ---- random graph ----
  graph rnd = {"random", 3000, NULL, NULL};
  er_test_random_graph(rnd.n, 12000, 42, &rnd.indptr, &rnd.indices);
  TEST_CHECK(rnd.indptr && rnd.indptr[rnd.n] > 2 * 11900, "random CSR");
  snprintf(path, sizeof path, "%s/random.h5", dir);
  write_graph(path, &rnd);
  check_csr_read(path, &rnd);
  run_suite(path, &rnd, 7);

  // ---- Cora, when present ----
  graph cora = {"cora", 0, NULL, NULL};
  if (er_test_cora_dir() && cora_graph(er_test_cora_dir(), &cora)) {
    TEST_CHECK(cora.n == 2708 && cora.indptr[cora.n] == 2 * 5278, "cora N=%lld 2E=%lld",
               (long long)cora.n, (long long)cora.indptr[cora.n]);
    snprintf(path, sizeof path, "%s/cora.h5", dir);
    write_graph(path, &cora);
    check_csr_read(path, &cora);
    run_suite(path, &cora, 1);
  } else {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) printf("Cora not found: Cora part skipped\n");
  }

  check_bad_input(dir, grid_path, grid.n);
  check_locate(dir, &grid);
  check_edge_cases(dir);

  free(grid.indptr);
  free(grid.indices);
  free(rnd.indptr);
  free(rnd.indices);
  free(cora.indptr);
  free(cora.indices);
  MPI_Barrier(MPI_COMM_WORLD);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    const char *names[] = {"grid", "random", "cora", "huge", "nograph", "broken", "edge", "old"};
    for (int i = 0; i < 8; ++i) {
      snprintf(path, sizeof path, "%s/%s.h5", dir, names[i]);
      remove(path);
      snprintf(path, sizeof path, "%s/%s.partitions.h5", dir, names[i]);
      remove(path);
      snprintf(path, sizeof path, "%s/%s.partitions.h5.lock", dir, names[i]);
      remove(path);
    }
    remove(dir);
  }
  return er_test_finish("test_partition");
}
