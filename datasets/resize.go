package datasets

// linearTap is one output coordinate of a bilinear resize: the two source
// indices along that axis and their weights.
type linearTap struct {
	i0, i1 int
	w0, w1 float32
}

// linearTaps computes the taps of one axis with PyTorch's align_corners=False
// rule. Everything is float32, as in PyTorch's CPU kernel for float tensors,
// so the indices and weights match it bit for bit.
func linearTaps(in, out int) []linearTap {
	scale := float32(in) / float32(out)
	taps := make([]linearTap, out)
	for d := range taps {
		// The explicit float32 conversion stops the compiler from fusing the
		// multiply and subtract, which would change the rounding.
		src := float32(scale*(float32(d)+0.5)) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := min(int(src), in-1)
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		l1 := min(src-float32(i0), 1)
		taps[d] = linearTap{i0: i0, i1: i1, w0: 1 - l1, w1: l1}
	}
	return taps
}

// bilinear holds precomputed taps so that resizing many images of the same
// size (70,000 for MNIST) does not recompute them per image.
type bilinear struct {
	h, w, outW int
	ys, xs     []linearTap
}

func newBilinear(h, w, outH, outW int) *bilinear {
	return &bilinear{h: h, w: w, outW: outW, ys: linearTaps(h, outH), xs: linearTaps(w, outW)}
}

// resize writes the resized src into dst (len outH*outW), using tmp (len
// h*outW) as scratch. PyTorch computes each output as
// wy0*(wx0*a + wx1*b) + wy1*(wx0*c + wx1*d); the bracketed row blends depend
// only on the source row and output column, so computing them once per
// source row gives the same bits with a third of the work. The explicit
// float32 conversions stop the compiler from fusing multiply-adds, which
// would round differently.
func (b *bilinear) resize(dst, src, tmp []float32) {
	for y := 0; y < b.h; y++ {
		row := src[y*b.w : (y+1)*b.w]
		out := tmp[y*b.outW : (y+1)*b.outW]
		for ox, tx := range b.xs {
			out[ox] = float32(row[tx.i0]*tx.w0) + float32(row[tx.i1]*tx.w1)
		}
	}
	for oy, ty := range b.ys {
		r0 := tmp[ty.i0*b.outW : (ty.i0+1)*b.outW]
		r1 := tmp[ty.i1*b.outW : (ty.i1+1)*b.outW]
		out := dst[oy*b.outW : (oy+1)*b.outW]
		for ox := range out {
			out[ox] = float32(r0[ox]*ty.w0) + float32(r1[ox]*ty.w1)
		}
	}
}

// ResizeBilinear resizes one h x w channel (row-major) to outH x outW like
// torch.nn.functional.interpolate(mode="bilinear", align_corners=False)
// without antialiasing; it returns nil if a size is not positive or
// len(src) != h*w.
func ResizeBilinear(src []float32, h, w, outH, outW int) []float32 {
	if h <= 0 || w <= 0 || outH <= 0 || outW <= 0 || len(src) != h*w {
		return nil
	}
	dst := make([]float32, outH*outW)
	newBilinear(h, w, outH, outW).resize(dst, src, make([]float32, h*outW))
	return dst
}

// areaTap is one output coordinate of an area resize: the first source index
// it overlaps and the weight of each overlapped source pixel.
type areaTap struct {
	start   int
	weights []float32
}

// areaTaps computes exact box-filter weights for one axis. Output pixel d
// covers the source interval [d*in/out, (d+1)*in/out); measuring everything
// in units of 1/out keeps the overlaps integers, so the weights are the exact
// fractions overlap/in and always sum to one. An integer factor k gives k
// equal weights 1/k; no separate fast path is needed because the taps are
// computed once per load, not per image.
func areaTaps(in, out int) []areaTap {
	taps := make([]areaTap, out)
	for d := range taps {
		lo, hi := d*in, (d+1)*in
		first, last := lo/out, (hi-1)/out
		ws := make([]float32, last-first+1)
		for j := first; j <= last; j++ {
			overlap := min(hi, (j+1)*out) - max(lo, j*out)
			ws[j-first] = float32(float64(overlap) / float64(in))
		}
		taps[d] = areaTap{start: first, weights: ws}
	}
	return taps
}

// area is a separable box filter with precomputed taps and a scratch buffer
// for the intermediate (h x outW) image; it is not safe for concurrent use.
type area struct {
	h, w, outW int
	ys, xs     []areaTap
	tmp        []float32
}

func newArea(h, w, outH, outW int) *area {
	return &area{
		h: h, w: w, outW: outW,
		ys:  areaTaps(h, outH),
		xs:  areaTaps(w, outW),
		tmp: make([]float32, h*outW),
	}
}

// resize writes the area-averaged src into dst (len outH*outW). The 2-D
// overlap of two boxes is the product of the 1-D overlaps, so filtering rows
// then columns is exact, and cheaper than a 2-D loop.
func (a *area) resize(dst, src []float32) {
	for y := 0; y < a.h; y++ {
		row := src[y*a.w : (y+1)*a.w]
		out := a.tmp[y*a.outW : (y+1)*a.outW]
		for ox, t := range a.xs {
			var s float32
			for k, wt := range t.weights {
				s += row[t.start+k] * wt
			}
			out[ox] = s
		}
	}
	for oy, t := range a.ys {
		out := dst[oy*a.outW : (oy+1)*a.outW]
		clear(out)
		for k, wt := range t.weights {
			row := a.tmp[(t.start+k)*a.outW : (t.start+k+1)*a.outW]
			for ox, v := range row {
				out[ox] += v * wt
			}
		}
	}
}

// ResizeArea resizes one h x w channel (row-major) to outH x outW by exact
// area averaging (each output pixel is the mean of the source area it
// covers, like PIL's BOX filter); it returns nil if a size is not positive
// or len(src) != h*w.
func ResizeArea(src []float32, h, w, outH, outW int) []float32 {
	if h <= 0 || w <= 0 || outH <= 0 || outW <= 0 || len(src) != h*w {
		return nil
	}
	dst := make([]float32, outH*outW)
	newArea(h, w, outH, outW).resize(dst, src)
	return dst
}
