package layers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/torchrt"
)

// pointwiseChildEnv makes the test binary run pointwiseCrashLoop instead of
// the tests (see TestMain).
const pointwiseChildEnv = "TORCHLAB_POINTWISE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(pointwiseChildEnv) == "1" {
		if err := pointwiseCrashLoop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ok")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pointwiseCrashLoop trains the resnet VAE's first skip (a 1x1 stride-2
// convolution from 3 channels) channels-last on batches of 64 and 53
// images in turn, the pattern that makes libtorch 1.13's own strided 1x1
// convolution corrupt the heap in backward
// (scripts/reference/cl_pointwise_crash.py).
func pointwiseCrashLoop() error {
	torchrt.Lock()
	torchrt.SetThreads(2)
	vs := nn.NewVarStore(gotch.CPU)
	l, err := NewConv2d(vs.Root().Sub("skip"), 3, 32, 1, ConvConfig{Stride: 2, NoBias: true})
	if err != nil {
		return err
	}
	if err := fused.SetChannelsLast(l.Weight, true); err != nil {
		return err
	}
	for i := range 20 {
		x := ts.MustRand([]int64{[]int64{64, 53}[i%2], 3, 64, 64}, gotch.Float, gotch.CPU)
		xcl, err := fused.ChannelsLast(x)
		x.MustDrop()
		if err != nil {
			return err
		}
		y, err := l.Forward(xcl)
		xcl.MustDrop()
		if err != nil {
			return err
		}
		loss := y.MustSquare(true).MustSum(gotch.Float, true)
		err = loss.Backward()
		loss.MustDrop()
		if err != nil {
			return fmt.Errorf("step %d: backward: %w", i, err)
		}
	}
	return nil
}

// TestPointwiseStridedConvSurvivesBatchChanges runs pointwiseCrashLoop in
// a child process under glibc's checking allocator, which turns the heap
// writes of libtorch's channels-last strided 1x1 convolution into an abort
// at once (2 of 2 runs of the PyTorch reproducer, 0 of 4 with the slicing
// this package does). The child must finish cleanly.
func TestPointwiseStridedConvSurvivesBatchChanges(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pointwiseChildEnv+"=1")
	if lib := mallocDebugLibrary(); lib != "" {
		cmd.Env = append(cmd.Env, "LD_PRELOAD="+lib, "MALLOC_CHECK_=3")
	} else {
		t.Log("libc_malloc_debug.so.0 not found: running with the default allocator, which catches the corruption less often")
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("channels-last 1x1 stride-2 training loop: %v\n%s", err, out)
	}
}

// mallocDebugLibrary is glibc's checking allocator (Debian's libc6 ships
// it since glibc 2.34), or "" when this machine has none.
func mallocDebugLibrary() string {
	for _, pattern := range []string{"/usr/lib/*/libc_malloc_debug.so.0", "/lib/*/libc_malloc_debug.so.0"} {
		if found, _ := filepath.Glob(pattern); len(found) > 0 {
			return found[0]
		}
	}
	return ""
}

// TestPointwiseStridedConvMatchesLibtorch checks the channels-last form of
// a 1x1 strided convolution (every s-th pixel, stride 1) against
// libtorch's strided convolution on contiguous weights: output and the
// gradients of x, weight and bias, odd sides included.
func TestPointwiseStridedConvMatchesLibtorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(6)
	for _, s := range []int64{2, 3} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("s%d-bias%v", s, bias), func(t *testing.T) {
				vs := nn.NewVarStore(gotch.CPU)
				l, err := NewConv2d(vs.Root().Sub("c"), 5, 4, 1, ConvConfig{Stride: s, NoBias: !bias})
				if err != nil {
					t.Fatal(err)
				}
				x := ts.MustRandn([]int64{2, 5, 7, 8}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, false)
				params := []*ts.Tensor{x, l.Weight}
				if bias {
					params = append(params, l.Bias)
				}
				slow, err := l.Forward(x) // contiguous weight: libtorch's strided conv2d
				if err != nil {
					t.Fatal(err)
				}
				g := ts.MustRandn(slow.MustSize(), gotch.Float, gotch.CPU)
				gs := gradsOf(t, slow, g, params)
				if err := fused.SetChannelsLast(l.Weight, true); err != nil {
					t.Fatal(err)
				}
				fast, err := l.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				if fs, ss := fast.MustSize(), slow.MustSize(); fmt.Sprint(fs) != fmt.Sprint(ss) {
					t.Fatalf("shape %v, strided conv2d's %v", fs, ss)
				}
				assertNear(t, "output", fast, slow)
				gf := gradsOf(t, fast, g, params)
				for i, name := range []string{"grad x", "grad weight", "grad bias"}[:len(gf)] {
					assertNear(t, name, gf[i], gs[i])
				}
			})
		}
	}
}
