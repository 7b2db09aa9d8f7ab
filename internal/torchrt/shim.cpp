// A shim for the two libtorch settings gotch v0.9.1 has no Go wrapper for.
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include "shim.h"

extern "C" {
void torchlab_set_num_threads(int n) { at::set_num_threads(n); }
int torchlab_get_num_threads() { return at::get_num_threads(); }
void torchlab_manual_seed(int64_t seed) { at::manual_seed(seed); }
}
