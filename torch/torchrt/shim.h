#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
char *torchlab_set_num_threads(int n);
int torchlab_get_num_threads();
char *torchlab_manual_seed(int64_t seed);
int torchlab_set_grad_enabled(int enabled);
#ifdef __cplusplus
}
#endif
