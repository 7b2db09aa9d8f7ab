// The discretised logistic log-likelihood and gradient-norm clipping, each as
// one call of ATen ops (so autograd records them as usual).
#include <ATen/ATen.h>
#include <cmath>
#include <cstring>
#include <exception>
#include <vector>

#include "likelihood.h"

namespace {
char *err_of(const std::exception &e) {
  // c10::Error's what() carries a C++ backtrace after its first line; the Go
  // error keeps the message only.
  std::string s = e.what();
  auto nl = s.find('\n');
  if (nl != std::string::npos) s = s.substr(0, nl);
  return strdup(s.c_str());
}
char *err_unknown() { return strdup("unknown C++ exception"); }
at::Tensor &T(void *p) { return *static_cast<at::Tensor *>(p); }
}  // namespace

extern "C" {

// params [N, 2C, H, W]: the first C channels are the locations, the last C
// the log-scales of one logistic per pixel and channel, on images scaled to
// [-1, 1]. x [N, C, H, W] holds pixels in [0, 1], taken as the 8-bit values
// round(255 x). Returns log P(x) [N], summed over pixels and channels, where
// P puts on each of the 256 values the logistic's mass over its bin of width
// 2/255 and the two edge bins take the tails.
char *torchlab_dlogistic_logp(void *params, void *x, void **out) {
  try {
    const at::Tensor &p = T(params);
    const at::Tensor &img = T(x);
    if (p.dim() != 4 || img.dim() != 4 || p.size(0) != img.size(0) || p.size(1) != 2 * img.size(1) ||
        p.size(2) != img.size(2) || p.size(3) != img.size(3)) {
      return strdup(("discretised logistic: parameters " + std::string(c10::str(p.sizes())) +
                     " do not fit images " + c10::str(img.sizes()) + " (want [N, 2C, H, W] for [N, C, H, W])")
                        .c_str());
    }
    int64_t c = img.size(1);
    at::Tensor v = at::round(img * 255.0);  // [N, C, H, W] in {0..255}
    at::Tensor loc = p.narrow(1, 0, c);
    at::Tensor log_s = at::clamp_min(p.narrow(1, c, c), -7.0);
    at::Tensor inv_s = at::exp(-log_s);
    // Bin edges on [-1, 1], computed from v +- 0.5 (exact in float) so that
    // one bin's upper edge is bit for bit its neighbour's lower edge and the
    // 256 masses telescope to one.
    at::Tensor a = inv_s * ((v + 0.5) / 127.5 - 1.0 - loc);  // upper edge, standardised
    at::Tensor b = inv_s * ((v - 0.5) / 127.5 - 1.0 - loc);  // lower edge
    at::Tensor sp_a = at::softplus(a), sp_b = at::softplus(b);
    // log(sigmoid(a) - sigmoid(b)) = a - softplus(a) - softplus(b) + log(1 - exp(b - a)),
    // exact and stable for every a > b.
    at::Tensor mid = a - sp_a - sp_b + at::log(-at::expm1(b - a));
    at::Tensor lower = a - sp_a;  // log sigmoid(a): value 0 takes the lower tail
    at::Tensor upper = -sp_b;     // log(1 - sigmoid(b)): value 255 the upper tail
    at::Tensor logp = at::where(v < 0.5, lower, at::where(v > 254.5, upper, mid));
    *out = new at::Tensor(logp.sum({1, 2, 3}));
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  } catch (...) {
    return err_unknown();
  }
}

// torch.nn.utils.clip_grad_norm_ (norm type 2, PyTorch 1.13): the 2-norm of
// all gradients together; when it exceeds max_norm every gradient is scaled
// by max_norm / (norm + 1e-6). norm receives the norm before clipping.
// Parameters without a gradient are left out. max_norm <= 0 only measures.
char *torchlab_grad_norm_clip(void **params, int64_t n, double max_norm, double *norm) {
  try {
    std::vector<at::Tensor> grads;
    for (int64_t i = 0; i < n; i++) {
      at::Tensor g = T(params[i]).grad();
      if (g.defined()) grads.push_back(g);
    }
    if (grads.empty()) {
      *norm = 0;
      return nullptr;
    }
    std::vector<at::Tensor> norms;
    for (const auto &g : grads) norms.push_back(at::linalg_vector_norm(g.detach(), 2));
    at::Tensor total = at::linalg_vector_norm(at::stack(norms), 2);
    *norm = total.item<double>();
    if (max_norm > 0) {
      at::Tensor coef = at::clamp_max(max_norm / (total + 1e-6), 1.0);
      for (auto &g : grads) g.detach().mul_(coef);
    }
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  } catch (...) {
    return err_unknown();
  }
}

}  // extern "C"
