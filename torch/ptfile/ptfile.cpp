// A shim over libtorch's own torch.save writer, torch::pickle_save.
#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <torch/serialize.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ptfile.h"

namespace {
struct PtDict {
  c10::Dict<std::string, at::Tensor> dict;
};

char* copy_message(const char* what) {
  char* msg = static_cast<char*>(malloc(strlen(what) + 1));
  strcpy(msg, what);
  return msg;
}
}  // namespace

extern "C" {
void* torchlab_pt_new() { return new PtDict(); }

char* torchlab_pt_add(void* dict, const char* name, int dtype, const int64_t* shape, int ndim, const void* data) {
  try {
    at::ScalarType type;
    switch (dtype) {
      case 0: type = at::kFloat; break;
      case 1: type = at::kDouble; break;
      case 2: type = at::kLong; break;
      default: return copy_message("unknown dtype code");
    }
    std::vector<int64_t> dims(shape, shape + ndim);
    at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
    if (t.numel() > 0) {
      memcpy(t.data_ptr(), data, t.numel() * t.element_size());
    }
    static_cast<PtDict*>(dict)->dict.insert(std::string(name), t);
  } catch (const std::exception& e) {
    return copy_message(e.what());
  }
  return nullptr;
}

char* torchlab_pt_save(void* dict, char** out, int64_t* len) {
  try {
    std::vector<char> bytes = torch::pickle_save(c10::IValue(static_cast<PtDict*>(dict)->dict));
    *out = static_cast<char*>(malloc(bytes.size() > 0 ? bytes.size() : 1));
    memcpy(*out, bytes.data(), bytes.size());
    *len = static_cast<int64_t>(bytes.size());
  } catch (const std::exception& e) {
    return copy_message(e.what());
  }
  return nullptr;
}

void torchlab_pt_free(void* dict) { delete static_cast<PtDict*>(dict); }
}
