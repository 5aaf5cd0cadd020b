/* common.c: the shared part of every harness (fuzz.h): libFuzzer's entry points, MPI (one
 * process) and quiet HDF5 set up once, a scratch directory removed at exit, the recipe reader
 * and the verdict oracle. It knows no parser: each fuzz_NAME.c brings fz_run. */
#include "fuzz.h"

#include <dirent.h>
#include <hdf5.h>
#include <mpi.h>
#include <sanitizer/lsan_interface.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[4096];

static void remove_scratch(void) {
  DIR *d = scratch[0] ? opendir(scratch) : NULL;
  struct dirent *e;
  char path[8192];
  while (d && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
    unlink(path);
  }
  if (d) closedir(d);
  if (scratch[0]) rmdir(scratch);
}

/* MPI is not finalized: Open MPI's singleton daemon leaves when this process does (its
 * singleton-died pipe), and a finalize would unload the components whose allocations the exit
 * leak check must be able to attribute (lsan.supp) */
static void at_exit(void) { remove_scratch(); }

/* $ERASE_FUZZ_TMP (scripts/fuzz.sh sets it and removes it), else tmpfs, else /tmp */
static void make_scratch(void) {
  const char *parent = getenv("ERASE_FUZZ_TMP");
  struct stat st;
  if (!parent || !*parent) parent = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0
                                        ? "/dev/shm" : "/tmp";
  snprintf(scratch, sizeof scratch, "%s/erase-fuzz.%ld.XXXXXX", parent, (long)getpid());
  if (!mkdtemp(scratch)) {
    perror("fuzz: cannot make a scratch directory");
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  /* Open MPI as root and on loopback only, as scripts/env.sh sets them */
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  setenv("OMPI_MCA_btl_tcp_if_include", "lo", 0);
  setenv("OMPI_MCA_oob_tcp_if_include", "lo", 0);
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  /* no Open MPI signal handlers: an oracle's abort() must reach libFuzzer, which saves the
   * input, not Open MPI's handler, which prints a backtrace and exits */
  setenv("OMPI_MCA_opal_signal", "", 1);
  int provided;
  __lsan_disable(); /* what MPI and HDF5 keep for the life of the process is not a leak */
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "fuzz: MPI_Init failed\n");
    abort();
  }
  H5open();
  __lsan_enable();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* no free lists: freed HDF5 memory goes back to malloc, so libFuzzer's per-input malloc/free
   * balance (its leak detection) sees our leaks rather than HDF5's caches */
  H5set_free_list_limits(0, 0, 0, 0, 0, 0);
  make_scratch();
  atexit(at_exit);
  if (fz_init) fz_init(argc, argv);
  er_error_clear();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  er_error_clear();
  fz_run(data, size);
  er_error_clear();
  return 0;
}

//---- files -------------------------------------------------------------------------------------

const char *fz_path(const char *name) {
  static char slots[8][4200];
  static int next;
  char *p = slots[next++ % 8];
  snprintf(p, sizeof slots[0], "%s/%s", scratch, name);
  return p;
}

void fz_write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(path);
    abort();
  }
}

unsigned char *fz_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  long len;
  unsigned char *buf = NULL;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
      !(buf = malloc((size_t)len + 1)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
    perror(path);
    abort();
  }
  fclose(f);
  *size = (size_t)len;
  return buf;
}

char *fz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

//---- recipes -----------------------------------------------------------------------------------

uint8_t fz_u8(fz_reader *r) {
  if (r->n == 0) return 0;
  r->n--;
  return *r->p++;
}

uint32_t fz_u32(fz_reader *r) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= (uint32_t)fz_u8(r) << (8 * i);
  return v;
}

uint64_t fz_u64(fz_reader *r) {
  uint64_t lo = fz_u32(r);
  return lo | (uint64_t)fz_u32(r) << 32;
}

uint64_t fz_below(fz_reader *r, uint64_t n) {
  if (n <= 1) return 0;
  if (n <= 256) return fz_u8(r) % n;
  if (n <= 1ull << 32) return fz_u32(r) % n;
  return fz_u64(r) % n;
}

//---- oracles -----------------------------------------------------------------------------------

_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "fuzz oracle: %s:%d: %s: ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  fflush(stderr);
  abort();
}

void fz_check_verdict(er_err err, unsigned allowed, int lines_ok, const char *call) {
  static int verbose = -1;
  if (verbose < 0) verbose = getenv("ERASE_FUZZ_VERBOSE") != NULL;
  if (verbose) fprintf(stderr, "fuzz: %s -> %d: %s\n", call, err, err ? er_error_message() : "ok");
  if (err == ER_OK) return;
  const char *msg = er_error_message();
  FZ_ASSERT(err > 0 && err < 32 && (allowed & FZ_CODE(err)), "%s returned code %d: %s", call,
            err, msg);
  FZ_ASSERT(msg[0] && strcmp(msg, "no error") != 0, "%s failed (code %d) without a message",
            call, err);
  FZ_ASSERT(lines_ok || !strchr(msg, '\n'), "%s: the message is not one line: %s", call, msg);
}
