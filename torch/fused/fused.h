#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// Each returns NULL on success or a malloc'ed error message.
char *torchlab_sgd_step(void *param, void *buf, int has_buf, double lr, double momentum,
                        double dampening, double weight_decay, int nesterov, int64_t chunk);
char *torchlab_adam_step(void *param, void *exp_avg, void *exp_avg_sq, int64_t step,
                         double lr, double beta1, double beta2, double eps, double weight_decay,
                         int64_t chunk);
int torchlab_has_grad(void *param);
char *torchlab_conv_transpose_subpixel(void *x, void *w, void *b, int64_t s, int64_t p, void **out);
char *torchlab_conv2d_pointwise_strided(void *x, void *w, void *b, int64_t s, void **out);
char *torchlab_leaky_relu(void *x, double slope, void **out);
char *torchlab_zero_grad(void *param);
char *torchlab_channels_last(void *x, void **out);
char *torchlab_set_channels_last(void *param, int on);
char *torchlab_get_rng_state(void **out);
char *torchlab_set_rng_state(void *state);
#ifdef __cplusplus
}
#endif
