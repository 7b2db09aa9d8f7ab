package torchrt

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>

// set_blas_threads calls OpenBLAS's openblas_set_num_threads when the BLAS
// libtorch loaded is OpenBLAS; it returns 0 when it is not.
static int set_blas_threads(int n) {
	void (*f)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (f == NULL) return 0;
	f(n);
	return 1;
}

// blas_core_name is OpenBLAS's openblas_get_corename; NULL when the BLAS is
// not OpenBLAS.
static const char *blas_core_name(void) {
	char *(*f)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
	return f == NULL ? NULL : f();
}
*/
import "C"

// SetBLASThreads sets OpenBLAS's own thread count, which libtorch's
// set_num_threads does not touch. It reports whether OpenBLAS was found.
//
// Small matrix products suffer most from OpenBLAS's pool fighting
// libtorch's threads for the cores (docs/decisions.md, "OpenBLAS threads").
func SetBLASThreads(n int) bool { return C.set_blas_threads(C.int(n)) == 1 }

// BLASCore is the kernel set OpenBLAS chose for this CPU (its DYNAMIC_ARCH
// build picks one at load, or OPENBLAS_CORETYPE names it), and whether
// OpenBLAS was found.
func BLASCore() (string, bool) {
	name := C.blas_core_name()
	if name == nil {
		return "", false
	}
	return C.GoString(name), true
}
