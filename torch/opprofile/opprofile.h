#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// Each returns NULL on success or a malloc'ed error message.
char *torchlab_profile_start(void);
// Writes a malloc'ed, tab-separated table to *out: one line per phase
// (forward, backward or a user scope's name) and op name with calls,
// total µs, self µs and FLOPs.
char *torchlab_profile_stop(char **out);
char *torchlab_profile_scope_begin(const char *name, void **scope);
char *torchlab_profile_scope_end(void *scope);
#ifdef __cplusplus
}
#endif
