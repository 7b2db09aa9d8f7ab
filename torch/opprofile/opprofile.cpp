// libtorch's legacy (thread-local) op profiler, reduced in C++ to one row
// per op name so that Go never sees the raw events.
#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../torchrt/catch.h"
#include "opprofile.h"

namespace prof = torch::autograd::profiler;

namespace {

struct Row {
  int64_t calls = 0;
  double total_us = 0;
  double self_us = 0;
  double flops = 0;
};

double numel(const std::vector<int64_t> &s) {
  double n = 1;
  for (auto d : s) n *= static_cast<double>(d);
  return n;
}

// flops counts the multiply-adds (as 2 FLOPs) of the ops that dominate a
// step, from their input shapes: matrix products and convolutions. A
// convolution's forward FLOPs come from its backward event, whose first
// input is the output gradient (the forward event does not record the
// output's size); the backward counts both the input and the weight
// gradient.
double flops(const std::string &name, const std::vector<std::vector<int64_t>> &shapes) {
  auto dims = [&](size_t i, size_t want) { return shapes.size() > i && shapes[i].size() == want; };
  if (name == "aten::mm" && dims(0, 2) && dims(1, 2)) return 2 * numel(shapes[0]) * shapes[1][1];
  if (name == "aten::addmm" && dims(1, 2) && dims(2, 2)) return 2 * numel(shapes[1]) * shapes[2][1];
  if (name == "aten::bmm" && dims(0, 3) && dims(1, 3)) return 2 * numel(shapes[0]) * shapes[1][2];
  if (name == "aten::convolution_backward" && shapes.size() > 2 && shapes[2].size() >= 3) {
    double per_out = numel(shapes[2]) / static_cast<double>(shapes[2][0]);  // Cin/groups * kh * kw
    return 2 * 2 * numel(shapes[0]) * per_out;
  }
  return 0;
}

}  // namespace

extern "C" {

char *torchlab_profile_start(void) {
  try {
    torch::profiler::impl::ProfilerConfig cfg(torch::profiler::impl::ProfilerState::CPU,
                                              /*report_input_shapes=*/true, /*profile_memory=*/false);
    prof::enableProfilerLegacy(cfg);
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

// Events on one thread are properly nested: a push's matching pop is the
// next pop at the same depth. The self time of an event is its time less
// its direct children's.
char *torchlab_profile_stop(char **out) {
  try {
    auto lists = prof::disableProfilerLegacy();
    std::map<std::string, Row> rows;  // by phase and op name
    for (auto &events : lists) {
      struct Open {
        const prof::LegacyEvent *ev;
        std::string phase;
        double children_us;
      };
      std::vector<Open> stack;
      for (auto &ev : events) {
        if (ev.kind() == prof::EventKind::PushRange) {
          std::string phase = stack.empty() ? "forward" : stack.back().phase;
          std::string name = ev.name();
          if (ev.scope() == static_cast<uint8_t>(at::RecordScope::USER_SCOPE)) {
            phase = name;
          } else if (name.rfind("autograd::engine::evaluate_function", 0) == 0 && phase == "forward") {
            phase = "backward";
          }
          stack.push_back({&ev, phase, 0});
        } else if (ev.kind() == prof::EventKind::PopRange) {
          if (stack.empty()) continue;
          Open o = stack.back();
          stack.pop_back();
          double us = o.ev->cpuElapsedUs(ev);
          std::string name = o.ev->name();
          Row &r = rows[o.phase + '\t' + name];
          r.calls++;
          r.total_us += us;
          r.self_us += us - o.children_us;
          r.flops += flops(name, o.ev->shapes());
          if (!stack.empty()) stack.back().children_us += us;
        }
      }
    }
    std::ostringstream s;
    s.precision(17);
    for (auto &kv : rows) {
      s << kv.first << '\t' << kv.second.calls << '\t' << kv.second.total_us << '\t' << kv.second.self_us << '\t'
        << kv.second.flops << '\n';
    }
    *out = strdup(s.str().c_str());
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

char *torchlab_profile_scope_begin(const char *name, void **scope) {
  try {
    auto rf = new at::RecordFunction(at::RecordScope::USER_SCOPE);
    if (rf->isActive()) rf->before(std::string(name));
    *scope = rf;
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}

char *torchlab_profile_scope_end(void *scope) {
  try {
    delete static_cast<at::RecordFunction *>(scope);  // the destructor ends the range
    return nullptr;
  } catch (...) {
    return torchlab_current_error();
  }
}
}
