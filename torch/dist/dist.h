// C entry points of torch/dist: c10d's TCPStore and ProcessGroupGloo.
// Each returns NULL on success or a malloc'd message the caller frees.
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

char *torchlab_dist_join(const char *host, int port, int rank, int world, int64_t timeout_ms,
                         const char *iface, int serve, const char *prefix, void **group);
void torchlab_dist_free(void *group);
char *torchlab_dist_allreduce(void *group, void **tensors, int n, int average, int64_t bucket_bytes);
char *torchlab_dist_allreduce_grads(void *group, void **params, int n, int64_t bucket_bytes);
char *torchlab_dist_broadcast(void *group, void **tensors, int n, int root, int64_t bucket_bytes);
char *torchlab_dist_barrier(void *group);
char *torchlab_dist_rollcall(void *group, int rank, int64_t wait_ms, int *answered);
#ifdef __cplusplus
}
#endif
