#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// A dictionary of named tensors being built for torch::pickle_save.
void* torchlab_pt_new();
// Adds a copy of data (dtype 0 float32, 1 float64, 2 int64) under name.
// Returns NULL or an error message to free.
char* torchlab_pt_add(void* dict, const char* name, int dtype, const int64_t* shape, int ndim, const void* data);
// Pickles the dictionary as torch.save does; *out is malloc'd, to free.
char* torchlab_pt_save(void* dict, char** out, int64_t* len);
void torchlab_pt_free(void* dict);
#ifdef __cplusplus
}
#endif
