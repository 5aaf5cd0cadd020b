/* log.c: what a training run tells its user: the console lines on rank 0 and the --log-json
 * file (one JSON object per line; keys in docs/FORMAT.md). A resumed run keeps the interrupted
 * run's log up to the checkpoint and appends. It does not decide anything about training. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/progress.h"
#include "train_private.h"

/* A number, with the fewest digits (15 to 17) that read back as exactly v. cJSON's own
 * printing keeps 15 digits whenever they read back within a relative DBL_EPSILON, which drops
 * the last bit of about one double in ten: the log's losses would then differ from the
 * output file's. JSON has no NaN or infinity: those are null, as cJSON writes them. */
static void json_number(cJSON *o, const char *name, double v) {
  if (!isfinite(v)) {
    cJSON_AddNullToObject(o, name);
    return;
  }
  char buf[32];
  for (int digits = 15; digits <= 17; ++digits) {
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  cJSON_AddRawToObject(o, name, buf);
}

/* Whether a line of an interrupted run's log survives a resume from (ck_run, ck_epoch done):
 * epochs up to the checkpoint and the summaries of runs finished before it. Everything else
 * (epochs the resumed run logs again, the final summary, a line cut short by a kill, a line
 * that is not one JSON object and its newline) goes. */
static int log_line_kept(const char *line, size_t n, int64_t ck_run, int64_t ck_epoch) {
  const char *end = NULL;
  if (n == 0 || line[n - 1] != '\n') return 0; /* cut short: the next line would join it */
  cJSON *o = cJSON_ParseWithOpts(line, &end, 0);
  if (o && strspn(end, " \t\r") != (size_t)(line + n - 1 - end)) { /* text after the object */
    cJSON_Delete(o);
    return 0;
  }
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "run");
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "epoch");
  int keep = 0;
  if (cJSON_IsNumber(r) && cJSON_IsNumber(e))
    keep = r->valuedouble < (double)ck_run ||
           (r->valuedouble == (double)ck_run && e->valuedouble <= (double)ck_epoch);
  else if (cJSON_IsNumber(r) && cJSON_HasObjectItem(o, "best_epoch"))
    keep = r->valuedouble < (double)ck_run;
  cJSON_Delete(o);
  return keep;
}

/* Opens the log (rank 0). A fresh run starts it empty. A resumed run keeps the interrupted
 * run's lines that log_line_kept() accepts, written to PATH.tmp and renamed over PATH (a kill
 * leaves the old log or the new one, never half of it), then appends: one log, no repeated
 * epoch, across any number of resumes. */
static er_err open_log(const char *path, int resumed, int64_t ck_run, int64_t ck_epoch,
                       FILE **out) {
  er_err err = ER_OK;
  FILE *in = NULL, *f = NULL;
  char *line = NULL, *tmp = NULL;
  size_t cap = 0;
  *out = NULL;
  if (resumed && (in = fopen(path, "r")) != NULL) {
    ER_MALLOC(tmp, strlen(path) + 5);
    sprintf(tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    ER_CHECK(f != NULL, ER_ERR_IO, "cannot write '%s' (rewriting --log-json)", tmp);
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0)
      if (log_line_kept(line, (size_t)n, ck_run, ck_epoch))
        ER_CHECK(fwrite(line, 1, (size_t)n, f) == (size_t)n, ER_ERR_IO, "cannot write '%s'", tmp);
    ER_CHECK(!ferror(in), ER_ERR_IO, "cannot read --log-json file '%s'", path);
    int rc = fclose(f);
    f = NULL;
    ER_CHECK(rc == 0 && rename(tmp, path) == 0, ER_ERR_IO, "cannot replace '%s' by '%s'", path,
             tmp);
    f = fopen(path, "a");
  } else {
    f = fopen(path, "w");
  }
  ER_CHECK(f != NULL, ER_ERR_IO, "cannot write --log-json file '%s'", path);
  *out = f;
  f = NULL;
cleanup:
  if (in) fclose(in);
  if (f) fclose(f);
  if (err != ER_OK && tmp) remove(tmp);
  free(line);
  free(tmp);
  return err;
}

static void json_line(FILE *f, cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    fprintf(f, "%s\n", s);
    fflush(f);
    free(s);
  }
  cJSON_Delete(o);
}

/* The first line of every (re)start: the run's shape and the training labels' quality. */
static void log_setup(const er_trainer *t) {
  cJSON *o = cJSON_CreateObject();
  json_number(o, "num_nodes", (double)t->g->n_global);
  json_number(o, "num_classes", t->K);
  json_number(o, "ranks", t->size);
  json_number(o, "noisy_train_acc", t->noisy_train_acc);
  json_number(o, "denoised_train_acc", t->denoised_train_acc);
  json_number(o, "denoised_train_coverage", t->denoised_train_coverage);
  json_number(o, "setup_s", t->setup_s);
  cJSON *load = cJSON_AddObjectToObject(o, "load"); /* rank 0's dataset load, see graph.h */
  json_number(load, "total_s", t->g->load_s);
  json_number(load, "check_s", t->g->check_s);
  json_number(load, "digest_s", t->g->digest_s);
  if (t->g->order != ER_ORDER_NONE) { /* --reorder: the order and rank 0's seconds making it */
    cJSON_AddStringToObject(load, "order", er_order_kinds.names[t->g->order]);
    json_number(load, "order_s", t->g->order_s);
  }
  cJSON *hosts = cJSON_AddArrayToObject(o, "hosts"); /* rank r ran on hosts[r] */
  for (int r = 0; t->hosts && r < t->size; ++r)
    cJSON_AddItemToArray(hosts, cJSON_CreateString(t->hosts + (size_t)r * ER_HOST_LEN));
  json_line(t->log, o);
}

er_err er_log_open(er_trainer *t, int resumed) {
  er_err err = ER_OK;
  if (t->rank == 0 && t->cfg->log_json[0]) {
    err = open_log(t->cfg->log_json, resumed, t->st.run, t->st.epoch, &t->log);
    if (err == ER_OK) log_setup(t);
  }
  return er_agree(t->comm, err);
}

void er_log_header(const er_trainer *t) {
  const er_dgraph *g = t->g;
  const er_encoder_layout *lay = er_encoder_layout_f(t->enc);
  er_log(t->comm, "train: %s N=%lld E=%lld F=%lld K=%d on %d ranks (partition %s), %lld params, "
                  "setup %.2f s\n", t->cfg->data, (long long)g->n_global, (long long)g->e_global,
         (long long)lay->F, t->K, t->size, g->partition, (long long)lay->n_params, t->setup_s);
  /* where every rank runs: "host: ranks" in rank order, e.g. "n1: 0-1, n2: 2-3" */
  if (t->rank == 0 && t->hosts) {
    char line[4096] = "";
    size_t at = 0;
    int distinct = 0;
    for (int r = 0; r < t->size && at < sizeof line - 128; ++r) {
      const char *h = t->hosts + (size_t)r * ER_HOST_LEN;
      int first = r == 0 || strcmp(h, t->hosts + (size_t)(r - 1) * ER_HOST_LEN) != 0;
      int last = r == t->size - 1 || strcmp(h, t->hosts + (size_t)(r + 1) * ER_HOST_LEN) != 0;
      distinct += first;
      if (first) at += (size_t)snprintf(line + at, sizeof line - at, "%s%s: %d", r ? ", " : "", h, r);
      if (last && !first) at += (size_t)snprintf(line + at, sizeof line - at, "-%d", r);
    }
    er_log(t->comm, "train: %d host%s (%s)\n", distinct, distinct == 1 ? "" : "s", line);
  }
  if (t->ev.rows_only)
    er_log(t->comm, "train: per-epoch evaluation computes Z only around the labelled nodes "
                    "(their two-hop neighbourhood)\n");
  if (!t->cfg->quiet)
    er_log(t->comm, "%4s %5s %11s %9s %9s %9s %7s %7s %7s %8s %8s\n", "run", "epoch", "loss", "R",
           "Rc", "deltaR", "train", "val", "test", "comp_s", "comm_s");
}

void er_log_epoch(const er_trainer *t, int64_t run, int64_t epoch, const er_epoch *ep) {
  if (!t->cfg->quiet) {
    /* the time left if every remaining epoch of every run ran (early stopping can only
     * shorten it) */
    char eta[48] = "";
    int64_t left = (t->cfg->epochs - epoch) + (t->cfg->runs - run - 1) * t->cfg->epochs;
    if (t->epochs_run > 0 && left > 0)
      er_format_seconds((er_wtime() - t->loop_t0) / (double)t->epochs_run * (double)left, eta,
                        sizeof eta);
    er_log(t->comm, "%4lld %5lld %11.6f %9.5f %9.5f %9.5f %7.2f %7.2f %7.2f %8.4f %8.4f %s%s\n",
           (long long)run, (long long)epoch, ep->loss, ep->R, ep->Rc, ep->delta_R, ep->acc[0],
           ep->acc[1], ep->acc[2], ep->compute_s, ep->comm_s, eta[0] ? "  ETA " : "", eta);
  }
  if (!t->log) return;
  /* the epoch line carries the history row (er_hist_names) under the same names */
  double row[ER_HIST_COLS];
  er_epoch_history_row(run, epoch, ep, row);
  cJSON *o = cJSON_CreateObject();
  for (int c = 0; c < ER_HIST_COLS; ++c) json_number(o, er_hist_names[c], row[c]);
  cJSON *phases = cJSON_AddObjectToObject(o, "phases");
  for (int k = 0; k < ER_NPHASE; ++k)
    json_number(phases, er_phase_names[k], ep->phase_s[k]);
  cJSON *waits = cJSON_AddObjectToObject(o, "halo_wait");
  for (int k = 0; k < ER_NPHASE; ++k)
    if (ep->halo_wait_s[k] > 0) json_number(waits, er_phase_names[k], ep->halo_wait_s[k]);
  json_number(o, "probe_evaluations", t->ev.evaluations);
  json_line(t->log, o);
}

void er_log_run(const er_trainer *t, int64_t run) {
  const er_train_state *st = &t->st;
  er_log(t->comm, "run %lld: best epoch %lld, val %.2f%%, test %.2f%%\n", (long long)run,
         (long long)st->best_epoch, st->best_val, st->best_test);
  if (!t->log) return;
  cJSON *o = cJSON_CreateObject();
  json_number(o, "run", (double)run);
  json_number(o, "best_epoch", (double)st->best_epoch);
  json_number(o, "val_acc", st->best_val);
  json_number(o, "test_acc", st->best_test);
  json_line(t->log, o);
}

void er_log_summary(const er_trainer *t, double mean, double std) {
  er_log(t->comm, "summary: test accuracy %.2f +- %.2f over %lld runs\n", mean, std,
         (long long)t->cfg->runs);
  if (!t->log) return;
  cJSON *o = cJSON_CreateObject();
  json_number(o, "test_mean", mean);
  json_number(o, "test_std", std);
  json_number(o, "runs", (double)t->cfg->runs);
  json_line(t->log, o);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void er_log_floor(const er_trainer *t, const er_floor *before, const er_floor *after) {
  const er_train_state *st = &t->st;
  int64_t n = t->epochs_run > 1 ? t->epochs_run - 1 : t->epochs_run, first = st->hist_n - n;
  double *ep = malloc((size_t)(n > 0 ? n : 1) * sizeof *ep), median = 0;
  if (!ep || n <= 0) {
    free(ep);
    return;
  }
  for (int64_t k = 0; k < n; ++k) { /* compute_s + comm_s: the epoch's wall time */
    const double *row = st->hist + (first + k) * ER_HIST_COLS;
    ep[k] = row[9] + row[10];
  }
  qsort(ep, (size_t)n, sizeof *ep, cmp_double);
  median = n % 2 ? ep[n / 2] : 0.5 * (ep[n / 2 - 1] + ep[n / 2]);
  free(ep);
  /* the lower of the two floors: a slow moment of the host during one measurement would
   * otherwise raise the floor and flatter the multiple */
  const er_floor *lo = after->floor_s < before->floor_s ? after : before;
  double floor_s = lo->floor_s;
  er_log(t->comm, "floor: sgemm %.1f / %.1f GF/s and row gathers %.2f / %.2f GB/s (before / "
                  "after) give %.3f / %.3f s per epoch; against the lower (%.3f s products + "
                  "%.3f s gathers) the median of %lld epochs, %.3f s, is %.2fx the floor\n",
         before->sgemm_gfs, after->sgemm_gfs, before->gather_gbs, after->gather_gbs,
         before->floor_s, after->floor_s, lo->gemm_s, lo->gather_s, (long long)n, median,
         median / floor_s);
  if (!t->log) return;
  cJSON *o = cJSON_CreateObject(), *fl = cJSON_AddObjectToObject(o, "floor");
  const er_floor *f[2] = {before, after};
  const char *when[2] = {"before", "after"};
  for (int k = 0; k < 2; ++k) {
    cJSON *w = cJSON_AddObjectToObject(fl, when[k]);
    json_number(w, "sgemm_gfs", f[k]->sgemm_gfs);
    json_number(w, "gather_gbs", f[k]->gather_gbs);
    json_number(w, "gemm_s", f[k]->gemm_s);
    json_number(w, "gather_s", f[k]->gather_s);
    json_number(w, "floor_s", f[k]->floor_s);
  }
  json_number(fl, "floor_s", floor_s); /* the lower of before and after */
  json_number(fl, "epochs", (double)n);
  json_number(fl, "epoch_median_s", median);
  json_number(fl, "multiple", median / floor_s);
  json_line(t->log, o);
}
