package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"torchlab/internal/crashtest"
)

// TestTwoRanksTrainAsOneProcess: 2 ranks, each taking half of every batch of
// 16, end 20 steps with the weights of one process taking whole batches
// (the gradients are averaged over the ranks), with Adam and with SGD.
// Adam runs at lr 1e-3, not the fixture's 1e-2: it divides each gradient by
// its own running scale, so an entry whose gradient is ~0 moves by ~lr in a
// direction set by rounding, and the two runs' last-bit differences in such
// entries grow in proportion to lr (1.8e-5 relative at 1e-2).
func TestTwoRanksTrainAsOneProcess(t *testing.T) {
	_, common := fixture(t)
	for opt, lr := range map[string]string{"adam": "1e-3", "sgd": "1e-2"} {
		t.Run(opt, func(t *testing.T) {
			args := append([]string{"train", "--iterations", "20", "--eval-every", "10", "--val-fraction", "0", "--optimizer", opt}, common...)
			args = append(args, "--lr", lr)
			crashtest.Equivalent(t, args, 2, 1e-5)
		})
	}
}

// TestTorchrunContract: two ranks started as torchrun starts them, by the
// real torchrun and by scripts/reference/torchrun_agent.py (the launcher
// hosts the TCPStore and sets TORCHELASTIC_USE_AGENT_STORE=True, so rank 0
// must join as a client instead of serving MASTER_PORT, which is taken),
// train the model one process trains; --threads, not given, comes from the
// OMP_NUM_THREADS=1 both launchers set.
func TestTorchrunContract(t *testing.T) {
	_, common := fixture(t)
	var args []string
	for i := 0; i < len(common); i++ {
		if common[i] == "--threads" {
			i++ // the ranks' thread count must come from OMP_NUM_THREADS
			continue
		}
		args = append(args, common[i])
	}
	args = append([]string{"train", "--iterations", "10", "--eval-every", "10", "--val-fraction", "0", "--optimizer", "sgd"}, args...)
	for name, launch := range map[string]func(*testing.T, []string, int) string{
		"torchrun": crashtest.RunRanksUnderTorchrun, "agent": crashtest.RunRanksUnderAgent,
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name)
			launch(t, append(slices.Clone(args), "--out", out), 2)
			var sum struct {
				Config struct {
					Threads int `json:"threads"`
				} `json:"config"`
			}
			raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Config.Threads != 1 {
				t.Errorf("rank 0 ran with --threads %d, want OMP_NUM_THREADS's 1", sum.Config.Threads)
			}
			crashtest.EquivalentVia(t, append(slices.Clone(args), "--threads", "1"), 2, 1e-5, launch)
		})
	}
}

// TestTwoMachinesTrainAsOneProcess: two ranks on two simulated machines
// (network namespaces joined by a veth pair, crashtest.RunRanksInNamespaces)
// train the model one process trains. Skipped, saying so, unless root.
func TestTwoMachinesTrainAsOneProcess(t *testing.T) {
	_, common := fixture(t)
	args := append([]string{"train", "--iterations", "10", "--eval-every", "10", "--val-fraction", "0", "--optimizer", "sgd"}, common...)
	crashtest.EquivalentVia(t, args, 2, 1e-5, crashtest.RunRanksInNamespaces)
}
