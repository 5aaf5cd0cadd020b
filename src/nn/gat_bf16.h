/* gat_bf16.h: the _bf16 GAT functions of nn.h that gat_rows_template.h does not define: the
 * whole backward (its gather pass reads dout as bf16; its rows pass is the float one) and the
 * _ref twins (the float ones on widened rows). Included by nn_float.c after the bf16 kernels. */

er_err er_gat_backward_bf16(float *dh, float *da_src, float *da_dst, float *dbias,
                            const float *dout, const er_bf16 *doutb, const er_bf16 *h,
                            const float *a_src, const float *a_dst, er_gat_cache_f *c,
                            const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_call(c, g, H, C));
  ER_CALL(er_gat_backward_gather_bf16(dh, doutb, h, c, 0, g->n_tot, g, H, C));
  ER_CALL(er_gat_backward_rows_f(dbias, dout, c, NULL, g->n_own, g, H, C));
  ER_CALL(er_gat_backward_sources_bf16(dh, da_src, da_dst, h, a_src, a_dst, c, 0, g->n_tot, g, H,
                                       C));
cleanup:
  return err;
}

/* Reference twins: the float _ref kernels on the widened rows. */
er_err er_gat_forward_ref_bf16(float *out, const er_bf16 *h, const float *a_src,
                               const float *a_dst, const float *bias, const er_lgraph *g, int H,
                               int C) {
  er_err err = ER_OK;
  float *hf = NULL;
  ER_CHECK(g != NULL && H >= 1 && C >= 1, ER_ERR_INPUT, "gat ref: invalid graph, heads or width");
  ER_MALLOC(hf, g->n_tot * H * C);
  er_bf16_to_f_array(hf, h, g->n_tot * H * C);
  ER_CALL(er_gat_forward_ref_f(out, hf, a_src, a_dst, bias, g, H, C));
cleanup:
  free(hf);
  return err;
}

er_err er_gat_backward_ref_bf16(float *dh, float *da_src, float *da_dst, float *dbias,
                                const float *dout, const er_bf16 *h, const float *a_src,
                                const float *a_dst, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  float *hf = NULL;
  ER_CHECK(g != NULL && H >= 1 && C >= 1, ER_ERR_INPUT, "gat ref: invalid graph, heads or width");
  ER_MALLOC(hf, g->n_tot * H * C);
  er_bf16_to_f_array(hf, h, g->n_tot * H * C);
  ER_CALL(er_gat_backward_ref_f(dh, da_src, da_dst, dbias, dout, hf, a_src, a_dst, g, H, C));
cleanup:
  free(hf);
  return err;
}

