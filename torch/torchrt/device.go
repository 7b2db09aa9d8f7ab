package torchrt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"
)

// ParseDevice turns a --device value ("cpu", "cuda", "cuda:N") into a gotch
// device. A CUDA device this libtorch cannot use (Debian's 1.13.1 is
// CPU-only) is an error here, at start-up, not a crash in the middle of a
// run.
func ParseDevice(s string) (gotch.Device, error) {
	name, index, hasIndex := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	switch name {
	case "cpu":
		if hasIndex {
			return gotch.CPU, fmt.Errorf("--device %q: cpu takes no index", s)
		}
		return gotch.CPU, nil
	case "cuda":
		n := 0
		if hasIndex {
			var err error
			if n, err = strconv.Atoi(index); err != nil || n < 0 {
				return gotch.CPU, fmt.Errorf("--device %q: want cuda:N with N a GPU index", s)
			}
		}
		if !gotch.CUDA.IsAvailable() {
			return gotch.CPU, fmt.Errorf("--device %q: this libtorch has no CUDA (Debian's libtorch 1.13.1 is CPU-only); use --device cpu", s)
		}
		if count := gotch.CUDA.DeviceCount(); int64(n) >= count {
			return gotch.CPU, fmt.Errorf("--device %q: this machine has %d CUDA device(s)", s, count)
		}
		return gotch.CudaBuilder(uint(n)), nil
	}
	return gotch.CPU, fmt.Errorf("--device %q: want cpu, cuda or cuda:N", s)
}
