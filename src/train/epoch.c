/* epoch.c: one ERASE epoch, in the order of ERASE.md: encoder forward with dropout (section 3),
 * semantic labels (4), MCR2 loss and its gradient (5), encoder backward, gradient Allreduce and
 * Adam (6); then the dropout-free evaluation (7). Each part is timed. It does not log, decide
 * when to stop or write files. */
#include <signal.h>
#include <string.h>

#include "train_private.h"

const char *const er_phase_names[ER_NPHASE] = {"encoder_fwd", "labels", "loss", "encoder_bwd",
                                               "grad_allreduce", "adam", "eval_fwd", "probe"};

/* Times consecutive parts of an epoch: each end() charges the wall time and the halo waits
 * since the previous one to part k. */
typedef struct {
  const er_trainer *tr;
  double t, wait;
} phase_clock;

/* Seconds waited so far in the graph's halo and in the encoder's evaluation halos. */
static double halo_waited(const er_trainer *t) {
  er_halo_stats hs;
  er_halo_get_stats(t->g->halo, &hs);
  return hs.wait_s + er_encoder_halo_wait_f(t->enc);
}

static phase_clock clock_start(const er_trainer *t) {
  return (phase_clock){t, er_wtime(), halo_waited(t)};
}

static void clock_end(phase_clock *c, int k, er_epoch *ep) {
  const double waited = halo_waited(c->tr), now = er_wtime();
  ep->phase_s[k] = now - c->t;
  ep->halo_wait_s[k] = waited - c->wait;
  ep->comm_s += ep->halo_wait_s[k];
  c->t = now;
  c->wait = waited;
}

er_err er_epoch_train(er_trainer *t, int64_t run, int64_t epoch, er_epoch *ep) {
  er_err err = ER_OK;
  const er_encoder_layout *lay = er_encoder_layout_f(t->enc);
  int64_t n_own = t->g->n_own;
  uint64_t seed = er_run_seed(t->cfg, run);
  const float *Z;
  er_mcr2_result mr;
  phase_clock clk = clock_start(t);

  /* the encoder, the semantic labels and the loss agree on their own errors; the backward of
   * the loss is local (agreed before the backward's first exchange) */
  er_encoder_zero_grads_f(t->enc);
  ER_CALL(er_encoder_forward_f(t->enc, ER_FWD_TRAIN, seed, epoch, &Z));
  clock_end(&clk, ER_PH_ENCODER_FWD, ep);
  ER_CALL(er_semantic_labels(t->sem, Z, t->L, &ep->comm_s));
  clock_end(&clk, ER_PH_LABELS, ep);
  ER_CALL(er_mcr2_forward_f(t->mcr, Z, t->L, n_own, &mr));
  ep->comm_s += mr.comm_s;
  ER_CALL(er_mcr2_backward_f(t->mcr, t->dZ, Z, t->L, n_own));
  clock_end(&clk, ER_PH_LOSS, ep);
  er_fault_stall("epoch"); /* tests kill a rank here: mid-epoch */
  ER_AGREE(t->comm);
  ER_CALL(er_encoder_backward_f(t->enc, t->dZ));
  clock_end(&clk, ER_PH_ENCODER_BWD, ep);
  if (run == 0 && epoch == 1 && t->cfg->dump_step[0]) {
    ER_CALL(er_dump_step(t, &mr));
    clk = clock_start(t); /* the dump is not part of the epoch */
  }
  ER_AGREE(t->comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, er_encoder_grads_f(t->enc), (int)lay->n_params,
                            MPI_FLOAT, MPI_SUM, t->comm));
  clock_end(&clk, ER_PH_GRAD_ALLREDUCE, ep);
  ep->comm_s += ep->phase_s[ER_PH_GRAD_ALLREDUCE];
  ER_CALL(er_adam_step(t->adam, er_encoder_params_f(t->enc), er_encoder_grads_f(t->enc)));
  clock_end(&clk, ER_PH_ADAM, ep);
  ep->loss = mr.loss, ep->R = mr.R, ep->Rc = mr.Rc, ep->delta_R = mr.delta_R;
cleanup:
  return ER_FINISH(t->comm);
}

er_err er_epoch_evaluate(er_trainer *t, int64_t run, int64_t epoch, er_epoch *ep) {
  er_err err = ER_OK;
  const float *Z;
  phase_clock clk = clock_start(t);
  ER_CALL(er_encoder_forward_f(t->enc, ER_FWD_EVAL_ROWS, er_run_seed(t->cfg, run), epoch, &Z));
  clock_end(&clk, ER_PH_EVAL_FWD, ep);
  /* the probe is fitted on this epoch's semantic labels */
  ER_CALL(er_eval_run(&t->ev, t->g, Z, t->L, t->cfg, 0, ep->acc, ep->semantic_acc));
  clock_end(&clk, ER_PH_PROBE, ep);
cleanup:
  return ER_FINISH(t->comm);
}

void er_epoch_history_row(int64_t run, int64_t epoch, const er_epoch *ep,
                          double row[ER_HIST_COLS]) {
  const double r[ER_HIST_COLS] = {(double)run, (double)epoch, ep->loss, ep->R, ep->Rc,
                                  ep->delta_R, ep->acc[0], ep->acc[1], ep->acc[2], ep->compute_s,
                                  ep->comm_s, ep->semantic_acc[0], ep->semantic_acc[1]};
  memcpy(row, r, sizeof r);
}

er_err er_epoch_agree(MPI_Comm comm, er_epoch *ep) {
  er_err err = ER_OK;
  double total = 0;
  for (int k = 0; k < ER_NPHASE; ++k) total += ep->phase_s[k];
  ep->compute_s = total - ep->comm_s;
  ep->stop_requested = er_stop_requested();
  /* one reduction: the slowest rank's timings, and any rank's stop request */
  double *first = ep->phase_s, *last = &ep->stop_requested;
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, first, (int)(last - first) + 1, MPI_DOUBLE, MPI_MAX,
                            comm));
cleanup:
  return ER_FINISH(comm);
}

//---- SIGTERM / SIGUSR1: finish the epoch, checkpoint, exit 75 ----------------------------------
static volatile sig_atomic_t stop_flag = 0;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

void er_stop_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}

int er_stop_requested(void) { return stop_flag != 0; }
