/* ogb.c: the Open Graph Benchmark node-property layout as users have it on disk, resolved into
 * import's inputs: DIR/raw/{edge,node-feat,node-label,num-node-list}.csv.gz and
 * DIR/split/NAME/{train,valid,test}.csv.gz, each also accepted uncompressed (.csv); and the node
 * count stage. It parses no CSV itself (text.c's dialect does) and downloads nothing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_private.h"

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* DIR/NAME.csv.gz, else DIR/NAME.csv, into out. */
static er_err ogb_file(const char *dir, const char *name, char *out) {
  static const char *const ext[2] = {".csv.gz", ".csv"};
  for (int e = 0; e < 2; ++e) {
    int n = snprintf(out, IMP_PATH, "%s/%s%s", dir, name, ext[e]);
    if (n >= IMP_PATH) return ER_ERROR(ER_ERR_INPUT, "import: --ogb '%s' is too long", dir);
    struct stat st;
    if (stat(out, &st) == 0) return ER_OK;
  }
  return ER_ERROR(ER_ERR_INPUT, "OGB dataset '%s' has no %s.csv.gz (nor %s.csv)", dir, name,
                  name);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

er_err imp_ogb_paths(imp_ctx *c, const char *dir, const char *split) {
  er_err err = ER_OK;
  char splits[IMP_PATH], chosen[IMP_PATH], list[512] = "";
  char *names[8];
  int nnames = 0, nsub = 0;
  DIR *d = NULL;
  ER_CHECK(is_dir(dir), ER_ERR_INPUT, "import: --ogb '%s' is not a directory", dir);
  ER_CALL(ogb_file(dir, "raw/edge", c->path[IMP_EDGES]));
  ER_CALL(ogb_file(dir, "raw/node-feat", c->path[IMP_FEATURES]));
  ER_CALL(ogb_file(dir, "raw/node-label", c->path[IMP_LABELS]));
  ER_CALL(ogb_file(dir, "raw/num-node-list", c->path[IMP_NODES]));
  snprintf(splits, sizeof splits, "%s/split", dir);
  if (split) {
    int n = snprintf(chosen, sizeof chosen, "%s/%s", splits, split);
    ER_CHECK(n < (int)sizeof chosen && is_dir(chosen), ER_ERR_INPUT,
             "OGB dataset '%s' has no split '%s' (no directory %s)", dir, split, chosen);
  } else {
    d = opendir(splits);
    ER_CHECK(d, ER_ERR_INPUT, "OGB dataset '%s' has no split directory (split/NAME/)", dir);
    for (struct dirent *e; (e = readdir(d));) {
      char sub[IMP_PATH];
      if (e->d_name[0] == '.') continue;
      int n = snprintf(sub, sizeof sub, "%s/%s", splits, e->d_name);
      if (n >= (int)sizeof sub || !is_dir(sub)) continue;
      if (nsub++ == 0) snprintf(chosen, sizeof chosen, "%s", sub);
      if (nnames < 8) {
        names[nnames] = strdup(e->d_name);
        if (names[nnames]) nnames++;
      }
    }
    qsort(names, (size_t)nnames, sizeof *names, cmp_str);
    for (int i = 0; i < nnames; ++i)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    ER_CHECK(nsub > 0, ER_ERR_INPUT, "OGB dataset '%s' has no split directory (split/NAME/)",
             dir);
    ER_CHECK(nsub == 1, ER_ERR_INPUT,
             "OGB dataset '%s' has %d splits (%s%s): choose one with --ogb-split NAME", dir, nsub,
             list, nsub > nnames ? ", ..." : "");
  }
  ER_CALL(ogb_file(chosen, "train", c->path[IMP_TRAIN]));
  ER_CALL(ogb_file(chosen, "valid", c->path[IMP_VAL]));
  ER_CALL(ogb_file(chosen, "test", c->path[IMP_TEST]));
cleanup:
  if (d) closedir(d);
  for (int i = 0; i < nnames; ++i) free(names[i]);
  return err;
}

er_err imp_node_count(imp_ctx *c) {
  er_err err = ER_OK;
  imp_head h;
  ER_CALL(imp_head_read(c->comm, c->path[IMP_NODES], "node count", IMP_HEAD_COUNT, 0, &c->first,
                        &h));
  if (h.failed) ER_CALL(imp_first_agree(c->comm, &c->first));
  c->n = h.value;
cleanup:
  return err; /* imp_head_read and imp_first_agree end agreed */
}
