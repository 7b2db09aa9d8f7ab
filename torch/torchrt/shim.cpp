// A shim for the two libtorch settings gotch v0.9.1 has no Go wrapper for.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include "shim.h"
#include "catch.h"

extern "C" {
char *torchlab_set_num_threads(int n) {
  try {
    at::set_num_threads(n);
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}
int torchlab_get_num_threads() {
  try {
    return at::get_num_threads();
  } catch (...) {
    return -1;
  }
}
char *torchlab_manual_seed(int64_t seed) {
  try {
    at::manual_seed(seed);
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}
// Sets this thread's grad mode and returns the previous one. (gotch's
// GradSetEnabled reads the C int result through an 8-byte pointer, so the
// previous state it reports is garbage.)
int torchlab_set_grad_enabled(int enabled) {
  try {
    bool prev = c10::GradMode::is_enabled();
    c10::GradMode::set_enabled(enabled != 0);
    return prev ? 1 : 0;
  } catch (...) {
    return -1;  // a thread-local flag: not seen to fail
  }
}
}
