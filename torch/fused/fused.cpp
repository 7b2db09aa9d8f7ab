// Optimiser steps written the way torch.optim's single-tensor code paths
// (PyTorch 1.13) write them, op for op, so Go and Python round the same way.
// gotch's generated bindings drop the alpha/value arguments these need.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <mutex>
#include <cmath>
#include <cstring>
#include <exception>

#include "fused.h"

namespace {
char *err_of(const std::exception &e) { return strdup(e.what()); }
at::Tensor &T(void *p) { return *static_cast<at::Tensor *>(p); }
}  // namespace

extern "C" {

// torch.optim.SGD, _single_tensor_sgd. buf must be a defined tensor of the
// parameter's shape; has_buf==0 means it holds no momentum yet.
char *torchlab_sgd_step(void *param, void *buf, int has_buf, double lr, double momentum,
                        double dampening, double weight_decay, int nesterov) {
  try {
    at::NoGradGuard no_grad;
    at::Tensor &p = T(param);
    at::Tensor d_p = p.grad();
    if (!d_p.defined()) return nullptr;
    if (weight_decay != 0) d_p = d_p.add(p, weight_decay);
    if (momentum != 0) {
      at::Tensor &b = T(buf);
      if (!has_buf) {
        b.copy_(d_p);
      } else {
        b.mul_(momentum).add_(d_p, 1 - dampening);
      }
      d_p = nesterov ? d_p.add(b, momentum) : b;
    }
    p.add_(d_p, -lr);
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  }
}

// torch.optim.Adam, _single_tensor_adam without amsgrad; step counts from 1.
char *torchlab_adam_step(void *param, void *exp_avg, void *exp_avg_sq, int64_t step,
                         double lr, double beta1, double beta2, double eps, double weight_decay) {
  try {
    at::NoGradGuard no_grad;
    at::Tensor &p = T(param);
    at::Tensor grad = p.grad();
    if (!grad.defined()) return nullptr;
    if (weight_decay != 0) grad = grad.add(p, weight_decay);
    T(exp_avg).mul_(beta1).add_(grad, 1 - beta1);
    T(exp_avg_sq).mul_(beta2).addcmul_(grad, grad.conj(), 1 - beta2);
    double bias_correction1 = 1 - std::pow(beta1, (double)step);
    double bias_correction2 = 1 - std::pow(beta2, (double)step);
    double step_size = lr / bias_correction1;
    double bias_correction2_sqrt = std::sqrt(bias_correction2);
    at::Tensor denom = (T(exp_avg_sq).sqrt() / bias_correction2_sqrt).add_(eps);
    p.addcdiv_(T(exp_avg), denom, -step_size);
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  }
}

char *torchlab_leaky_relu(void *x, double slope, void **out) {
  try {
    *out = new at::Tensor(at::leaky_relu(T(x), slope));
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  }
}

// Zeroes a parameter's gradient in place, as optimizer.zero_grad(set_to_none=False).
char *torchlab_zero_grad(void *param) {
  try {
    at::Tensor g = T(param).mutable_grad();
    if (g.defined()) {
      g.detach_();
      g.zero_();
    }
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  }
}

// The default CPU generator's state as a uint8 tensor, as torch.get_rng_state().
char *torchlab_get_rng_state(void **out) {
  try {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = new at::Tensor(gen.get_state());
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  }
}

char *torchlab_set_rng_state(void *state) {
  try {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(state));
    return nullptr;
  } catch (const std::exception &e) {
    return err_of(e);
  }
}
}
