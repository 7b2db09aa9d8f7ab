#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// Each returns NULL on success or a malloc'ed error message.
char *torchlab_dlogistic_logp(void *params, void *x, void **out);
char *torchlab_grad_norm_clip(void **params, int64_t n, double max_norm, double *norm);
#ifdef __cplusplus
}
#endif
