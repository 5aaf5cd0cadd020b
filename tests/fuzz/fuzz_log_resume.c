/* fuzz_log_resume.c: `train --resume --log-json FILE` rewrites the interrupted run's log,
 * keeping the lines up to the checkpoint (er_log_open -> open_log -> log_line_kept, cJSON):
 * the one reader of a text file a user may have edited or a kill left cut short. Input:
 * [checkpoint run][checkpoint epoch][the log's bytes...]. The verdict must be success (nothing
 * in the log can be refused) and the log after it must be a subsequence of the old lines,
 * byte for byte, then the one setup line the resumed run writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "train/train_private.h"

/* 1 when the first n bytes of `kept` are whole lines taken in order from `old` */
static int subsequence(const unsigned char *kept, size_t n, const unsigned char *old,
                       size_t m) {
  size_t at = 0;
  while (n > 0) {
    const unsigned char *e = memchr(kept, '\n', n);
    size_t len = e ? (size_t)(e - kept) + 1 : n;
    int found = 0;
    while (at < m && !found) {
      const unsigned char *oe = memchr(old + at, '\n', m - at);
      size_t olen = oe ? (size_t)(oe - (old + at)) + 1 : m - at;
      found = olen == len && !memcmp(old + at, kept, len);
      at += olen;
    }
    if (!found) return 0;
    kept += len, n -= len;
  }
  return 1;
}

void fz_run(const uint8_t *data, size_t size) {
  if (size < 2) return;
  const char *path = fz_path("log.jsonl");
  fz_write_file(path, data + 2, size - 2);
  er_train_config cfg;
  er_dgraph g;
  er_trainer t;
  er_train_config_defaults(&cfg);
  snprintf(cfg.log_json, sizeof cfg.log_json, "%s", path);
  memset(&g, 0, sizeof g);
  memset(&t, 0, sizeof t);
  g.n_global = 10;
  t.comm = MPI_COMM_SELF, t.size = 1, t.cfg = &cfg, t.g = &g, t.K = 2;
  t.st.run = data[0] % 4, t.st.epoch = data[1];
  er_err err = er_log_open(&t, 1);
  fz_check_verdict(err, 0, 0, "er_log_open");
  FZ_ASSERT(t.log, "no log file after er_log_open");
  fclose(t.log);
  size_t n;
  unsigned char *now = fz_read_file(path, &n);
  FZ_ASSERT(n > 0 && now[n - 1] == '\n', "the log does not end with the setup line");
  size_t last = n - 1;
  while (last > 0 && now[last - 1] != '\n') --last; /* start of the setup line */
  FZ_ASSERT(!strncmp((char *)now + last, "{\"num_nodes\":", 13), "the last line is not the setup "
            "line");
  FZ_ASSERT(subsequence(now, last, data + 2, size - 2), "the kept lines are not lines of the "
            "old log in order");
  free(now);
}
