#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// Returns NULL on success or a malloc'ed error message. Tensor arguments and
// *out are at::Tensor* (gotch's C tensor handle).
char *torchlab_lstm_fused(void *codes, void *lengths, void *w_ih, void *w_hh, void *b_ih,
                          void *b_hh, void **out);
// Forces the scalar (non-AVX2) rows when on is not 0; returns the previous
// setting.
int torchlab_lstm_force_scalar(int on);
// GFLOP/s of the best of reps [n,n]x[n,n] float products through the sgemm
// the LSTM uses; 0 on failure.
double torchlab_lstm_sgemm_gflops(int64_t n, int reps);
#ifdef __cplusplus
}
#endif
