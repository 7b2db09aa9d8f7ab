// Optimiser steps written the way torch.optim's single-tensor code paths
// (PyTorch 1.13) write them, op for op, so Go and Python round the same way.
// gotch's generated bindings drop the alpha/value arguments these need.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <mutex>
#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "fused.h"
#include "../torchrt/catch.h"

namespace {
at::Tensor &T(void *p) { return *static_cast<at::Tensor *>(p); }

// by_chunks runs the optimiser's element-wise ops f on matching slices of at
// most chunk elements of the flattened tensors (chunk <= 0: once on the whole
// tensors). Why: each op of PyTorch's single-tensor optimisers streams whole
// tensors through memory, five to eight times per step; on VGG11's 28 M
// parameters that is ~2 GB of memory traffic per Adam step (a third of the
// step). On slices that stay in cache between ops each value is read and
// written about once. The arithmetic per element is the same ATen kernel's;
// chunk is rounded to a multiple of 64, so that only the last slice has a
// tail that ATen's vectorised loops finish in scalar code, as the whole
// tensor does: at one thread the result is bit-identical. (With more threads
// ATen splits each op's range between threads at other points, whose tails
// may round differently in the last bit, as PyTorch itself does across
// thread counts.) The tensors are sliced in memory order, which is the same
// element for each of them when they are laid out alike without gaps (all
// contiguous, or all channels-last as a parameter, its gradient and its
// moments are when the parameter is: libtorch gives a dense parameter's
// gradient the parameter's strides); tensors laid out otherwise run whole.
template <typename F>
void by_chunks(const std::vector<at::Tensor> &whole, int64_t chunk, F f) {
  const at::Tensor &first = whole[0];
  int64_t n = first.numel();
  bool alike = first.unsafeGetTensorImpl()->is_non_overlapping_and_dense();
  for (const auto &t : whole) alike = alike && t.sizes() == first.sizes() && t.strides() == first.strides();
  chunk = chunk / 64 * 64;
  if (chunk <= 0 || chunk >= n || !alike) {
    f(whole);
    return;
  }
  std::vector<at::Tensor> flat, slice(whole.size());
  for (const auto &t : whole) flat.push_back(t.as_strided({n}, {1}, t.storage_offset()));
  for (int64_t lo = 0; lo < n; lo += chunk) {
    for (size_t i = 0; i < flat.size(); i++) slice[i] = flat[i].narrow(0, lo, std::min(chunk, n - lo));
    f(slice);
  }
}

// phase_weight turns a transposed convolution's weight W [in, out, k, k]
// into the weight [out*s*s, in, w, w] of one convolution whose output
// channel (co*s + a)*s + c is output phase (a, c) of channel co: M
// [k*k, s*s*w*w] places each kernel tap at its phase and window position.
at::Tensor phase_weight(const at::Tensor &W, const at::Tensor &M, int64_t s, int64_t w) {
  const int64_t cin = W.size(0), cout = W.size(1), k = W.size(2);
  return W.permute({1, 0, 2, 3})
      .reshape({cout * cin, k * k})
      .matmul(M)
      .reshape({cout, cin, s, s, w, w})
      .permute({0, 2, 3, 1, 4, 5})
      .reshape({cout * s * s, cin, w, w});
}

// phase_bias repeats each output channel's bias for its s*s phases.
c10::optional<at::Tensor> phase_bias(void *b, int64_t s) {
  if (b == nullptr) return c10::nullopt;
  return T(b).repeat_interleave(s * s);
}

// subpixel_tight computes conv_transpose2d(x, W, b, stride s, padding p)
// when each output phase reads fewer input offsets than all phases
// together (kernel 4, stride 2, padding 1: two of three per axis): one
// convolution with a Kp x Kp window per phase, each phase's window at its
// own offset, instead of the K x K window that covers every phase and
// multiplies zeros (2.25x the FLOPs at 4/2/1). The phases' outputs are
// read from the convolution's output through one strided view, so the
// offsets must grow linearly with the phase; returns false (and leaves
// *out alone) when they do not or when the windows are already tight.
bool subpixel_tight(const at::Tensor &x, const at::Tensor &W, void *b, int64_t s, int64_t p, int64_t omin,
                    int64_t omax, at::Tensor *out) {
  auto floor_div = [](int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); };
  const int64_t cin = W.size(0), cout = W.size(1), k = W.size(2), K = omax - omin + 1;
  std::vector<int64_t> dhi(s), off(s);
  int64_t Kp = 0;
  for (int64_t a = 0; a < s; a++) {
    int64_t dlo = -floor_div(a + p, s);
    dhi[a] = floor_div(k - 1 - a - p, s);
    Kp = std::max(Kp, dhi[a] - dlo + 1);
    off[a] = -dhi[a] - omin;  // where phase a's window starts in the padded input
  }
  const int64_t step = s > 1 ? off[1] - off[0] : 0;
  for (int64_t a = 0; a < s; a++) {
    if (off[a] != off[0] + a * step) return false;
  }
  if (Kp >= K || x.dim() != 4) return false;
  // Tap (ty, tx) of phase (a, c) reads input offset (ty - dhi[a], tx - dhi[c])
  // through kernel tap ky = a + p - s * (ty - dhi[a]).
  at::Tensor M = at::zeros({k * k, s * s * Kp * Kp}, W.options().requires_grad(false));
  auto m = M.accessor<float, 2>();
  for (int64_t a = 0; a < s; a++)
    for (int64_t c = 0; c < s; c++)
      for (int64_t ty = 0; ty < Kp; ty++)
        for (int64_t tx = 0; tx < Kp; tx++) {
          int64_t ky = a + p - s * (ty - dhi[a]), kx = c + p - s * (tx - dhi[c]);
          if (ky < 0 || ky >= k || kx < 0 || kx >= k) continue;
          m[ky * k + kx][((a * s + c) * Kp + ty) * Kp + tx] = 1;
        }
  at::Tensor y = at::conv2d(at::constant_pad_nd(x, {-omin, omax, -omin, omax}), phase_weight(W, M, s, Kp),
                            phase_bias(b, s));
  // y [N, cout*s*s, H + K - Kp, W + K - Kp]; phase (a, c) of output pixel
  // (i, j) is y[n, (co*s + a)*s + c, i + off[a], j + off[c]].
  const int64_t N = x.size(0), H = x.size(2), Wd = x.size(3);
  auto st = y.strides();
  at::Tensor phases = y.as_strided({N, cout, s, s, H, Wd},
                                   {st[0], s * s * st[1], s * st[1] + step * st[2], st[1] + step * st[3], st[2], st[3]},
                                   y.storage_offset() + off[0] * (st[2] + st[3]));
  at::Tensor o = phases.permute({0, 1, 4, 2, 5, 3}).reshape({N, cout, H * s, Wd * s});
  *out = x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous() ? o.contiguous(at::MemoryFormat::ChannelsLast) : o;
  return true;
}

}  // namespace

extern "C" {

// torch.optim.SGD, _single_tensor_sgd. buf must be a defined tensor of the
// parameter's shape; has_buf==0 means it holds no momentum yet. chunk as in
// torchlab_adam_step.
char *torchlab_sgd_step(void *param, void *buf, int has_buf, double lr, double momentum,
                        double dampening, double weight_decay, int nesterov, int64_t chunk) {
  try {
    at::NoGradGuard no_grad;
    at::Tensor &p = T(param);
    at::Tensor grad = p.grad();
    if (!grad.defined()) return nullptr;
    std::vector<at::Tensor> whole = {p, grad};
    if (momentum != 0) {
      if (buf == nullptr || !T(buf).defined()) throw std::invalid_argument("SGD with momentum needs a momentum buffer, got none");
      whole.push_back(T(buf));
    }
    by_chunks(whole, chunk, [&](const std::vector<at::Tensor> &t) {
      const at::Tensor &p = t[0];
      at::Tensor d_p = t[1];
      if (weight_decay != 0) d_p = d_p.add(p, weight_decay);
      if (momentum != 0) {
        const at::Tensor &b = t[2];
        if (!has_buf) {
          b.copy_(d_p);
        } else {
          b.mul_(momentum).add_(d_p, 1 - dampening);
        }
        d_p = nesterov ? d_p.add(b, momentum) : b;
      }
      p.add_(d_p, -lr);
    });
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// torch.optim.Adam, _single_tensor_adam without amsgrad; step counts from 1.
// With chunk > 0 the same ops run on slices of chunk elements (see by_chunks).
char *torchlab_adam_step(void *param, void *exp_avg, void *exp_avg_sq, int64_t step,
                         double lr, double beta1, double beta2, double eps, double weight_decay,
                         int64_t chunk) {
  try {
    at::NoGradGuard no_grad;
    at::Tensor &p = T(param);
    at::Tensor grad = p.grad();
    if (!grad.defined()) return nullptr;
    if (step < 1) throw std::invalid_argument("Adam step " + std::to_string(step) + ": steps count from 1 (bias correction divides by 1 - beta^step)");
    double bias_correction1 = 1 - std::pow(beta1, (double)step);
    double bias_correction2 = 1 - std::pow(beta2, (double)step);
    double step_size = lr / bias_correction1;
    double bias_correction2_sqrt = std::sqrt(bias_correction2);
    by_chunks({p, grad, T(exp_avg), T(exp_avg_sq)}, chunk, [&](const std::vector<at::Tensor> &t) {
      const at::Tensor &p = t[0], &exp_avg = t[2], &exp_avg_sq = t[3];
      at::Tensor grad = t[1];
      if (weight_decay != 0) grad = grad.add(p, weight_decay);
      exp_avg.mul_(beta1).add_(grad, 1 - beta1);
      exp_avg_sq.mul_(beta2).addcmul_(grad, grad.conj(), 1 - beta2);
      at::Tensor denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
      p.addcdiv_(exp_avg, denom, -step_size);
    });
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// conv_transpose2d(x, w, b, stride s, padding p) for a square kernel k with
// k - 2p == s (output side s*H: k4 s2 p1, k2 s2 p0, ...), computed as one
// ordinary convolution with s*s*Cout outputs followed by pixel_shuffle(s).
// Why: libtorch 1.13 runs transposed convolutions on the CPU in its slow
// im2col path (aten::slow_conv_transpose2d and its backward: more than half
// of the resnet VAE's step), while ordinary convolutions go to oneDNN. Each
// output phase (a, b) of the transposed convolution is an ordinary
// convolution of x with the taps k_idx = s*d + phase + p (d the input
// offset), so the phases' kernels, embedded in one K x K window, make one
// convolution whose channels pixel_shuffle interleaves. The weight stays
// the ConvTranspose2d weight [Cin, Cout, k, k]; it is rearranged every call
// by a product with a constant 0/1 matrix, so autograd carries gradients
// back to it. The result equals conv_transpose2d within float rounding
// (other summation order), not bit for bit.
char *torchlab_conv_transpose_subpixel(void *x, void *w, void *b, int64_t s, int64_t p, void **out) {
  try {
    const at::Tensor &W = T(w);
    if (W.dim() != 4) return strdup("conv_transpose_subpixel: weight must be [in, out, k, k]");
    const int64_t cin = W.size(0), cout = W.size(1), k = W.size(2);
    if (W.size(3) != k || k - 2 * p != s || s < 1 || p < 0) {
      return strdup("conv_transpose_subpixel: needs a square kernel with kernel - 2*padding == stride");
    }
    // Input offsets each phase reads: o = s*m + a takes x[m - d] through tap
    // s*d + a + p, for the d that keep the tap inside the kernel.
    auto floor_div = [](int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); };
    int64_t omin = 0, omax = 0;
    for (int64_t a = 0; a < s; a++) {
      int64_t dlo = -floor_div(a + p, s), dhi = floor_div(k - 1 - a - p, s);
      omin = std::min(omin, -dhi);
      omax = std::max(omax, -dlo);
    }
    const int64_t K = omax - omin + 1;
    if (at::Tensor y; subpixel_tight(T(x), W, b, s, p, omin, omax, &y)) {
      *out = new at::Tensor(y);
      return nullptr;
    }
    at::Tensor M = at::zeros({k * k, s * s * K * K}, W.options().requires_grad(false));
    auto m = M.accessor<float, 2>();
    for (int64_t a = 0; a < s; a++)
      for (int64_t c = 0; c < s; c++)
        for (int64_t ky = 0; ky < k; ky++)
          for (int64_t kx = 0; kx < k; kx++) {
            int64_t ry = ky - a - p, rx = kx - c - p;  // s*d for each axis
            if (ry % s != 0 || rx % s != 0) continue;
            int64_t qy = -ry / s - omin, qx = -rx / s - omin;
            m[ky * k + kx][((a * s + c) * K + qy) * K + qx] = 1;
          }
    at::Tensor W2 = phase_weight(W, M, s, K);
    c10::optional<at::Tensor> bias = phase_bias(b, s);
    at::Tensor in = T(x);
    int64_t pad = -omin;
    if (-omin != omax) {  // asymmetric window: pad explicitly
      in = at::constant_pad_nd(in, {-omin, omax, -omin, omax});
      pad = 0;
    }
    at::Tensor y = at::conv2d(in, W2, bias, {1, 1}, {pad, pad});
    *out = new at::Tensor(at::pixel_shuffle(y, s));
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// conv2d(x, w, b) for a 1x1 kernel w [Cout, Cin, 1, 1] with stride s and no
// padding. Why: libtorch 1.13's channels-last (oneDNN) 1x1 stride-2
// convolution writes outside its buffers in backward once the batch size
// changes between calls: the resnet VAE's 1x1 stride-2 skips crashed with
// "corrupted double-linked list" at the epoch's short last batch or the
// first evaluation, and scripts/reference/cl_pointwise_crash.py crashes
// stock PyTorch the same way. A 1x1 stride-s convolution reads only every
// s-th pixel, so when w is laid out channels-last it runs here as a
// stride-1 convolution of x[:, :, ::s, ::s], the same sums, which never
// crashed. Contiguous weights keep libtorch's own strided convolution
// (never seen to fail, and it is what the PyTorch reference runs).
char *torchlab_conv2d_pointwise_strided(void *x, void *w, void *b, int64_t s, void **out) {
  try {
    const at::Tensor &W = T(w);
    if (W.dim() != 4 || W.size(2) != 1 || W.size(3) != 1 || s < 1) {
      return strdup("conv2d_pointwise_strided: needs a [out, in, 1, 1] weight and a positive stride");
    }
    c10::optional<at::Tensor> bias;
    if (b != nullptr) bias = T(b);
    at::Tensor in = T(x);
    // Exactly the strides SetChannelsLast gives ([Cin, 1, Cin, Cin]); not
    // is_contiguous(ChannelsLast), which a contiguous 1x1 weight also is.
    const bool channels_last = W.strides() == c10::IntArrayRef(c10::get_channels_last_strides_2d(W.sizes()));
    if (channels_last && s > 1) {
      in = in.slice(2, 0, c10::nullopt, s).slice(3, 0, c10::nullopt, s);
      s = 1;
    }
    *out = new at::Tensor(at::conv2d(in, W, bias, {s, s}));
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

char *torchlab_leaky_relu(void *x, double slope, void **out) {
  try {
    *out = new at::Tensor(at::leaky_relu(T(x), slope));
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// Zeroes a parameter's gradient in place, as optimizer.zero_grad(set_to_none=False).
// Whether param has a gradient (1), none (0), or an error (-1).
int torchlab_has_grad(void *param) {
  try {
    return T(param).grad().defined() ? 1 : 0;
  } catch (...) {
    return -1;
  }
}

char *torchlab_zero_grad(void *param) {
  try {
    at::Tensor g = T(param).mutable_grad();
    if (g.defined()) {
      g.detach_();
      g.zero_();
    }
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// relaid copies x into the strides of format exactly. Not x.contiguous(format):
// that returns x itself whenever x also counts as contiguous in format, as a
// [64, 1, 3, 3] NCHW weight does for channels-last (a dimension of size 1 may
// have any stride), and oneDNN's convolution picks its layout from the
// strides (suggest_memory_format), so such a weight would keep the first
// convolution NCHW and the next one would convert its input back.
static at::Tensor relaid(const at::Tensor &x, at::MemoryFormat format) {
  at::NoGradGuard no_grad;
  return at::empty_like(x, x.options(), format).copy_(x);
}

// x [N, C, H, W] copied into the channels-last layout (NHWC in memory).
char *torchlab_channels_last(void *x, void **out) {
  try {
    *out = new at::Tensor(relaid(T(x), at::MemoryFormat::ChannelsLast));
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// Re-lays a 4-D parameter's data channels-last (on != 0) or contiguous in
// place. set_data keeps the same tensor object, so every handle to it (the
// variable store's, the optimiser's) sees the new layout; the values are
// copied exactly. Tensors of other ranks are left alone.
char *torchlab_set_channels_last(void *param, int on) {
  try {
    at::Tensor &p = T(param);
    if (p.dim() != 4) return nullptr;
    p.set_data(relaid(p, on ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// The default CPU generator's state as a uint8 tensor, as torch.get_rng_state().
char *torchlab_get_rng_state(void **out) {
  try {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = new at::Tensor(gen.get_state());
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

char *torchlab_set_rng_state(void *state) {
  try {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(state));
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}
}
