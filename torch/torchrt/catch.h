// torchlab_current_error is the one way torchlab's extern "C" entries turn
// a C++ exception into the error string Go receives. An exception must not
// cross into Go (cgo cannot unwind it: the process aborts), so every entry
// ends with
//
//   } catch (...) { return torchlab_current_error(); }
//
// libtorch's c10::Error is given without the C++ backtrace it appends (the
// Go error already says where it came from). The caller frees the string.
#ifndef TORCHLAB_CATCH_H
#define TORCHLAB_CATCH_H

#include <c10/util/Exception.h>
#include <cstring>
#include <exception>

inline char *torchlab_current_error() {
  try {
    throw;
  } catch (const c10::Error &e) {
    return strdup(e.what_without_backtrace());
  } catch (const std::exception &e) {
    return strdup(e.what());
  } catch (...) {
    return strdup("unknown C++ exception");
  }
}

#endif
