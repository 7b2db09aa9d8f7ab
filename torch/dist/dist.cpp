// torch/dist's shim over libtorch's own c10d: a TCPStore for the rendezvous
// (rank 0 serves it, as torchrun's static rendezvous does) and a
// ProcessGroupGloo for the collectives. Tensors travel in flat buckets: one
// collective per bucket of up to bucket_bytes, as DDP's reducer does, not
// one per tensor.
#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dist.h"
#include "../torchrt/catch.h"

namespace {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout;
  int world;
};

at::Tensor &T(void *p) { return *static_cast<at::Tensor *>(p); }

// buckets splits tensors (all of one dtype) into runs of at most
// bucket_bytes (a tensor larger than that gets a bucket of its own).
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor> &ts, int64_t bucket_bytes) {
  std::vector<std::vector<at::Tensor>> out;
  int64_t bytes = 0;
  for (const auto &t : ts) {
    int64_t b = t.numel() * t.element_size();
    if (out.empty() || bytes + b > bucket_bytes || out.back().front().scalar_type() != t.scalar_type()) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += b;
  }
  return out;
}

// flat copies a bucket's tensors into one contiguous 1-D tensor.
at::Tensor flat(const std::vector<at::Tensor> &bucket) {
  std::vector<at::Tensor> views;
  views.reserve(bucket.size());
  for (const auto &t : bucket) views.push_back(t.reshape({-1}));
  return at::cat(views);
}

// unflat copies a flat tensor back into the bucket's tensors.
void unflat(const at::Tensor &f, const std::vector<at::Tensor> &bucket) {
  int64_t off = 0;
  for (auto t : bucket) {
    int64_t n = t.numel();
    t.copy_(f.narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}

void wait(const c10::intrusive_ptr<c10d::Work> &work, const Group &g, const char *what) {
  if (!work->wait(g.timeout)) {
    throw std::runtime_error(std::string(what) + " did not finish within the timeout");
  }
}

// allreduce sums (average: then divides by the world size) the tensors in
// place across the group, one collective per bucket, all in flight at once.
void allreduce(Group &g, const std::vector<at::Tensor> &ts, bool average, int64_t bucket_bytes) {
  at::NoGradGuard no_grad;
  auto bs = buckets(ts, bucket_bytes);
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (const auto &b : bs) {
    std::vector<at::Tensor> one{flat(b)};
    works.push_back(g.pg->allreduce(one));
    flats.push_back(one[0]);
  }
  for (size_t i = 0; i < bs.size(); i++) {
    wait(works[i], g, "all-reduce");
    if (average) flats[i].div_(g.world);
    unflat(flats[i], bs[i]);
  }
}

// storeBarrier is torch.distributed's _store_based_barrier: every rank adds
// one to key, then waits until the count reaches the world size.
void storeBarrier(c10d::Store &store, const std::string &key, int world, std::chrono::milliseconds timeout) {
  store.add(key, 1);
  auto start = std::chrono::steady_clock::now();
  while (store.add(key, 0) != world) {
    if (std::chrono::steady_clock::now() - start > timeout) {
      throw std::runtime_error("timed out waiting for every rank to join the process group (" + key + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

extern "C" {

char *torchlab_dist_join(const char *host, int port, int rank, int world, int64_t timeout_ms,
                         const char *iface, int serve, const char *prefix, void **group) {
  try {
    auto g = std::make_unique<Group>();
    g->timeout = std::chrono::milliseconds(timeout_ms);
    g->world = world;
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = serve != 0;
    opts.numWorkers = world;
    opts.waitWorkers = true;
    opts.timeout = g->timeout;
    c10::intrusive_ptr<c10d::Store> base = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
    // Under torchrun's agent store, init_process_group's env:// rendezvous
    // prefixes every key with "/worker/attempt_<restart count>".
    if (prefix != nullptr && prefix[0] != 0) {
      base = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), base);
    }
    // The keys' layout of torch.distributed.init_process_group (PyTorch
    // 1.13), so that Python ranks can join: the default group's store is
    // prefixed "default_pg", its ProcessGroupGloo's "default_pg/0".
    g->store = c10::make_intrusive<c10d::PrefixStore>("default_pg", base);
    auto pgStore = c10::make_intrusive<c10d::PrefixStore>("0", g->store);
    auto pgOpts = c10d::ProcessGroupGloo::Options::create(g->timeout);
    if (iface != nullptr && iface[0] != 0) {
      pgOpts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
    } else {
      pgOpts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    pgOpts->threads = 2;
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pgStore, rank, world, pgOpts);
    storeBarrier(*g->store, "store_based_barrier_key:1", world, g->timeout);
    g->pg->setSequenceNumberForGroup();
    *group = g.release();
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

void torchlab_dist_free(void *group) { delete static_cast<Group *>(group); }

char *torchlab_dist_allreduce(void *group, void **tensors, int n, int average, int64_t bucket_bytes) {
  try {
    std::vector<at::Tensor> ts;
    for (int i = 0; i < n; i++) ts.push_back(T(tensors[i]));
    allreduce(*static_cast<Group *>(group), ts, average != 0, bucket_bytes);
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// Averages the gradients of params across the group, as DDP does after
// backward. A parameter without a gradient (unused in this rank's forward)
// takes part with zeros, so every rank sends the same buckets.
char *torchlab_dist_allreduce_grads(void *group, void **params, int n, int64_t bucket_bytes) {
  try {
    std::vector<at::Tensor> grads;
    for (int i = 0; i < n; i++) {
      at::Tensor &p = T(params[i]);
      if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
      grads.push_back(p.grad());
    }
    allreduce(*static_cast<Group *>(group), grads, true, bucket_bytes);
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

char *torchlab_dist_broadcast(void *group, void **tensors, int n, int root, int64_t bucket_bytes) {
  try {
    Group &g = *static_cast<Group *>(group);
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> ts;
    for (int i = 0; i < n; i++) ts.push_back(T(tensors[i]));
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    for (const auto &b : buckets(ts, bucket_bytes)) {
      std::vector<at::Tensor> one{flat(b)};
      wait(g.pg->broadcast(one, opts), g, "broadcast");
      unflat(one[0], b);
    }
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

char *torchlab_dist_barrier(void *group) {
  try {
    Group &g = *static_cast<Group *>(group);
    wait(g.pg->barrier(), g, "barrier");
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// After a failed collective: every rank that is still running sets its own
// key in the store, then looks, for up to wait_ms, for the others'. On
// return answered[r] is 1 for each rank whose key it saw. The store lives
// in rank 0, so when rank 0 is gone this fails instead.
char *torchlab_dist_rollcall(void *group, int rank, int64_t wait_ms, int *answered) {
  try {
    Group &g = *static_cast<Group *>(group);
    auto key = [](int r) { return "torchlab_rollcall/" + std::to_string(r); };
    g.store->set(key(rank), std::vector<uint8_t>{1});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
      int missing = 0;
      for (int r = 0; r < g.world; r++) {
        if (!answered[r]) answered[r] = g.store->check({key(r)}) ? 1 : 0;
        missing += answered[r] ? 0 : 1;
      }
      if (missing == 0 || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

}  // extern "C"
