/* test_import.c: er_import / er_dataset_meta / er_dataset_checksum on Cora and on tiny graphs
 * with known answers (symmetrize, self loops, duplicates, Matrix Market adjacency and array
 * features); the first duplicate cell of a large file whichever rank and round meets it; the
 * chunk parsers (src/io/text.h, npy.h) on buffers cut at every line. Bad input files are covered
 * by bad_input_import.sh. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/io/npy.h"
#include "../src/io/text.h"
#include "erase/dataset.h"
#include "erase/h5.h"
#include "testutil.h"

static int rank_;

static void write_file(const char *dir, const char *name, const char *text) {
  if (rank_ == 0) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
      fputs(text, f);
      fclose(f);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

/* Reads an entire 1-D int64 / int32 / 2-D float dataset (caller frees). */
static void *read_all(hid_t fid, const char *name, hid_t type, size_t elem, int64_t *count) {
  int nd;
  int64_t d[2] = {0, 1};
  TEST_OK(er_h5_shape(fid, name, &nd, d));
  *count = d[0] * d[1];
  void *buf = malloc((size_t)(*count ? *count : 1) * elem);
  TEST_OK(er_h5_read_all(fid, name, type, buf));
  return buf;
}

static int contains(const int64_t *a, int64_t len, int64_t v) {
  int64_t lo = 0, hi = len;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < len && a[lo] == v;
}

/* CSR invariants: sorted strictly ascending rows, in range, no self loops, symmetric. */
static void check_csr(const int64_t *ip, const int64_t *ix, int64_t n, int64_t nnz) {
  int bad_sort = 0, bad_loop = 0, bad_sym = 0, bad_range = 0;
  TEST_CHECK(ip[0] == 0 && ip[n] == nnz, "indptr ends %lld..%lld, nnz %lld", (long long)ip[0],
             (long long)ip[n], (long long)nnz);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = ip[i]; p < ip[i + 1]; ++p) {
      int64_t j = ix[p];
      if (j < 0 || j >= n) {
        bad_range++;
        continue;
      }
      if (p > ip[i] && ix[p - 1] >= j) bad_sort++;
      if (j == i) bad_loop++;
      if (!contains(ix + ip[j], ip[j + 1] - ip[j], i)) bad_sym++;
    }
  TEST_CHECK(bad_range == 0, "%d column ids out of range", bad_range);
  TEST_CHECK(bad_sort == 0, "%d rows not strictly ascending", bad_sort);
  TEST_CHECK(bad_loop == 0, "%d self loops", bad_loop);
  TEST_CHECK(bad_sym == 0, "%d entries without their reverse", bad_sym);
}

static void cora_paths(er_import_opts *o, char buf[6][512], const char *out) {
  const char *d = er_test_cora_dir();
  const char *files[6] = {"graph.edges", "features.mtx", "labels.txt",
                          "train.idx",   "val.idx",      "test.idx"};
  for (int i = 0; i < 6; ++i) snprintf(buf[i], 512, "%s/%s", d, files[i]);
  memset(o, 0, sizeof *o);
  o->edges = buf[0];
  o->features = buf[1];
  o->labels = buf[2];
  o->train = buf[3];
  o->val = buf[4];
  o->test = buf[5];
  o->out = out;
}

static void test_cora(const char *tmp) {
  char pa[512], pb[512], bufs[6][512];
  er_import_opts o;
  snprintf(pa, sizeof pa, "%s/cora_a.h5", tmp);
  snprintf(pb, sizeof pb, "%s/cora_b.h5", tmp);
  cora_paths(&o, bufs, pa);
  TEST_OK(er_import(MPI_COMM_WORLD, &o));
  o.out = pb;
  TEST_OK(er_import(MPI_COMM_WORLD, &o));

  hid_t fa = -1, fb = -1, fs = -1;
  er_meta m;
  TEST_OK(er_h5_open(MPI_COMM_WORLD, pa, 0, &fa));
  TEST_OK(er_h5_open(MPI_COMM_WORLD, pb, 0, &fb));
  TEST_OK(er_dataset_meta(MPI_COMM_WORLD, fa, &m));
  TEST_CHECK(m.num_nodes == 2708, "N = %lld", (long long)m.num_nodes);
  TEST_CHECK(m.num_edges == 5278, "E = %lld", (long long)m.num_edges);
  TEST_CHECK(m.num_features == 1433, "F = %lld", (long long)m.num_features);
  TEST_CHECK(m.num_classes == 7, "K = %lld", (long long)m.num_classes);
  TEST_CHECK(m.n_train == 140 && m.n_val == 500 && m.n_test == 1000, "splits %lld/%lld/%lld",
             (long long)m.n_train, (long long)m.n_val, (long long)m.n_test);

  // raw arrays: CSR invariants, and file a == file b byte for byte per dataset
  int64_t n_ip, n_ix, n_x, n_y, n_ipb, n_ixb, n_xb, n_yb;
  int64_t *ip = read_all(fa, ER_DS_INDPTR, H5T_NATIVE_INT64, 8, &n_ip);
  int64_t *ix = read_all(fa, ER_DS_INDICES, H5T_NATIVE_INT64, 8, &n_ix);
  float *x = read_all(fa, ER_DS_FEATURES, H5T_NATIVE_FLOAT, 4, &n_x);
  int32_t *y = read_all(fa, ER_DS_LABELS, H5T_NATIVE_INT32, 4, &n_y);
  int64_t *ipb = read_all(fb, ER_DS_INDPTR, H5T_NATIVE_INT64, 8, &n_ipb);
  int64_t *ixb = read_all(fb, ER_DS_INDICES, H5T_NATIVE_INT64, 8, &n_ixb);
  float *xb = read_all(fb, ER_DS_FEATURES, H5T_NATIVE_FLOAT, 4, &n_xb);
  int32_t *yb = read_all(fb, ER_DS_LABELS, H5T_NATIVE_INT32, 4, &n_yb);
  TEST_CHECK(n_ip == 2709 && n_ix == 10556 && n_x == 2708LL * 1433 && n_y == 2708,
             "sizes %lld %lld %lld %lld", (long long)n_ip, (long long)n_ix, (long long)n_x,
             (long long)n_y);
  TEST_CHECK(n_ip == n_ipb && !memcmp(ip, ipb, 8 * (size_t)n_ip), "indptr differs between runs");
  TEST_CHECK(n_ix == n_ixb && !memcmp(ix, ixb, 8 * (size_t)n_ix), "indices differ between runs");
  TEST_CHECK(n_x == n_xb && !memcmp(x, xb, 4 * (size_t)n_x), "features differ between runs");
  TEST_CHECK(n_y == n_yb && !memcmp(y, yb, 4 * (size_t)n_y), "labels differ between runs");
  if (n_ip == 2709 && n_ix == 10556) check_csr(ip, ix, 2708, 10556);
  double xsum = 0;
  int64_t hist[7] = {0}, bad_label = 0;
  for (int64_t i = 0; i < n_x; ++i) xsum += x[i];
  for (int64_t i = 0; i < n_y; ++i)
    if (y[i] >= 0 && y[i] < 7) hist[y[i]]++;
    else bad_label++;
  TEST_CHECK(xsum == 49216.0, "feature sum %.1f (49216 ones expected)", xsum);
  TEST_CHECK(bad_label == 0 && hist[0] == 351 && hist[3] == 818 && hist[6] == 180,
             "class histogram %lld %lld %lld, %lld bad", (long long)hist[0], (long long)hist[3],
             (long long)hist[6], (long long)bad_label);
  const char *splits[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  for (int s = 0; s < 3; ++s) {
    int64_t cnt, cntb;
    int64_t *ids = read_all(fa, splits[s], H5T_NATIVE_INT64, 8, &cnt);
    int64_t *idsb = read_all(fb, splits[s], H5T_NATIVE_INT64, 8, &cntb);
    int sorted = 1;
    for (int64_t i = 1; i < cnt; ++i) sorted &= ids[i - 1] < ids[i];
    TEST_CHECK(sorted, "%s not strictly ascending", splits[s]);
    TEST_CHECK(cnt == cntb && !memcmp(ids, idsb, 8 * (size_t)cnt), "%s differs", splits[s]);
    if (s == 0) TEST_CHECK(cnt == 140 && ids[0] == 0 && ids[139] == 139, "train ids");
    free(ids);
    free(idsb);
  }
  char src[1024] = "";
  TEST_OK(er_h5_attr_get_str(fa, "/", "source", src, sizeof src));
  TEST_CHECK(!strncmp(src, "import:/", 8) && strstr(src, "graph.edges"), "source '%s'", src);

  // checksums: equal for both files, and equal to a one-process computation on every rank
  uint64_t ga, xa, gb, xbs, gs, xs;
  TEST_OK(er_dataset_checksum(MPI_COMM_WORLD, fa, &ga, &xa));
  TEST_OK(er_dataset_checksum(MPI_COMM_WORLD, fb, &gb, &xbs));
  TEST_CHECK(ga == gb && xa == xbs, "checksums differ between identical imports");
  TEST_CHECK(ga != 0 && xa != 0 && ga != xa, "degenerate checksums %llx %llx",
             (unsigned long long)ga, (unsigned long long)xa);
  TEST_OK(er_h5_open(MPI_COMM_SELF, pa, 0, &fs));
  TEST_OK(er_dataset_checksum(MPI_COMM_SELF, fs, &gs, &xs));
  TEST_CHECK(gs == ga && xs == xa, "checksum depends on the rank count: %llx/%llx vs %llx/%llx",
             (unsigned long long)gs, (unsigned long long)xs, (unsigned long long)ga,
             (unsigned long long)xa);
  er_h5_close(&fs);
  er_h5_close(&fa);
  er_h5_close(&fb);
  free(ip), free(ix), free(x), free(y), free(ipb), free(ixb), free(xb), free(yb);
}

/* Tiny graph: 5 nodes; the edge list has a self loop, a repeat and a reverse copy. */
static void import_tiny(const char *dir, const char *edges, const char *feats, int64_t classes,
                        const char *out) {
  char pe[512], pf[512], pl[512], p0[512], p1[512], p2[512], po[512];
  snprintf(pe, 512, "%s/%s", dir, edges);
  snprintf(pf, 512, "%s/%s", dir, feats);
  snprintf(pl, 512, "%s/labels.txt", dir);
  snprintf(p0, 512, "%s/train.idx", dir);
  snprintf(p1, 512, "%s/val.idx", dir);
  snprintf(p2, 512, "%s/test.idx", dir);
  snprintf(po, 512, "%s/%s", dir, out);
  er_import_opts o = {.edges = pe, .features = pf, .labels = pl, .train = p0, .val = p1,
                      .test = p2, .out = po, .classes = classes};
  TEST_OK(er_import(MPI_COMM_WORLD, &o));
}

static void tiny_read(const char *dir, const char *name, int64_t *ip, int64_t *ix, int64_t *nnz,
                      float *x, uint64_t *g, uint64_t *f, er_meta *m) {
  char p[512];
  hid_t fid = -1;
  int nd;
  int64_t d[2];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  TEST_OK(er_h5_open(MPI_COMM_WORLD, p, 0, &fid));
  TEST_OK(er_dataset_meta(MPI_COMM_WORLD, fid, m));
  TEST_OK(er_h5_read_all(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, ip));
  TEST_OK(er_h5_shape(fid, ER_DS_INDICES, &nd, d));
  *nnz = d[0];
  if (d[0] <= 16) TEST_OK(er_h5_read_all(fid, ER_DS_INDICES, H5T_NATIVE_INT64, ix));
  TEST_OK(er_h5_read_all(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, x));
  TEST_OK(er_dataset_checksum(MPI_COMM_WORLD, fid, g, f));
  er_h5_close(&fid);
}

static void test_tiny(const char *tmp) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/tiny", tmp);
  if (rank_ == 0) TEST_CHECK(mkdir(dir, 0755) == 0, "mkdir %s", dir);
  MPI_Barrier(MPI_COMM_WORLD);
  // edges 0-1 (three times, one reversed), 1-2, 2-3, self loop 4-4; node 4 isolated
  write_file(dir, "list.edges", "# comment\n0 1\n1 0\n\n2 2\n0 1\n1 2\r\n 2\t3 \n% more\n");
  write_file(dir, "sym.mtx",
             "%%MatrixMarket matrix coordinate pattern symmetric\n% c\n5 5 4\n2 1\n3 2\n4 3\n"
             "3 3\n");
  write_file(dir, "other.edges", "0 1\n1 2\n2 4\n");
  // 5 x 2 features, array (column-major) and coordinate forms of the same matrix
  write_file(dir, "array.mtx",
             "%%MatrixMarket matrix array real general\n5 2\n1\n2.5\n0\n-3e-2\n0\n0\n1\n0\n0\n7\n");
  write_file(dir, "coord.mtx",
             "%%MatrixMarket matrix coordinate real general\n5 2 5\n1 1 1.0\n2 1 2.5\n"
             "4 1 -0.03\n2 2 1\n5 2 7\n");
  write_file(dir, "labels.txt", "0\n1\n-1\n2\n0\n");
  write_file(dir, "train.idx", "1\n0\n");
  write_file(dir, "val.idx", "3\n");
  write_file(dir, "test.idx", "4\n");

  import_tiny(dir, "list.edges", "array.mtx", 0, "a.h5");
  import_tiny(dir, "sym.mtx", "coord.mtx", 4, "b.h5");
  import_tiny(dir, "other.edges", "array.mtx", 0, "c.h5");

  int64_t ipa[6], ixa[16], ipb[6], ixb[16], ipc[6], ixc[16], nnza, nnzb, nnzc;
  float xa[10], xb[10], xc[10];
  uint64_t ga, fa, gb, fb, gc, fc;
  er_meta ma, mb, mc;
  tiny_read(dir, "a.h5", ipa, ixa, &nnza, xa, &ga, &fa, &ma);
  tiny_read(dir, "b.h5", ipb, ixb, &nnzb, xb, &gb, &fb, &mb);
  tiny_read(dir, "c.h5", ipc, ixc, &nnzc, xc, &gc, &fc, &mc);
  const int64_t want_ip[6] = {0, 1, 3, 5, 6, 6}, want_ix[6] = {1, 0, 2, 1, 3, 2};
  const float want_x[10] = {1, 0, 2.5f, 1, 0, 0, -0.03f, 0, 0, 7}; /* row-major */
  TEST_CHECK(nnza == 6 && !memcmp(ipa, want_ip, sizeof want_ip) &&
                 !memcmp(ixa, want_ix, sizeof want_ix),
             "edge list CSR wrong (nnz %lld)", (long long)nnza);
  TEST_CHECK(nnzb == 6 && !memcmp(ipb, want_ip, sizeof want_ip) &&
                 !memcmp(ixb, want_ix, sizeof want_ix),
             "Matrix Market symmetric CSR wrong (nnz %lld)", (long long)nnzb);
  TEST_CHECK(!memcmp(xa, want_x, sizeof want_x), "array features wrong");
  TEST_CHECK(!memcmp(xb, want_x, sizeof want_x), "coordinate features wrong");
  TEST_CHECK(ma.num_nodes == 5 && ma.num_edges == 3 && ma.num_features == 2 &&
                 ma.num_classes == 3 && ma.n_train == 2 && ma.n_val == 1 && ma.n_test == 1,
             "tiny meta");
  TEST_CHECK(mb.num_classes == 4, "--classes 4 gave K=%lld", (long long)mb.num_classes);
  TEST_CHECK(ga == gb && fa == fb, "same graph/features, different checksums");
  TEST_CHECK(gc != ga && fc == fa, "checksum blind to a changed edge (or moved on features)");
  TEST_CHECK(nnzc == 6 && mc.num_edges == 3, "other graph nnz %lld", (long long)nnzc);
}

/* er_dataset_meta on incomplete files gives the documented messages. */
static void test_meta_errors(const char *tmp) {
  char p[512];
  hid_t fid = -1;
  char *t = NULL;
  er_meta m;
  const int64_t ip[3] = {0, 1, 2}, ix[2] = {1, 0};
  const float x[2] = {1, 2};
  const int32_t y[2] = {0, 1};
  int root = rank_ == 0;
  snprintf(p, sizeof p, "%s/partial.h5", tmp);
  for (int stage = 0; stage < 2; ++stage) {
    TEST_OK(er_h5_create(MPI_COMM_WORLD, p, &fid, &t));
    TEST_OK(er_h5_write_rows(fid, ER_DS_INDPTR, H5T_STD_I64LE, H5T_NATIVE_INT64, 3, 0, 0,
                             root ? 3 : 0, ip));
    TEST_OK(er_h5_write_rows(fid, ER_DS_INDICES, H5T_STD_I64LE, H5T_NATIVE_INT64, 2, 0, 0,
                             root ? 2 : 0, ix));
    TEST_OK(er_h5_write_rows(fid, ER_DS_FEATURES, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, 1, 0,
                             root ? 2 : 0, x));
    if (stage == 1)
      TEST_OK(er_h5_write_rows(fid, ER_DS_LABELS, H5T_STD_I32LE, H5T_NATIVE_INT32, 2, 0, 0,
                               root ? 2 : 0, y));
    const char *a[4] = {"num_nodes", "num_edges", "num_features", "num_classes"};
    const int64_t v[4] = {2, 1, 1, 2};
    for (int i = 0; i < 4; ++i) TEST_OK(er_h5_attr_set_i64(fid, "/", a[i], v[i]));
    TEST_OK(er_h5_commit(MPI_COMM_WORLD, fid, p, &t));
    TEST_OK(er_h5_open(MPI_COMM_WORLD, p, 0, &fid));
    er_err e = er_dataset_meta(MPI_COMM_WORLD, fid, &m);
    const char *want = stage == 0 ? "dataset has no labels" : "dataset has no training split";
    TEST_CHECK(e == ER_ERR_INPUT && strstr(er_error_message(), want), "stage %d: %d '%s'",
               stage, e, er_error_message());
    er_error_clear();
    er_h5_close(&fid);
  }
}

/* Feature values in many decimal spellings: the importer's fast number path must give exactly
 * what (float)strtod gives (its reference twin). */
static void test_number_parsing(const char *tmp) {
  enum { ROWS = 5, COLS = 400 };
  char dir[512], *text = malloc(64 * ROWS * COLS + 256);
  static char tok[ROWS * COLS][40];
  float *x = malloc(sizeof(float) * ROWS * COLS);
  uint64_t s = 12345;
  size_t len = 0;
  snprintf(dir, sizeof dir, "%s/numbers", tmp);
  if (rank_ == 0) mkdir(dir, 0755);
  len += (size_t)sprintf(text + len, "%%%%MatrixMarket matrix array real general\n%d %d\n", ROWS,
                         COLS);
  for (int k = 0; k < ROWS * COLS; ++k) { /* column-major order */
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t r = s >> 11;
    const char *sign = (r & 1) ? "-" : ((r & 2) ? "+" : "");
    unsigned long long mant = (r >> 2) % 10000000000000000ULL; /* up to 16 digits */
    int form = (int)((r >> 56) % 6), shift = (int)((r >> 50) % 24);
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", mant >> (form * 7));
    size_t nd = strlen(digits);
    if (form == 0) snprintf(tok[k], 40, "%s%s", sign, digits);
    else if (form == 1 && (size_t)shift < nd)
      snprintf(tok[k], 40, "%s%.*s.%s", sign, (int)(nd - (size_t)shift), digits,
               digits + nd - (size_t)shift);
    else if (form == 2) snprintf(tok[k], 40, "%s0.%0*d%s", sign, shift % 8, 0, digits);
    else if (form == 3) snprintf(tok[k], 40, "%s%se-%d", sign, digits, shift);
    else if (form == 4) snprintf(tok[k], 40, "%s.%s", sign, digits);
    else snprintf(tok[k], 40, "%s%s.", sign, digits);
    len += (size_t)sprintf(text + len, "%s\n", tok[k]);
  }
  write_file(dir, "features.mtx", text);
  write_file(dir, "graph.edges", "0 1\n");
  write_file(dir, "labels.txt", "0\n1\n0\n1\n0\n");
  write_file(dir, "train.idx", "0\n");
  write_file(dir, "val.idx", "1\n");
  write_file(dir, "test.idx", "2\n");
  import_tiny(dir, "graph.edges", "features.mtx", 0, "n.h5");
  char p[600];
  hid_t fid = -1;
  snprintf(p, sizeof p, "%s/n.h5", dir);
  TEST_OK(er_h5_open(MPI_COMM_WORLD, p, 0, &fid));
  TEST_OK(er_h5_read_all(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, x));
  er_h5_close(&fid);
  int bad = 0;
  for (int k = 0; k < ROWS * COLS; ++k) {
    float want = (float)strtod(tok[k], NULL), got = x[(k % ROWS) * COLS + k / ROWS];
    if (memcmp(&want, &got, sizeof want) && bad++ < 5)
      fprintf(stderr, "token '%s': got %.9g want %.9g\n", tok[k], got, want);
  }
  TEST_CHECK(bad == 0, "%d of %d feature values differ from strtod", bad, ROWS * COLS);
  free(text);
  free(x);
}

/* A duplicate Matrix Market cell whose occurrences reach their owner out of file order: in a
 * 1M-entry file the first copy (line 490003) is in rank 0's third exchange round at 2 ranks,
 * the second (line 510003) in rank 1's first. The message must name the second line. */
static void test_duplicate_order(const char *tmp) {
  enum { N = 10000, F = 100 };
  const int64_t a = 490000, b = 510000; /* entries; entry k is on line k + 3 */
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/dup", tmp);
  if (rank_ == 0) {
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/features.mtx", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "%%%%MatrixMarket matrix coordinate real general\n%d %d %d\n", N, F, N * F);
    for (int64_t k = 0; k < (int64_t)N * F; ++k) {
      int64_t cell = k == b ? a : k;
      fprintf(f, "%lld %lld %d.5\n", (long long)(cell / F + 1), (long long)(cell % F + 1),
              (int)(k % 7));
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/labels.txt", dir);
    f = fopen(path, "w");
    for (int i = 0; i < N; ++i) fprintf(f, "%d\n", i % 3);
    fclose(f);
  }
  write_file(dir, "graph.edges", "0 1\n");
  write_file(dir, "train.idx", "0\n");
  write_file(dir, "val.idx", "1\n");
  write_file(dir, "test.idx", "2\n");
  char pe[600], pf[600], pl[600], p0[600], p1[600], p2[600], po[600], want[700];
  snprintf(pe, sizeof pe, "%s/graph.edges", dir);
  snprintf(pf, sizeof pf, "%s/features.mtx", dir);
  snprintf(pl, sizeof pl, "%s/labels.txt", dir);
  snprintf(p0, sizeof p0, "%s/train.idx", dir);
  snprintf(p1, sizeof p1, "%s/val.idx", dir);
  snprintf(p2, sizeof p2, "%s/test.idx", dir);
  snprintf(po, sizeof po, "%s/out.h5", dir);
  er_import_opts o = {.edges = pe, .features = pf, .labels = pl, .train = p0, .val = p1,
                      .test = p2, .out = po};
  er_err e = er_import(MPI_COMM_WORLD, &o);
  snprintf(want, sizeof want, "%s:%lld: duplicate entry (%lld, %lld)", pf, (long long)(b + 3),
           (long long)(a / F + 1), (long long)(a % F + 1));
  TEST_CHECK(e == ER_ERR_INPUT && !strcmp(er_error_message(), want), "got %d '%s', want '%s'", e,
             er_error_message(), want);
  er_error_clear();
  TEST_CHECK(access(po, F_OK) != 0, "output left behind");
}

/* What a parser made of a buffer: the items (or pairs) as int64 and the input error, if any. */
typedef struct {
  int64_t v[512];
  int n;
  char err[256];
} parsed;

typedef er_err (*chunk_parser)(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                               er_text_stop *stop);

static const er_mm_header tiny_arr = {.coordinate = 0, .field = ER_MM_REAL, .rows = 3, .cols = 2};
static const er_mm_header tiny_coo = {.coordinate = 1, .field = ER_MM_REAL, .rows = 4, .cols = 4,
                                      .nnz = 5};
static er_err p_edges(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                      er_text_stop *st) {
  (void)it;
  return er_text_parse_edge_list(c, 0, 6, "f.mtx", pr, st);
}
static er_err p_csv_edges(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                          er_text_stop *st) {
  (void)it;
  return er_text_parse_edge_list(c, 1, 6, "f.mtx", pr, st);
}
static er_err p_mm_edges(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                         er_text_stop *st) {
  (void)it;
  return er_text_parse_mm_edges(c, &tiny_coo, pr, st);
}
static er_err p_labels(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                       er_text_stop *st) {
  (void)pr;
  return er_text_parse_labels(c, 0, 6, 0, it, st);
}
static er_err p_ogb_labels(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                           er_text_stop *st) {
  (void)pr;
  return er_text_parse_labels(c, 1, 6, 0, it, st);
}
static er_err p_ids(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                    er_text_stop *st) {
  (void)pr;
  return er_text_parse_ids(c, 6, it, st);
}
static er_err p_array(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                      er_text_stop *st) {
  (void)pr;
  return er_text_parse_mm_array(c, &tiny_arr, it, st);
}
static er_err p_cells(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                      er_text_stop *st) {
  (void)pr;
  return er_text_parse_mm_cells(c, &tiny_coo, it, st);
}
static er_err p_rows(const er_text_chunk *c, er_text_items *it, er_text_pairs *pr,
                     er_text_stop *st) {
  (void)pr;
  return er_text_parse_csv_rows(c, 3, 2, it, st);
}

/* Parses buf[0, len) as chunks cut at the given line-boundary offsets, numbering each chunk's
 * lines and items with er_text_count as import does. */
static void parse_cut(chunk_parser fn, er_item_kind kind, size_t vsize, const char *buf,
                      size_t len, const size_t *cuts, int ncut, parsed *out) {
  er_text_items it;
  er_text_pairs pr = {0};
  er_text_items_init(&it, vsize, 1);
  memset(out, 0, sizeof *out);
  int64_t line = 1, item = 0;
  for (int k = 0; k <= ncut; ++k) {
    size_t b = k ? cuts[k - 1] : 0, e = k < ncut ? cuts[k] : len;
    er_text_chunk c = {.path = "t", .buf = buf + b, .len = e - b, .line0 = line, .item0 = item};
    er_text_stop st;
    er_err err = fn(&c, &it, &pr, &st);
    if (err != ER_OK) {
      snprintf(out->err, sizeof out->err, "%s", er_error_message());
      er_error_clear();
      break;
    }
    int64_t lines, items;
    er_text_count(c.buf, c.len, kind, &lines, &items);
    line += lines;
    item += items;
  }
  for (int64_t i = 0; i < pr.m && out->n + 2 <= 512; ++i) {
    out->v[out->n++] = pr.uv[2 * i];
    out->v[out->n++] = pr.uv[2 * i + 1];
  }
  for (int64_t i = 0; i < it.n && out->n + 3 <= 512; ++i) {
    int32_t w = 0;
    if (vsize) memcpy(&w, (char *)it.val + i * vsize, vsize < 4 ? vsize : 4);
    out->v[out->n++] = it.idx[i];
    out->v[out->n++] = w;
    out->v[out->n++] = it.line[i];
  }
  er_text_items_free(&it);
  er_text_pairs_free(&pr);
}

/* Every parser gives the same items, line numbers and error message whether the buffer is
 * one chunk or cut in two or three at any line boundaries. */
static void test_parsers_cut(void) {
  static const struct {
    chunk_parser fn;
    er_item_kind kind;
    size_t vsize;
    const char *text, *err; /* err: the message the whole text gives ("" = none) */
  } cases[] = {
      {p_edges, ER_ITEM_NONE, 0, "# c\n0 1\r\n\n 2\t3 \n4 4\n% x\n5 0\n1 0", ""},
      {p_edges, ER_ITEM_NONE, 0, "0 1\n\n2 3\n# c\n1 x\n5 0\n", "t:5: non-numeric token 'x'"},
      {p_csv_edges, ER_ITEM_NONE, 0, "0,1\n2 , 3\n4,4\r\n5,0\n", ""},
      {p_csv_edges, ER_ITEM_NONE, 0, "0,1\n2,3,4\n", "t:2: expected two node ids 'u,v'"},
      {p_mm_edges, ER_ITEM_MM_DATA, 0, "1 2 1\n% c\n2 3 1\n\n3 3 2\n4 1 0\n1 4 1\n", ""},
      {p_mm_edges, ER_ITEM_MM_DATA, 0, "1 2 1\n2 3 1\n3 3 2\n4 1 0\n1 4 1\n2 2 1\n",
       "t:6: more entries than the 5 declared"},
      {p_labels, ER_ITEM_DATA, 4, "0\n# c\n1\n\n2\r\n-1\n3\n0\n", ""},
      {p_labels, ER_ITEM_DATA, 4, "0\n1\n2\n3\n4\n5\n6\n", "t:7: more labels than the 6 feature"},
      {p_ogb_labels, ER_ITEM_LINE, 4, "0\n\nnan\n3.0\n-1\n2\n", ""},
      {p_ids, ER_ITEM_DATA, 0, "5\n% c\n0\n\n3\r\n", ""},
      {p_ids, ER_ITEM_DATA, 0, "5\n0\n6\n", "t:3: node id 6 is out of range"},
      {p_array, ER_ITEM_MM_TOKEN, 4, "1 2\n% c\n3\n\n4 5 6\n", ""},
      {p_array, ER_ITEM_MM_TOKEN, 4, "1 2\n3\n4 5 6 7\n", "t:3: more values than the declared"},
      {p_cells, ER_ITEM_MM_DATA, 4, "1 1 0.5\n2 3 -1\n% c\n4 4 2e3\n\n3 1 7\n1 2 1\n", ""},
      {p_cells, ER_ITEM_MM_DATA, 4, "1 1 0.5\n2 3 inf\n", "t:2: feature value 'inf' at row 2"},
      {p_rows, ER_ITEM_LINE, 8, "1,2\n3 , 4\r\n5,6\n", ""},
      {p_rows, ER_ITEM_LINE, 8, "1,2\n3\n", "t:2: expected 2 comma-separated values"},
  };
  int bad = 0;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    const char *txt = cases[k].text;
    size_t len = strlen(txt), starts[64];
    int nl = 0;
    parsed whole, cut;
    for (size_t i = 0; i < len; ++i)
      if (txt[i] == '\n' && i + 1 < len) starts[nl++] = i + 1;
    parse_cut(cases[k].fn, cases[k].kind, cases[k].vsize, txt, len, NULL, 0, &whole);
    TEST_CHECK(!strncmp(whole.err, cases[k].err, strlen(cases[k].err)) &&
                   (cases[k].err[0] || !whole.err[0]),
               "case %zu: error '%s', want '%s'", k, whole.err, cases[k].err);
    for (int i = 0; i < nl; ++i)
      for (int j = i; j < nl; ++j) {
        size_t cuts[2] = {starts[i], starts[j]};
        parse_cut(cases[k].fn, cases[k].kind, cases[k].vsize, txt, len, cuts, i == j ? 1 : 2,
                  &cut);
        if ((cut.n != whole.n || memcmp(cut.v, whole.v, sizeof(int64_t) * (size_t)cut.n) ||
             strcmp(cut.err, whole.err)) && bad++ < 5)
          fprintf(stderr, "case %zu cut at %zu,%zu: %d items '%s' vs %d '%s'\n", k, cuts[0],
                  cuts[1], cut.n, cut.err, whole.n, whole.err);
      }
  }
  TEST_CHECK(bad == 0, "%d cuts changed what the parsers made", bad);

  // Matrix Market header: complete only once the size line has ended
  const char *mm = "%%MatrixMarket matrix coordinate real general\n% c\n\n3 2 4\n1 1 1\n";
  er_mm_header h;
  int complete = -1;
  int64_t off = 0, line = 0;
  for (size_t n = 0; n <= strlen(mm); ++n) {
    TEST_OK(er_mm_header_parse("t", mm, n, 0, 0, &h, &complete, &off, &line));
    if (complete) {
      TEST_CHECK(n == 57 && h.rows == 3 && h.cols == 2 && h.nnz == 4 && off == 57 && line == 5,
                 "header complete at %zu: %lld x %lld, data at %lld line %lld", n,
                 (long long)h.rows, (long long)h.cols, (long long)off, (long long)line);
      break;
    }
  }
  TEST_CHECK(complete == 1, "the header never completed");
}

/* .npy headers: versions 1-3, the dictionary as numpy and other writers spell it. */
static void test_npy_headers(void) {
  static const struct {
    int major;
    const char *dict, *err;
    int64_t data; /* bytes after the header */
  } cases[] = {
      {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", "", 24},
      {2, "{\"shape\": (4,), \"descr\": \"<i8\", \"fortran_order\": False}", "", 32},
      {3, "{'descr': '|b1', 'fortran_order': False, 'shape': (5L,)}", "", 5},
      {1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", "", 4},
      {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}", "dtype '<f2' is not", 4},
      {1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,)}", "big-endian dtype", 16},
      {1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2)}", "Fortran-order", 16},
      {1, "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,)}", "structured", 8},
      {1, "{'descr': '<i4', 'shape': (2,)}", "'fortran_order' is missing", 8},
      {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", "truncated", 7},
      {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", "trailing garbage", 9},
      {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, -1)}", "bad shape", 8},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    unsigned char buf[512];
    size_t dl = strlen(cases[k].dict), start = cases[k].major == 1 ? 10 : 12;
    size_t hlen = ((start + dl + 1 + 63) / 64) * 64 - start;
    memset(buf, 0, sizeof buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)cases[k].major;
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memset(buf + start, ' ', hlen);
    memcpy(buf + start, cases[k].dict, dl);
    buf[start + hlen - 1] = '\n';
    const int64_t size = (int64_t)(start + hlen) + cases[k].data;
    er_npy_header h;
    int complete = -1;
    er_err e = er_npy_parse_header("n.npy", buf, start + hlen, size, &h, &complete);
    if (cases[k].err[0]) {
      TEST_CHECK(e == ER_ERR_INPUT && strstr(er_error_message(), cases[k].err),
                 "npy case %zu: %d '%s', want '%s'", k, e, er_error_message(), cases[k].err);
    } else {
      TEST_CHECK(e == ER_OK && complete && h.data_off == (int64_t)(start + hlen) &&
                     h.count * h.itemsize == cases[k].data,
                 "npy case %zu: %d '%s', count %lld", k, e, er_error_message(),
                 (long long)h.count);
    }
    er_error_clear();
    e = er_npy_parse_header("n.npy", buf, start + hlen / 2, size, &h, &complete);
    TEST_CHECK(e == ER_OK && !complete, "npy case %zu: half a header is not complete", k);
  }
}

//---- bad inputs in-process (the process-level contract is bad_input_import.sh) ----

#define MM "%%MatrixMarket matrix coordinate real general\n"
#define MMP "%%MatrixMarket matrix coordinate pattern general\n"
#define ARR "%%MatrixMarket matrix array real general\n"

typedef struct {
  const char *file, *content, *want;
  int64_t classes;
} bad_case;

static const bad_case bad_cases[] = {
    {"labels.txt", "\n  \n", "labels file '%s/labels.txt' is empty", 0},
    {"val.idx", "", "split file '%s/val.idx' is empty", 0},
    {"graph.edges", "# x\n% y\n\n", "edge file '%s/graph.edges' contains no edges", 0},
    {"test.idx", "# none\n", "test split file '%s/test.idx' contains no node ids", 0},
    {"graph.edges", "0 1\n1.5 2\n", "%s/graph.edges:2: non-numeric token '1.5'", 0},
    {"graph.edges", "0 99999999999999999999\n",
     "%s/graph.edges:1: node id '99999999999999999999' is too large", 0},
    {"graph.edges", "0 1\n2\n", "%s/graph.edges:2: expected two node ids 'u v'", 0},
    {"graph.edges", "0 1 1\n", "%s/graph.edges:1: expected two node ids 'u v'", 0},
    {"graph.edges", "0 1\n4 5\n", "%s/graph.edges:2: node id 5 is beyond the node count N=5", 0},
    {"graph.edges", MMP "5 5 1\n0 1\n", "%s/graph.edges:3: row index 0 is invalid", 0},
    {"graph.edges", ARR "5 5\n", "%s/graph.edges:2: adjacency Matrix Market must be 'coordinate'",
     0},
    {"graph.edges", MMP "5 5 3\n1 2\n2 3\n",
     "%s/graph.edges: file ends after 2 of the 3 declared entries", 0},
    {"graph.edges", MMP "5 5 1\n1 2\n2 3\n", "%s/graph.edges:4: more entries than the 1", 0},
    {"graph.edges", "%%MatrixMarket matrix coordinate real skew-symmetric\n5 5 1\n2 1 1\n",
     "%s/graph.edges:1: unsupported Matrix Market symmetry 'skew-symmetric'", 0},
    {"graph.edges", MM "5 5 1\n1 2 x\n", "%s/graph.edges:3: non-numeric token 'x'", 0},
    {"graph.edges", MMP "5 4 1\n1 2\n", "%s/graph.edges:2: adjacency is 5 x 4", 0},
    {"features.mtx", "%%MatrixMarket vector coordinate real general\n5 3 0\n",
     "%s/features.mtx:1: unsupported Matrix Market object 'vector'", 0},
    {"features.mtx", "%%MatrixMarket matrix coordinate real symmetric\n5 5 0\n",
     "%s/features.mtx:1: unsupported Matrix Market symmetry 'symmetric'", 0},
    {"features.mtx", "%%MatrixMarket matrix coordinate real general extra\n5 3 0\n",
     "%s/features.mtx:1: malformed Matrix Market header", 0},
    {"features.mtx", MM "5 x 1\n", "%s/features.mtx:2: bad Matrix Market size 'x'", 0},
    {"features.mtx", MM "% c\n5 3 1 9\n", "%s/features.mtx:3: Matrix Market size line has extra",
     0},
    {"features.mtx", MM "% only comments\n", "Matrix Market size line is missing", 0},
    {"features.mtx", MM "0 3 0\n", "%s/features.mtx:2: Matrix Market size 0 x 3 is empty", 0},
    {"features.mtx", MM "5 3 16\n", "16 entries declared but a 5 x 3 matrix has only 15 cells",
     0},
    {"features.mtx", MM "5 3 2\n2 2 1\n2 2 3\n", "%s/features.mtx:4: duplicate entry (2, 2)", 0},
    {"features.mtx", MM "5 3 1\n1 0 1\n", "%s/features.mtx:3: column index 0 is invalid", 0},
    {"features.mtx", MM "5 3 1\n1 1\n", "%s/features.mtx:3: expected 'row col value'", 0},
    {"features.mtx", MM "5 3 1\n1 1 1e39\n", "%s/features.mtx:3: feature value '1e39' at row 1, "
     "column 1 overflows float32", 0},
    {"features.mtx", MM "5 3 1\n1 2 INF\n", "'INF' at row 1, column 2 is NaN or Inf", 0},
    {"features.mtx", MM "5 3 1\n1 2 +.\n", "%s/features.mtx:3: non-numeric token '+.'", 0},
    {"features.mtx", MM "5 3 1\n1 2 1.2.3\n", "%s/features.mtx:3: non-numeric token '1.2.3'", 0},
    {"features.mtx", "%%MatrixMarket matrix coordinate integer general\n5 3 1\n1 1 1.5\n",
     "%s/features.mtx:3: non-numeric token '1.5' (expected an integer feature value)", 0},
    {"features.mtx", ARR "5 3\n1\n2\n",
     "%s/features.mtx: file ends after 2 of the 15 values of the declared 5 x 3 array", 0},
    {"features.mtx", ARR "5 1\n1 2 3\n4 5 6\n",
     "%s/features.mtx:4: more values than the declared 5 x 1 array", 0},
    {"features.mtx", ARR "5 1\n1\n2\nnan\n4\n5\n", "%s/features.mtx:5: feature value 'nan' at "
     "row 3, column 1 is NaN or Inf", 0},
    {"features.mtx", "%%MatrixMarket matrix array pattern general\n5 3\n",
     "unsupported Matrix Market field 'pattern' (expected 'real' or 'integer')", 0},
    {"features.mtx", MM "6 3 0\n", "%s/labels.txt: 5 labels but the features have 6 rows", 0},
    {"labels.txt", "-1\n-1\n-1\n-1\n-1\n", "no node has a known label", 0},
    {"labels.txt", "0\n1 2\n0\n1\n2\n", "%s/labels.txt:2: expected one label per line", 0},
    {"labels.txt", "0\n1\n0\n1\n99999999999\n", "%s/labels.txt:5: label '99999999999' is invalid",
     0},
    {"labels.txt", "0\n1\n0\n1\n2\n", "%s/labels.txt:5: label 2 is outside [0, 2)", 2},
    {"val.idx", "-1\n", "%s/val.idx:1: negative node id -1", 0},
    {"test.idx", "3\nfour\n", "%s/test.idx:2: non-numeric token 'four'", 0},
    {"test.idx", "3\n2\n", "%s/test.idx:2: node 2 is also in the val split (%s/val.idx:1)", 0},
    {"val.idx", "2\n2\n", "%s/val.idx:2: node 2 is repeated in the val split (first at line 1)",
     0},
};

static const char *const good_files[6][2] = {
    {"graph.edges", "0 1\n1 2\n2 3\n3 4\n"},
    {"features.mtx", MM "5 3 4\n1 1 1.0\n2 2 0.5\n4 3 2\n5 1 -1\n"},
    {"labels.txt", "0\n1\n0\n1\n2\n"},
    {"train.idx", "0\n1\n"},
    {"val.idx", "2\n"},
    {"test.idx", "3\n4\n"}};

static int dir_entries(const char *dir) {
  int n = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void test_bad_cases(const char *tmp) {
  const int ncases = (int)(sizeof bad_cases / sizeof bad_cases[0]);
  for (int c = 0; c < ncases; ++c) {
    const bad_case *b = &bad_cases[c];
    char dir[512], out[600], p[6][600], want[1024];
    snprintf(dir, sizeof dir, "%s/bad%02d", tmp, c);
    if (rank_ == 0) {
      mkdir(dir, 0755);
      snprintf(out, sizeof out, "%s/out", dir);
      mkdir(out, 0755);
    }
    for (int i = 0; i < 6; ++i) {
      snprintf(p[i], sizeof p[i], "%s/%s", dir, good_files[i][0]);
      write_file(dir, good_files[i][0],
                 strcmp(good_files[i][0], b->file) ? good_files[i][1] : b->content);
    }
    snprintf(out, sizeof out, "%s/out/data.h5", dir);
    er_import_opts o = {.edges = p[0], .features = p[1], .labels = p[2], .train = p[3],
                        .val = p[4], .test = p[5], .out = out, .classes = b->classes};
    er_err e = er_import(MPI_COMM_WORLD, &o);
    snprintf(want, sizeof want, b->want, dir, dir);
    TEST_CHECK(e == ER_ERR_INPUT && strstr(er_error_message(), want),
               "case %d (%s): code %d, message '%s', wanted '%s'", c, b->file, e,
               er_error_message(), want);
    TEST_CHECK(!strchr(er_error_message(), '\n'), "case %d: multi-line message", c);
    er_error_clear();
    snprintf(out, sizeof out, "%s/out", dir);
    if (rank_ == 0) TEST_CHECK(dir_entries(out) == 0, "case %d: files left in %s", c, out);
  }
  // options: missing file name, missing input file
  er_import_opts o = {.out = "x.h5"};
  TEST_CHECK(er_import(MPI_COMM_WORLD, &o) == ER_ERR_INPUT &&
                 strstr(er_error_message(), "--edges FILE is required"),
             "no --edges: '%s'", er_error_message());
  er_error_clear();
  char bufs[6][512];
  cora_paths(&o, bufs, bufs[2]);
  TEST_CHECK(er_import(MPI_COMM_WORLD, &o) == ER_ERR_INPUT &&
                 strstr(er_error_message(), "is also the --labels input"),
             "--out = labels file: '%s'", er_error_message());
  er_error_clear();
  // info on an HDF5 file that is not a dataset
  char path[512];
  hid_t fid;
  char *t = NULL;
  snprintf(path, sizeof path, "%s/plain.h5", tmp);
  TEST_OK(er_h5_create(MPI_COMM_WORLD, path, &fid, &t));
  TEST_OK(er_h5_commit(MPI_COMM_WORLD, fid, path, &t));
  TEST_CHECK(er_info(MPI_COMM_WORLD, path) == ER_ERR_INPUT &&
                 strstr(er_error_message(), "root attribute 'num_nodes' is missing"),
             "info on a plain HDF5 file: '%s'", er_error_message());
  er_error_clear();
}

/* A missing input file is an input error and leaves no output file. */
static void test_missing_input(const char *tmp) {
  char out[512], bufs[6][512];
  er_import_opts o;
  snprintf(out, sizeof out, "%s/never.h5", tmp);
  cora_paths(&o, bufs, out);
  o.labels = "/nonexistent/labels.txt";
  er_err e = er_import(MPI_COMM_WORLD, &o);
  TEST_CHECK(e == ER_ERR_INPUT && strstr(er_error_message(), "/nonexistent/labels.txt"),
             "missing file: %d '%s'", e, er_error_message());
  er_error_clear();
  TEST_CHECK(access(out, F_OK) != 0, "output file left behind");
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  er_test_require_cora();
  const char *tmp = er_test_tmpdir();
  test_cora(tmp);
  test_tiny(tmp);
  test_number_parsing(tmp);
  test_duplicate_order(tmp);
  test_parsers_cut();
  test_npy_headers();
  test_meta_errors(tmp);
  test_bad_cases(tmp);
  test_missing_input(tmp);
  if (rank_ == 0 && er_test_failures == 0) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
  }
  return er_test_finish("test_import");
}
