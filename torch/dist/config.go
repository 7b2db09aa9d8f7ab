package dist

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config says where the group meets and who this process is in it.
type Config struct {
	Addr      string // MASTER_ADDR: the TCPStore's host (rank 0's, or the launcher's: AgentStore)
	Port      int    // MASTER_PORT
	Rank      int    // RANK: 0..World-1, unique in the group
	World     int    // WORLD_SIZE: ranks in the group
	LocalRank int    // LOCAL_RANK: the rank among this machine's processes
	// Interface is the network interface Gloo binds: GLOO_SOCKET_IFNAME, or
	// (FromEnv) the interface on MASTER_ADDR's network (InterfaceFor);
	// empty: Gloo's default, the address this machine's hostname resolves
	// to, else loopback.
	Interface string
	Timeout   time.Duration // rendezvous and each collective; 0: Timeout
	// AgentStore says that the launcher hosts the TCPStore and every rank,
	// rank 0 included, joins it as a client: torchrun's default static
	// rendezvous, which sets TORCHELASTIC_USE_AGENT_STORE=True.
	AgentStore bool
	// Attempt is TORCHELASTIC_RESTART_COUNT, which names the agent store's
	// keys of this attempt ("/worker/attempt_N"), as PyTorch's ranks do.
	Attempt int
}

// servesStore says whether this process hosts the TCPStore.
func (c *Config) servesStore() bool { return c.Rank == 0 && !c.AgentStore }

// storePrefix is the prefix of the group's keys in the TCPStore.
func (c *Config) storePrefix() string {
	if !c.AgentStore {
		return ""
	}
	return "/worker/attempt_" + strconv.Itoa(c.Attempt)
}

// Variables are the environment variables FromEnv requires, in torchrun's
// names. It also reads GLOO_SOCKET_IFNAME, TORCHELASTIC_USE_AGENT_STORE and
// TORCHELASTIC_RESTART_COUNT.
var Variables = []string{"MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"}

// FromEnv reads the group from the environment (getenv: os.Getenv when
// nil). ok is false when WORLD_SIZE is unset: a single process, no group.
// With WORLD_SIZE set, a missing or malformed variable is an error that
// names it.
func FromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("WORLD_SIZE") == "" {
		return Config{}, false, nil
	}
	ints := map[string]*int{"MASTER_PORT": &cfg.Port, "RANK": &cfg.Rank, "WORLD_SIZE": &cfg.World, "LOCAL_RANK": &cfg.LocalRank}
	for _, name := range Variables {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			if name == "LOCAL_RANK" {
				cfg.LocalRank = -1 // filled from RANK below
				continue
			}
			return Config{}, true, fmt.Errorf("distributed run (WORLD_SIZE=%s): %s is not set; set %s", getenv("WORLD_SIZE"), name, strings.Join(Variables[:4], ", "))
		}
		if name == "MASTER_ADDR" {
			cfg.Addr = v
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return Config{}, true, fmt.Errorf("distributed run: %s=%q is not an integer", name, v)
		}
		*ints[name] = n
	}
	if cfg.LocalRank < 0 {
		cfg.LocalRank = cfg.Rank
	}
	if cfg.Interface = getenv("GLOO_SOCKET_IFNAME"); cfg.Interface == "" {
		cfg.Interface = InterfaceFor(cfg.Addr)
	}
	// torch.distributed compares with str(True), so "true" or "1" do not count.
	cfg.AgentStore = getenv("TORCHELASTIC_USE_AGENT_STORE") == "True"
	if v := strings.TrimSpace(getenv("TORCHELASTIC_RESTART_COUNT")); cfg.AgentStore && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Config{}, true, fmt.Errorf("distributed run: TORCHELASTIC_RESTART_COUNT=%q is not a count", v)
		}
		cfg.Attempt = n
	}
	return cfg, true, cfg.check()
}

// check rejects a configuration no group can have.
func (c *Config) check() error {
	switch {
	case c.World < 1:
		return fmt.Errorf("distributed run: WORLD_SIZE=%d; it must be at least 1", c.World)
	case c.Rank < 0 || c.Rank >= c.World:
		return fmt.Errorf("distributed run: RANK=%d is outside 0..%d (WORLD_SIZE=%d)", c.Rank, c.World-1, c.World)
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("distributed run: MASTER_PORT=%d is not a TCP port (1..65535)", c.Port)
	case c.Addr == "":
		return fmt.Errorf("distributed run: MASTER_ADDR is empty")
	}
	if c.Timeout <= 0 {
		c.Timeout = Timeout
	}
	if c.servesStore() {
		// c10d's own message for a port in use is a bare errno; say it.
		ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(c.Port)))
		if err != nil {
			return fmt.Errorf("distributed run: rank 0 cannot serve the rendezvous on port %d (MASTER_PORT): %w", c.Port, err)
		}
		ln.Close()
	}
	return nil
}

// firstLines keeps the first n lines of a C++ exception's message (c10d
// appends a long stack trace).
func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// InterfaceFor names the up interface of this machine whose network holds
// host (an address or a name), the interface through which the store's
// host is reached directly; "" when there is none (a routed address).
// Gloo's own default binds the address the hostname resolves to, which on
// Debian is often 127.0.1.1 (/etc/hosts): the other machines then try to
// reach rank 0 at their own loopback.
func InterfaceFor(host string) string {
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		var err error
		if ips, err = net.LookupIP(host); err != nil {
			return ""
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			for _, ip := range ips {
				if n.Contains(ip) {
					return ifc.Name
				}
			}
		}
	}
	return ""
}
