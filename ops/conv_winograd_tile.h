/* Winograd F(2x2, 3x3)'s input and output transforms, written once for
 * both vector widths: conv_winograd.c includes this file twice, with
 * WN_NAME (a suffix), WN_T (the target), WN_V and WN_W (vector type and
 * lanes) and the WN_ operations defined for AVX-512 and for AVX2. */
/* V = B^T d B of tile t's 4x4 input patch, B^T = [1 0 -1 0; 0 1 1 0;
 * 0 -1 1 0; 0 1 0 -1], WN_W channels at a time: position i stored at
 * v + i * vs. Pixels in the padding read wn->zero. */
WN_T static void WN_NAME(wn_input_tile)(const conv_wino *wn, int64_t t, float *v, int64_t vs) {
  const conv_gemm_shape *s = &wn->sh;
  int64_t per = wn->th * wn->tw, n = t / per, ty = (t % per) / wn->tw, tx = t % wn->tw;
  int64_t iy0 = 2 * ty - s->pt, ix0 = 2 * tx - s->pl;
  const float *px[WN_POS];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      int64_t iy = iy0 + i, ix = ix0 + j;
      bool in = iy >= 0 && iy < s->ih && ix >= 0 && ix < s->iw;
      px[i * 4 + j] = in ? wn->x + ((n * s->ih + iy) * s->iw + ix) * wn->c : wn->zero;
    }
  for (int64_t cc = 0; cc < wn->c; cc += WN_W) {
    WN_V d[WN_POS], r[WN_POS];
    for (int i = 0; i < WN_POS; i++) d[i] = WN_LOAD(px[i] + cc);
    for (int j = 0; j < 4; j++) {
      r[0 + j] = WN_SUB(d[0 + j], d[8 + j]);
      r[4 + j] = WN_ADD(d[4 + j], d[8 + j]);
      r[8 + j] = WN_SUB(d[8 + j], d[4 + j]);
      r[12 + j] = WN_SUB(d[4 + j], d[12 + j]);
    }
    for (int i = 0; i < 16; i += 4) {
      WN_STORE(v + (i + 0) * vs + cc, WN_SUB(r[i + 0], r[i + 2]));
      WN_STORE(v + (i + 1) * vs + cc, WN_ADD(r[i + 1], r[i + 2]));
      WN_STORE(v + (i + 2) * vs + cc, WN_SUB(r[i + 2], r[i + 1]));
      WN_STORE(v + (i + 3) * vs + cc, WN_SUB(r[i + 1], r[i + 3]));
    }
  }
}

/* The epilogue of one output vector: residual, clamp, activation, store. */
WN_T static inline void WN_NAME(wn_store)(const conv_wino *wn, WN_V v, size_t at) {
  if (wn->ep.res) v = WN_ADD(v, WN_LOAD(wn->ep.res + at));
  v = WN_MIN(WN_SET1(wn->ep.hi), WN_MAX(WN_SET1(wn->ep.lo), v));
  WN_STORE(wn->y + at, WN_ACT(wn->ep.act, v));
}

/* Y = A^T M A + bias of tile t, A^T = [1 1 1 0; 0 1 -1 -1], output
 * channels [k0, k1), position i of M at mm + i * ms; output pixels past the
 * map's edge are not stored. */
WN_T static void WN_NAME(wn_output_tile)(const conv_wino *wn, int64_t t, const float *mm,
                                     int64_t ms, int64_t k0, int64_t k1) {
  const conv_gemm_shape *s = &wn->sh;
  int64_t per = wn->th * wn->tw, n = t / per, oy = 2 * ((t % per) / wn->tw), ox = 2 * (t % wn->tw);
  bool down = oy + 1 < s->oh, right = ox + 1 < s->ow;
  size_t m = (size_t)wn->m, at = (size_t)((n * s->oh + oy) * s->ow + ox) * m;
  size_t row = (size_t)s->ow * m;
  for (size_t k = (size_t)k0; k < (size_t)k1; k += WN_W) {
    WN_V q[WN_POS], r0[4], r1[4];
    for (int i = 0; i < WN_POS; i++) q[i] = WN_LOAD(mm + i * ms + (int64_t)k);
    for (int j = 0; j < 4; j++) {
      r0[j] = WN_ADD(WN_ADD(q[j], q[4 + j]), q[8 + j]);
      r1[j] = WN_SUB(WN_SUB(q[4 + j], q[8 + j]), q[12 + j]);
    }
    WN_V b = WN_LOAD(wn->bias + k);
    WN_V y00 = WN_ADD(WN_ADD(WN_ADD(r0[0], r0[1]), r0[2]), b);
    WN_V y01 = WN_ADD(WN_SUB(WN_SUB(r0[1], r0[2]), r0[3]), b);
    WN_V y10 = WN_ADD(WN_ADD(WN_ADD(r1[0], r1[1]), r1[2]), b);
    WN_V y11 = WN_ADD(WN_SUB(WN_SUB(r1[1], r1[2]), r1[3]), b);
    WN_NAME(wn_store)(wn, y00, at + k);
    if (right) WN_NAME(wn_store)(wn, y01, at + m + k);
    if (down) WN_NAME(wn_store)(wn, y10, at + row + k);
    if (down && right) WN_NAME(wn_store)(wn, y11, at + row + m + k);
  }
}

