// A one-layer LSTM over one-hot codes, forward and backward each in one call,
// plugged into libtorch's autograd as a torch::autograd::Function.
//
// libtorch 1.13's CPU LSTM runs ~20 ATen ops per time step forward and more
// backward; at batch 32 and hidden 128 the per-op overhead, not arithmetic,
// dominates. Here a time step is one matrix product and one fused loop.
//
// Layout. The batch is sorted by decreasing length, so the sequences still
// running at step t are rows [0, n_t) of the sorted batch, and every per-step
// buffer is "packed" like PyTorch's PackedSequence: step t occupies rows
// [off_t, off_t + n_t) of an [N, .] matrix, N = sum of lengths. No work is
// spent on padding, and a sequence's h and c are frozen after its end.
//
// Threads. Sequences are independent, so with more than one intra-op thread
// the sorted batch is cut into contiguous chunks of about equal total length
// and each thread runs its chunk's whole recurrence (its own rows of every
// packed step are contiguous too): no synchronisation per time step.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <vector>

#include <atomic>

#include "lstmfused.h"
#include "../torchrt/catch.h"

// oneDNN's row-major sgemm (libdnnl.so.2, which libtorch links; Debian ships
// no header for it). Measured here on the LSTM's shapes, one thread: 2-3x
// the OpenBLAS sgemm libtorch's matmul uses (e.g. [32,128]x[128,512] in
// 29 us against 56 us), thanks to its JIT kernels. Inside a parallel region
// it runs on the calling thread only.
extern "C" int dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                          float *C, int64_t ldc);

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Row-major C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
          int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  int status = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta,
                          c, ldc);
  TORCH_CHECK(status == 0, "lstmfused: dnnl_sgemm failed with status ", status);
}

// exp, sigmoid and tanh written without calls or branches so that the loops
// below vectorise (Cephes' expf polynomial, ~2 ulp; tanh has an absolute
// error of ~1e-7 near 0, which is the rounding of its inputs anyway).
// Without trapping math, GCC may turn the clamps' compares into selects,
// which the vectoriser needs (cgo does not accept -fno-trapping-math as a flag).
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#define LSTMF_INLINE static inline __attribute__((always_inline))

LSTMF_INLINE float fexp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float n = (x * 1.44269504088896341f + magic) - magic;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
LSTMF_INLINE float fsigmoid(float x) { return 1.0f / (1.0f + fexp(-x)); }
LSTMF_INLINE float ftanh(float x) { return 1.0f - 2.0f / (1.0f + fexp(2.0f * x)); }

// One sequence's step forward. g holds the recurrent product h_{t-1} W_hh^T
// on entry and the gate activations (i, f, g, o) on return; xb is the row of
// W_ih^T for this step's code plus both biases.
LSTMF_INLINE void fwd_row(int64_t H, float *__restrict g, const float *__restrict xb,
                          const float *__restrict cprev, float *__restrict c,
                          float *__restrict tc, float *__restrict h) {
  for (int64_t j = 0; j < H; j++) {
    float i = fsigmoid(g[j] + xb[j]);
    float f = fsigmoid(g[H + j] + xb[H + j]);
    float gg = ftanh(g[2 * H + j] + xb[2 * H + j]);
    float o = fsigmoid(g[3 * H + j] + xb[3 * H + j]);
    float cc = f * cprev[j] + i * gg;
    float t = ftanh(cc);
    g[j] = i;
    g[H + j] = f;
    g[2 * H + j] = gg;
    g[3 * H + j] = o;
    c[j] = cc;
    tc[j] = t;
    h[j] = o * t;
  }
}

// One sequence's step backward: from dh (d loss / d h_t) and dc (d loss /
// d c_t through c_{t+1}) to the pre-activation gate gradients dg, and dc
// becomes d loss / d c_{t-1}.
LSTMF_INLINE void bwd_row(int64_t H, const float *__restrict g, const float *__restrict tc,
                          const float *__restrict cprev, const float *__restrict dh,
                          float *__restrict dc, float *__restrict dg) {
  for (int64_t j = 0; j < H; j++) {
    float i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
    float t = tc[j];
    float dcj = dc[j] + dh[j] * o * (1.0f - t * t);
    dg[j] = dcj * gg * i * (1.0f - i);
    dg[H + j] = dcj * cprev[j] * f * (1.0f - f);
    dg[2 * H + j] = dcj * i * (1.0f - gg * gg);
    dg[3 * H + j] = dh[j] * t * o * (1.0f - o);
    dc[j] = dcj * f;
  }
}

// What one step's rows need; row pointers are computed per row.
struct FwdStep {
  int64_t H;
  float *g;            // [n, 4H] gates of this step
  const float *xb;     // [V, 4H] W_ih^T + biases
  const int64_t *code; // [n] this step's codes
  const float *cprev;  // [n, H] c_{t-1}, or zeros (row stride cprev_stride)
  int64_t cprev_stride;
  float *c, *tc;       // [n, H]
  float *hnext;        // [n_next, H] h_t of the rows that go on
  int64_t n_next;
  float *hout;         // [B, H] final h, original order
  const int64_t *perm; // sorted row -> original row
};

#define FWD_ROWS_BODY                                                                      \
  for (int64_t b = b0; b < b1; b++) {                                                     \
    const int64_t H = s.H;                                                                \
    float *h = b < s.n_next ? s.hnext + b * H : s.hout + s.perm[b] * H;                   \
    fwd_row(H, s.g + b * 4 * H, s.xb + s.code[b] * 4 * H, s.cprev + b * s.cprev_stride,  \
            s.c + b * H, s.tc + b * H, h);                                                \
  }

__attribute__((target("avx2,fma"))) void fwd_rows_avx2(const FwdStep &s, int64_t b0, int64_t b1) {
  FWD_ROWS_BODY
}
void fwd_rows_base(const FwdStep &s, int64_t b0, int64_t b1) { FWD_ROWS_BODY }

struct BwdStep {
  int64_t H;
  const float *g, *tc;  // [n, 4H], [n, H]
  const float *cprev;   // [n, H] or zeros
  int64_t cprev_stride;
  const float *dh;      // [n, H]
  float *dc;            // [n, H]
  float *dg;            // [n, 4H]
};

#define BWD_ROWS_BODY                                                                     \
  for (int64_t b = b0; b < b1; b++) {                                                    \
    const int64_t H = s.H;                                                               \
    bwd_row(H, s.g + b * 4 * H, s.tc + b * H, s.cprev + b * s.cprev_stride, s.dh + b * H, \
            s.dc + b * H, s.dg + b * 4 * H);                                             \
  }

__attribute__((target("avx2,fma"))) void bwd_rows_avx2(const BwdStep &s, int64_t b0, int64_t b1) {
  BWD_ROWS_BODY
}
void bwd_rows_base(const BwdStep &s, int64_t b0, int64_t b1) { BWD_ROWS_BODY }

#pragma GCC pop_options

// Set by torchlab_lstm_force_scalar: the scalar rows even on an AVX2 CPU,
// so that a test runs the path an older CPU takes.
std::atomic<bool> force_scalar{false};

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes && !force_scalar.load();
}

// The batch sorted by decreasing length: perm[sorted row] = original row,
// n[t] sequences alive at step t, off[t] their first packed row.
struct Plan {
  std::vector<int64_t> perm, n, off;
  int64_t steps = 0, rows = 0;
};

Plan plan_of(const at::Tensor &lengths, int64_t T) {
  const int64_t B = lengths.size(0);
  const int64_t *len = lengths.data_ptr<int64_t>();
  Plan p;
  p.perm.resize(B);
  std::iota(p.perm.begin(), p.perm.end(), 0);
  std::stable_sort(p.perm.begin(), p.perm.end(),
                   [len](int64_t a, int64_t b) { return len[a] > len[b]; });
  for (int64_t b = 0; b < B; b++) {
    TORCH_CHECK(len[b] >= 1 && len[b] <= T, "lstmfused: sequence ", b, " has length ", len[b],
                ", want 1..", T);
  }
  p.steps = len[p.perm[0]];
  p.n.assign(p.steps + 1, 0);
  p.off.assign(p.steps + 1, 0);
  for (int64_t t = 0; t < p.steps; t++) {
    int64_t k = 0;
    while (k < B && len[p.perm[k]] > t) k++;
    p.n[t] = k;
    p.off[t + 1] = p.off[t] + k;
  }
  p.rows = p.off[p.steps];
  return p;
}

// Float workspaces reused across calls. A fresh multi-megabyte buffer per
// call comes from mmap and is paid for again in page faults on every first
// touch (measured: the backward's gate loop took 15 ms instead of 0.7 ms on
// a fresh buffer). A buffer is free again when nothing but the pool refers
// to its storage, i.e. when the autograd graph that saved it has gone.
class Workspaces {
 public:
  at::Tensor get(int64_t numel) {
    std::lock_guard<std::mutex> lock(mu_);
    at::Tensor *best = nullptr, *smallest_free = nullptr;
    for (at::Tensor &b : bufs_) {
      if (b.storage().use_count() != 1) continue;
      if (b.numel() >= numel && (!best || b.numel() < best->numel())) best = &b;
      if (!smallest_free || b.numel() < smallest_free->numel()) smallest_free = &b;
    }
    if (best) return best->narrow(0, 0, numel);
    // A little headroom, so that a slightly longer batch reuses the buffer.
    at::Tensor fresh = at::empty({numel + numel / 4}, at::TensorOptions().dtype(at::kFloat));
    if (smallest_free) {
      *smallest_free = fresh;
    } else if (bufs_.size() < kMax) {
      bufs_.push_back(fresh);
    }
    return fresh.narrow(0, 0, numel);
  }

 private:
  static constexpr size_t kMax = 8;  // graphs alive at once that get a pooled buffer
  std::mutex mu_;
  std::vector<at::Tensor> bufs_;
};

Workspaces &workspaces() {
  static Workspaces *w = new Workspaces();  // never destroyed: no exit-order surprises
  return *w;
}

// Consecutive [rows, cols] matrices carved out of one workspace.
struct Carver {
  at::Tensor ws;
  int64_t at = 0;
  at::Tensor next(int64_t rows, int64_t cols) {
    at::Tensor m = ws.narrow(0, at, rows * cols).view({rows, cols});
    at += rows * cols;
    return m;
  }
};

at::Tensor i64(const std::vector<int64_t> &v) {
  return at::tensor(v, at::TensorOptions().dtype(at::kLong));
}

// Chunk boundaries in the sorted batch: [bounds[k], bounds[k+1]) for each
// thread, of about equal total length, at least kMinRows rows each.
std::vector<int64_t> chunks_of(const Plan &p, const int64_t *len, int64_t threads) {
  constexpr int64_t kMinRows = 4;
  const int64_t B = (int64_t)p.perm.size();
  const int64_t k = std::max<int64_t>(1, std::min(threads, B / kMinRows));
  std::vector<int64_t> bounds{0};
  int64_t done = 0;
  for (int64_t b = 0; b < B && (int64_t)bounds.size() < k; b++) {
    done += len[p.perm[b]];
    if (done * k >= p.rows * (int64_t)bounds.size() && b + 1 < B) bounds.push_back(b + 1);
  }
  bounds.push_back(B);
  return bounds;
}

// Runs f(b0, b1) for each chunk, one chunk per thread.
template <typename F>
void for_chunks(const std::vector<int64_t> &bounds, const F &f) {
  const int64_t k = (int64_t)bounds.size() - 1;
  if (k == 1) {
    f(bounds[0], bounds[1]);
    return;
  }
  at::parallel_for(0, k, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) f(bounds[c], bounds[c + 1]);
  });
}

// What the recurrence reads and writes, shared by all chunks; each chunk
// touches only its own rows.
struct Recurrence {
  int64_t H, G, steps;
  const int64_t *n, *off, *perm, *codes;  // codes packed, [N]
  const int64_t *slot;                    // step t's first row in the buffers below
  const float *zeros;                     // [H]
  float *gates, *c, *tc, *hprev;          // [rows, 4H], [rows, H] x3
};

void forward_chunk(const Recurrence &r, const float *whhT, const float *xb, float *hout,
                   int64_t b0, int64_t b1) {
  const int64_t H = r.H, G = r.G;
  const bool avx2 = has_avx2();
  for (int64_t t = 0; t < r.steps; t++) {
    const int64_t e = std::min(r.n[t], b1), o = r.slot[t];
    if (e <= b0) break;  // sorted by length: no later step has rows here
    float *g = r.gates + o * G;
    if (t == 0) {
      std::memset(g + b0 * G, 0, sizeof(float) * (e - b0) * G);
    } else {  // the recurrent product h_{t-1} W_hh^T: [rows, H] x [H, 4H]
      gemm(false, false, e - b0, G, H, 1.0f, r.hprev + (o + b0) * H, H, whhT, G, 0.0f,
           g + b0 * G, G);
    }
    FwdStep s{H,
              g,
              xb,
              r.codes + r.off[t],
              t == 0 ? r.zeros : r.c + r.slot[t - 1] * H,
              t == 0 ? 0 : H,
              r.c + o * H,
              r.tc + o * H,
              r.hprev + r.slot[t + 1] * H,  // unused when t is the last step: n[t+1] == 0
              r.n[t + 1],
              hout,
              r.perm};
    if (avx2) {
      fwd_rows_avx2(s, b0, e);
    } else {
      fwd_rows_base(s, b0, e);
    }
  }
}

void backward_chunk(const Recurrence &r, const float *whh, const float *dout, float *dgates,
                    float *dh, float *dc, int64_t b0, int64_t b1) {
  const int64_t H = r.H, G = r.G;
  const bool avx2 = has_avx2();
  for (int64_t t = r.steps - 1; t >= 0; t--) {
    const int64_t e = std::min(r.n[t], b1), o = r.slot[t];
    if (e <= b0) continue;
    // Sequences whose last step is t: d loss / d h is the output's gradient.
    for (int64_t b = std::max(r.n[t + 1], b0); b < e; b++) {
      std::memcpy(dh + b * H, dout + r.perm[b] * H, sizeof(float) * H);
      std::memset(dc + b * H, 0, sizeof(float) * H);
    }
    BwdStep s{H,
              r.gates + o * G,
              r.tc + o * H,
              t == 0 ? r.zeros : r.c + r.slot[t - 1] * H,
              t == 0 ? 0 : H,
              dh,
              dc,
              dgates + o * G};
    if (avx2) {
      bwd_rows_avx2(s, b0, e);
    } else {
      bwd_rows_base(s, b0, e);
    }
    if (t > 0) {  // d h_{t-1} = dgates_t W_hh: [rows, 4H] x [4H, H]
      gemm(false, false, e - b0, H, G, 1.0f, dgates + (o + b0) * G, G, whh, H, 0.0f,
           dh + b0 * H, H);
    }
  }
}

// The forward pass. With ctx, every step's state is kept (packed) and saved
// for the backward pass; without, two steps' worth of rows are enough.
at::Tensor run_forward(AutogradContext *ctx, const at::Tensor &codes_in,
                       const at::Tensor &lengths_in, const at::Tensor &w_ih,
                       const at::Tensor &w_hh, const at::Tensor &b_ih, const at::Tensor &b_hh) {
  TORCH_CHECK(codes_in.dim() == 2 && codes_in.scalar_type() == at::kLong,
              "lstmfused: codes must be [batch, steps] int64, got ", codes_in.sizes(), " ",
              codes_in.scalar_type());
  const int64_t B = codes_in.size(0), T = codes_in.size(1);
  TORCH_CHECK(B >= 1 && T >= 1, "lstmfused: empty batch ", codes_in.sizes());
  TORCH_CHECK(codes_in.device().is_cpu() && lengths_in.device().is_cpu(),
              "lstmfused: codes and lengths must be on the CPU");
  TORCH_CHECK(lengths_in.dim() == 1 && lengths_in.size(0) == B &&
                  lengths_in.scalar_type() == at::kLong,
              "lstmfused: lengths must be [", B, "] int64, got ", lengths_in.sizes(), " ",
              lengths_in.scalar_type());
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * w_hh.size(1) && w_hh.size(1) >= 1,
              "lstmfused: w_hh must be [4H, H], got ", w_hh.sizes());
  const int64_t H = w_hh.size(1), G = 4 * H;
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == G, "lstmfused: w_ih must be [", G,
              ", vocab], got ", w_ih.sizes());
  const int64_t V = w_ih.size(1);
  TORCH_CHECK(b_ih.dim() == 1 && b_ih.size(0) == G && b_hh.dim() == 1 && b_hh.size(0) == G,
              "lstmfused: biases must be [", G, "], got ", b_ih.sizes(), " and ", b_hh.sizes());
  for (const at::Tensor *w : {&w_ih, &w_hh, &b_ih, &b_hh}) {
    TORCH_CHECK(w->scalar_type() == at::kFloat && w->device().is_cpu(),
                "lstmfused: weights must be float32 on the CPU, got ", w->scalar_type(), " on ",
                w->device());
  }
  const at::Tensor codes = codes_in.contiguous();
  const at::Tensor lengths = lengths_in.contiguous();
  const int64_t *cd = codes.data_ptr<int64_t>();
  for (int64_t k = 0; k < B * T; k++) {
    TORCH_CHECK(cd[k] >= 0 && cd[k] < V, "lstmfused: code ", cd[k], " at [", k / T, ", ",
                k % T, "] outside the vocabulary of ", V);
  }
  const Plan p = plan_of(lengths, T);
  const int64_t N = p.rows;

  at::Tensor pcodes = at::empty({N}, codes.options());          // packed codes
  int64_t *pc = pcodes.data_ptr<int64_t>();
  for (int64_t t = 0; t < p.steps; t++) {
    for (int64_t b = 0; b < p.n[t]; b++) pc[p.off[t] + b] = cd[p.perm[b] * T + t];
  }
  std::vector<int64_t> slot = p.off;
  if (!ctx) {
    for (int64_t t = 0; t <= p.steps; t++) slot[t] = (t % 2) * B;
  }
  const int64_t rows = ctx ? N : 2 * B;
  Carver ws{workspaces().get(rows * (G + 3 * H) + H + (H + V) * G)};
  at::Tensor gates = ws.next(rows, G);  // i, f, g, o
  at::Tensor cs = ws.next(rows, H);     // c_t
  at::Tensor tcs = ws.next(rows, H);    // tanh(c_t)
  at::Tensor hprev = ws.next(rows, H);  // h_{t-1}, zero at t = 0
  at::Tensor zeros = ws.next(1, H).zero_();
  hprev.narrow(0, 0, p.n[0]).zero_();
  // Once per call: W_hh^T, and W_ih^T with both biases folded in, so that
  // a step's input projection is a row of xb.
  at::Tensor whhT = ws.next(H, G).copy_(w_hh.t());                   // [H, 4H]
  at::Tensor xb = ws.next(V, G).copy_(w_ih.t()).add_(b_ih).add_(b_hh);  // [V, 4H]
  at::Tensor hout = at::empty({B, H}, w_hh.options());

  const Recurrence r{H, G, p.steps, p.n.data(), p.off.data(), p.perm.data(), pc, slot.data(),
                     zeros.data_ptr<float>(), gates.data_ptr<float>(), cs.data_ptr<float>(),
                     tcs.data_ptr<float>(), hprev.data_ptr<float>()};
  const float *whhTp = whhT.data_ptr<float>(), *xbp = xb.data_ptr<float>();
  float *houtp = hout.data_ptr<float>();
  for_chunks(chunks_of(p, lengths.data_ptr<int64_t>(), at::get_num_threads()),
             [&](int64_t b0, int64_t b1) { forward_chunk(r, whhTp, xbp, houtp, b0, b1); });

  if (ctx) {
    // All through save_for_backward, which autograd releases after the
    // backward pass (saved_data lives as long as the graph): the workspace
    // goes back to the pool one step earlier.
    ctx->save_for_backward({w_hh, pcodes, gates, cs, tcs, hprev, zeros, i64(p.perm),
                            i64(p.n), i64(p.off), lengths.clone()});
    ctx->saved_data["V"] = V;
  }
  return hout;
}

struct FusedLSTM : public torch::autograd::Function<FusedLSTM> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &codes,
                            const at::Tensor &lengths, const at::Tensor &w_ih,
                            const at::Tensor &w_hh, const at::Tensor &b_ih,
                            const at::Tensor &b_hh) {
    return run_forward(ctx, codes, lengths, w_ih, w_hh, b_ih, b_hh);
  }

  static variable_list backward(AutogradContext *ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor w_hh = saved[0].contiguous();  // [4H, H]
    const at::Tensor &pcodes = saved[1], &gates = saved[2], &cs = saved[3], &tcs = saved[4],
                     &hprev = saved[5], &zeros = saved[6], &permT = saved[7], &nT = saved[8],
                     &offT = saved[9], &lengths = saved[10];
    const int64_t H = w_hh.size(1), G = 4 * H;
    const int64_t V = ctx->saved_data["V"].toInt();
    Plan p;
    p.perm.assign(permT.data_ptr<int64_t>(), permT.data_ptr<int64_t>() + permT.numel());
    p.n.assign(nT.data_ptr<int64_t>(), nT.data_ptr<int64_t>() + nT.numel());
    p.off.assign(offT.data_ptr<int64_t>(), offT.data_ptr<int64_t>() + offT.numel());
    p.steps = nT.numel() - 1;
    p.rows = gates.size(0);
    const int64_t N = p.rows, B = (int64_t)p.perm.size();

    at::Tensor dout = grad_outputs[0];
    if (!dout.defined()) dout = at::zeros({B, H}, w_hh.options());
    dout = dout.to(at::kFloat).contiguous();

    Carver ws{workspaces().get(N * G + 2 * B * H + V * G)};
    at::Tensor dgates = ws.next(N, G);
    at::Tensor dh = ws.next(B, H);
    at::Tensor dc = ws.next(B, H);
    const Recurrence r{H, G, p.steps, p.n.data(), p.off.data(), p.perm.data(),
                       pcodes.data_ptr<int64_t>(), p.off.data(), zeros.data_ptr<float>(),
                       gates.data_ptr<float>(), cs.data_ptr<float>(), tcs.data_ptr<float>(),
                       hprev.data_ptr<float>()};
    const float *whh = w_hh.data_ptr<float>(), *dO = dout.data_ptr<float>();
    float *dg = dgates.data_ptr<float>(), *dhp = dh.data_ptr<float>(), *dcp = dc.data_ptr<float>();
    for_chunks(chunks_of(p, lengths.data_ptr<int64_t>(), at::get_num_threads()),
               [&](int64_t b0, int64_t b1) { backward_chunk(r, whh, dO, dg, dhp, dcp, b0, b1); });

    // d W_hh = sum_t dgates_t^T h_{t-1}: one [4H, N] x [N, H] product (the
    // rows of step 0, whose h_{-1} is zero, are skipped).
    at::Tensor dwhh = at::zeros({G, H}, w_hh.options());
    const int64_t from = p.off[std::min<int64_t>(1, p.steps)];
    if (N > from) {
      gemm(true, false, G, H, N - from, 1.0f, dg + from * G, G,
           hprev.data_ptr<float>() + from * H, H, 0.0f, dwhh.data_ptr<float>(), H);
    }

    // d W_ih^T: each packed row's gate gradients added into its code's row;
    // d bias: the column sums. Threads split the columns.
    at::Tensor dwihT = ws.next(V, G).zero_();
    at::Tensor db = at::zeros({G}, w_hh.options());
    float *dw = dwihT.data_ptr<float>(), *dbp = db.data_ptr<float>();
    const int64_t *pc = pcodes.data_ptr<int64_t>();
    at::parallel_for(0, G, 64, [&](int64_t j0, int64_t j1) {
      for (int64_t k = 0; k < N; k++) {
        float *__restrict row = dw + pc[k] * G;
        const float *__restrict src = dg + k * G;
        for (int64_t j = j0; j < j1; j++) row[j] += src[j];
      }
      for (int64_t v = 0; v < V; v++) {
        const float *__restrict src = dw + v * G;
        for (int64_t j = j0; j < j1; j++) dbp[j] += src[j];
      }
    });
    return {at::Tensor(), at::Tensor(), dwihT.t().contiguous(), dwhh, db, db.clone()};
  }
};

at::Tensor &T(void *p) { return *static_cast<at::Tensor *>(p); }

}  // namespace

extern "C" {

int torchlab_lstm_force_scalar(int on) {
  bool prev = force_scalar.exchange(on != 0);
  return prev ? 1 : 0;
}

// GFLOP/s of the best of reps [n,n]x[n,n] products through the same sgemm,
// at the current thread count: the matmul peak the benchmark reports against.
double torchlab_lstm_sgemm_gflops(int64_t n, int reps) {
  try {
    at::Tensor a = at::randn({n, n}), c = at::empty({n, n});
    const float *ap = a.data_ptr<float>();
    float *cp = c.data_ptr<float>();
    double best = 0;
    for (int i = 0; i < reps; i++) {
      auto start = std::chrono::steady_clock::now();
      gemm(false, false, n, n, n, 1.0f, ap, n, ap, n, 0.0f, cp, n);
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
      best = std::max(best, 2.0 * n * n * n / d.count() / 1e9);
    }
    return best;
  } catch (...) {
    return 0;
  }
}

char *torchlab_lstm_fused(void *codes, void *lengths, void *w_ih, void *w_hh, void *b_ih,
                          void *b_hh, void **out) {
  try {
    // Without a graph to record, nothing needs keeping for a backward pass.
    const bool record = at::GradMode::is_enabled() &&
                        (T(w_ih).requires_grad() || T(w_hh).requires_grad() ||
                         T(b_ih).requires_grad() || T(b_hh).requires_grad());
    at::Tensor h = record ? FusedLSTM::apply(T(codes), T(lengths), T(w_ih), T(w_hh), T(b_ih),
                                             T(b_hh))
                          : run_forward(nullptr, T(codes), T(lengths), T(w_ih), T(w_hh),
                                        T(b_ih), T(b_hh));
    *out = new at::Tensor(h);
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}
}
