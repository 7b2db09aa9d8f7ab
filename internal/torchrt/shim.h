#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
void torchlab_set_num_threads(int n);
int torchlab_get_num_threads();
void torchlab_manual_seed(int64_t seed);
#ifdef __cplusplus
}
#endif
