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
*/
import "C"

// SetBLASThreads sets OpenBLAS's own thread count, which libtorch's
// set_num_threads does not touch. It reports whether OpenBLAS was found.
//
// Small matrix products suffer most: for the character LSTM ([32, 128] x
// [128, 512] per step) a training step took 350 ms with OpenBLAS's default
// of one thread per core and 108 ms with one, on 2 shared cores.
func SetBLASThreads(n int) bool { return C.set_blas_threads(C.int(n)) == 1 }
