package main

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

// setBLASThreads sets OpenBLAS's own thread count, which libtorch's
// set_num_threads does not touch. It reports whether OpenBLAS was found.
//
// The LSTM's matrix products are small ([32, 128] x [128, 512] per step),
// and OpenBLAS's pthreads split even those: on 2 shared cores a training
// step took 350 ms with OpenBLAS's default of 2 threads and 108 ms with 1.
func setBLASThreads(n int) bool { return C.set_blas_threads(C.int(n)) == 1 }
