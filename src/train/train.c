/* train.c: the ERASE run loop (ERASE.md section 6): per run, fresh weights; per epoch, a
 * training step, the probe's evaluation, the log line, the best model kept, checkpoints; then
 * the summary over runs and the outputs. What each step does lives in setup.c, epoch.c,
 * evaluate.c, log.c, checkpoint.c and output.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_private.h"

/* After an epoch: history, the run's best epoch (validation decides) and the best model over
 * all runs, kept for the outputs. */
static er_err record_epoch(er_trainer *t, int64_t run, int64_t epoch, const er_epoch *ep) {
  er_err err = ER_OK;
  er_train_state *st = &t->st;
  double row[ER_HIST_COLS];
  er_epoch_history_row(run, epoch, ep, row);
  ER_CALL(er_train_state_push(st, row));
  st->epoch = epoch;
  if (ep->acc[1] > st->best_val) {
    st->best_val = ep->acc[1], st->best_test = ep->acc[2], st->best_epoch = epoch;
    if (st->best_val > st->out_val) {
      st->out_val = st->best_val, st->out_run = run, st->out_epoch = epoch;
      memcpy(st->out_params, er_encoder_params_f(t->enc), (size_t)st->n_params * sizeof(float));
      memcpy(st->out_L, t->L, (size_t)t->g->n_own * sizeof(int32_t));
    }
  }
cleanup:
  return err;
}

static void finish_run(er_trainer *t, int64_t run) {
  er_train_state *st = &t->st;
  st->run_test[run] = st->best_test;
  st->run_val[run] = st->best_val;
  st->run_epoch[run] = st->best_epoch;
  st->epoch = 0;
  st->run = run + 1;
  er_log_run(t, run);
}

static int run_continues(const er_train_state *st, const er_train_config *cfg) {
  return st->epoch < cfg->epochs && st->epoch - st->best_epoch <= cfg->patience;
}

/* Mean and standard deviation of the runs' test accuracies at their best epochs, into res. */
static er_err summarize(const er_trainer *t, er_train_result *res) {
  er_err err = ER_OK;
  int64_t runs = t->cfg->runs;
  ER_CALLOC(res->best_test, runs);
  ER_CALLOC(res->best_val, runs);
  ER_CALLOC(res->best_epoch, runs);
  res->runs = (int)runs;
  double mean = 0, var = 0;
  for (int64_t r = 0; r < runs; ++r) {
    res->best_test[r] = t->st.run_test[r];
    res->best_val[r] = t->st.run_val[r];
    res->best_epoch[r] = (int)t->st.run_epoch[r];
    mean += t->st.run_test[r] / runs;
  }
  for (int64_t r = 0; r < runs; ++r) var += pow(t->st.run_test[r] - mean, 2) / runs;
  res->test_mean = mean;
  res->test_std = sqrt(var);
cleanup:
  return err;
}

er_err er_train(MPI_Comm comm, const er_train_config *cfg, er_train_result *res) {
  er_err err = ER_OK;
  er_trainer t;
  const er_train_config *c = cfg;
  memset(res, 0, sizeof *res);
  double t0 = er_wtime();
  err = er_trainer_setup(comm, cfg, &t);
  t.setup_s = er_wtime() - t0;
  ER_CALL(err);
  er_log_header(&t);
  int resumed = c->resume[0] != 0;
  if (resumed) {
    ER_CALL(er_checkpoint_read(comm, c->resume, c, t.g, &t.st, t.enc, t.adam));
    er_log(comm, "resumed from %s: run %lld, epoch %lld done\n", c->resume,
           (long long)t.st.run, (long long)t.st.epoch);
  }
  ER_CALL(er_log_open(&t, resumed));
  er_stop_signals_install();
  er_floor before = {0}, after = {0};
  if (c->floor) ER_CALL(er_floor_measure(&t, &before));

  for (int64_t run = t.st.run; run < c->runs; ++run) {
    if (!resumed) er_trainer_start_run(&t, run);
    resumed = 0;
    while (run_continues(&t.st, c)) {
      int64_t epoch = t.st.epoch + 1;
      er_epoch ep = {0};
      double t0_epoch = er_wtime();
      ER_CALL(er_epoch_train(&t, run, epoch, &ep));
      ER_CALL(er_epoch_evaluate(&t, run, epoch, &ep));
      ER_CALL(er_epoch_agree(comm, &ep));
      if (t.epochs_run++ == 0) t.loop_t0 = t0_epoch;
      er_log_epoch(&t, run, epoch, &ep);
      ER_CALL(record_epoch(&t, run, epoch, &ep));
      int stop = ep.stop_requested > 0;
      if (c->checkpoint[0] && (stop || (c->checkpoint_every > 0 && epoch % c->checkpoint_every == 0)))
        ER_CALL(er_checkpoint_write(comm, c->checkpoint, c, t.g, &t.st, t.enc, t.adam));
      ER_CHECK(!stop || !c->checkpoint[0], ER_INTERRUPTED, "checkpoint written to %s at run "
               "%lld epoch %lld", c->checkpoint, (long long)run, (long long)epoch);
      ER_CHECK(!stop, ER_INTERRUPTED, "stopped at run %lld epoch %lld without a checkpoint "
               "(give --checkpoint FILE to keep progress)", (long long)run, (long long)epoch);
    }
    finish_run(&t, run);
  }
  if (c->floor) {
    ER_CALL(er_floor_measure(&t, &after));
    er_log_floor(&t, &before, &after);
  }
  ER_CALL(summarize(&t, res));
  /* the summary is the log's last line: a run whose outputs failed does not look complete */
  if (c->out[0]) ER_CALL(er_trainer_write_outputs(&t, res->test_mean, res->test_std));
  er_log_summary(&t, res->test_mean, res->test_std);
cleanup:
  er_trainer_free(&t);
  return err;
}

void er_train_result_free(er_train_result *res) {
  free(res->best_test), free(res->best_val), free(res->best_epoch);
  memset(res, 0, sizeof *res);
}
