/* paths.c: whether two paths name the same file, so that no output overwrites an input or
 * another output of the same command: existing files are compared by device and inode
 * (symlinks, "./x" and "x" alike), files still to be made by their directory's identity and
 * their name. It opens and creates nothing. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "erase/core.h"

typedef struct {
  dev_t dev;
  ino_t ino;
  char name[256]; /* the last component, for a file that does not exist yet */
} file_id;

static int identify(const char *path, file_id *id) {
  struct stat st;
  memset(id, 0, sizeof *id);
  if (stat(path, &st) == 0) {
    id->dev = st.st_dev, id->ino = st.st_ino;
    return 1;
  }
  char dir[4096], base[4096];
  snprintf(dir, sizeof dir, "%s", path);
  snprintf(base, sizeof base, "%s", path);
  if (stat(dirname(dir), &st) != 0) return 0; /* its directory is missing: it cannot collide */
  id->dev = st.st_dev, id->ino = st.st_ino;
  snprintf(id->name, sizeof id->name, "%s", basename(base));
  return 1;
}

static int same(const file_id *a, const file_id *b) {
  return a->dev == b->dev && a->ino == b->ino && !strcmp(a->name, b->name);
}

er_err er_paths_check(MPI_Comm comm, const er_path *paths, int n) {
  er_err err = ER_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    file_id ids[32];
    int known[32] = {0};
    for (int i = 0; i < n && i < 32; ++i)
      known[i] = paths[i].path && paths[i].path[0] && identify(paths[i].path, &ids[i]);
    for (int i = 0; i < n && i < 32 && err == ER_OK; ++i)
      for (int j = 0; j < i && err == ER_OK; ++j) {
        if (!known[i] || !known[j] || !same(&ids[i], &ids[j])) continue;
        if (!paths[i].output && !paths[j].output) continue;      /* two inputs may coincide */
        if (paths[i].may_equal && !strcmp(paths[i].may_equal, paths[j].option)) continue;
        if (paths[j].may_equal && !strcmp(paths[j].may_equal, paths[i].option)) continue;
        err = ER_ERROR(ER_ERR_INPUT, "%s '%s' is the same file as %s '%s': refused, it would "
                       "%s", paths[i].option, paths[i].path, paths[j].option, paths[j].path,
                       paths[i].output && paths[j].output ? "be written twice"
                                                           : "overwrite an input");
      }
  }
  return er_agree(comm, err);
}
