package torchcheck

// torch/version.h holds plain #defines, so C can read it.

// #cgo CFLAGS: -I/usr/include/torch/csrc/api/include
// #include <torch/version.h>
// static int torchlab_torch_major(void) { return TORCH_VERSION_MAJOR; }
// static int torchlab_torch_minor(void) { return TORCH_VERSION_MINOR; }
import "C"

import "fmt"

// LibtorchVersion is the major.minor version of the libtorch headers this
// package was compiled against, such as "1.13".
func LibtorchVersion() string {
	return fmt.Sprintf("%d.%d", int(C.torchlab_torch_major()), int(C.torchlab_torch_minor()))
}
