package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RunRanksInNamespaces runs args (including --out) as two ranks on two
// simulated machines: two network namespaces joined by a veth pair, rank 0
// in the first, rank 1 in the second, MASTER_ADDR the first one's veth
// address (no loopback between them) and no GLOO_SOCKET_IFNAME, so the
// ranks must find the interface themselves. It catches what one machine's
// loopback hides: Gloo binding the address the hostname resolves to
// (127.0.1.1 on Debian) and a store that listens on localhost only.
// Traffic stays inside the namespaces, which are removed afterwards.
// Making namespaces needs root (CI runs as root) and iproute2's ip;
// without them the test is skipped, saying so.
func RunRanksInNamespaces(t *testing.T, args []string, world int) string {
	t.Helper()
	if world != 2 {
		t.Fatalf("two namespaces take two ranks, not %d", world)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipped: making network namespaces needs root (CI runs as root)")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skipf("skipped: no ip command (iproute2) to make network namespaces: %v", err)
	}
	id := os.Getpid() % 100000
	ns := [2]string{fmt.Sprintf("torchlab%da", id), fmt.Sprintf("torchlab%db", id)}
	veth := [2]string{fmt.Sprintf("tl%da", id), fmt.Sprintf("tl%db", id)}
	addr := [2]string{fmt.Sprintf("10.213.%d.1", id%250), fmt.Sprintf("10.213.%d.2", id%250)}
	run := func(args ...string) error {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	for _, n := range ns {
		if err := run("netns", "add", n); err != nil {
			t.Skipf("skipped: cannot make a network namespace here: %v", err)
		}
		t.Cleanup(func() { _ = run("netns", "del", n) }) // removes its end of the veth pair too
	}
	steps := [][]string{{"link", "add", veth[0], "type", "veth", "peer", "name", veth[1]}}
	for i := range ns {
		steps = append(steps,
			[]string{"link", "set", veth[i], "netns", ns[i]},
			[]string{"-n", ns[i], "addr", "add", addr[i] + "/24", "dev", veth[i]},
			[]string{"-n", ns[i], "link", "set", veth[i], "up"},
			[]string{"-n", ns[i], "link", "set", "lo", "up"})
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GLOO_SOCKET_IFNAME=") && !strings.HasPrefix(kv, "TORCHELASTIC_") {
			env = append(env, kv)
		}
	}
	outs := make([]bytes.Buffer, world)
	errs := make([]error, world)
	var wg sync.WaitGroup
	for r := range world {
		cmd := exec.CommandContext(ctx, ip, append([]string{"netns", "exec", ns[r], os.Args[0]}, args...)...)
		cmd.Env = append(slices.Clone(env), envVar+"=1", "MASTER_ADDR="+addr[0], "MASTER_PORT=29500",
			"RANK="+strconv.Itoa(r), "LOCAL_RANK=0", "WORLD_SIZE="+strconv.Itoa(world))
		cmd.Stdout, cmd.Stderr = &outs[r], &outs[r]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = cmd.Run()
		}()
	}
	wg.Wait()
	var all strings.Builder
	for r := range world {
		fmt.Fprintf(&all, "[rank %d in %s, %s]\n%s", r, ns[r], addr[r], outs[r].String())
	}
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d in namespace %s: %v\n%s", r, ns[r], err, all.String())
		}
	}
	return all.String()
}
