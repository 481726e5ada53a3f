package sim

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/upstream/descheduler"
)

// DeschedulerName is the descheduler's process and log name.
const DeschedulerName = "descheduler"

// StartDescheduler runs the descheduler (bin/testbin/descheduler) against
// the simulated API server with policy, the DeschedulerPolicy render puts
// in the descheduler chart's values, every interval (its
// --descheduling-interval), as the chart's Deployment does. The policy is
// written to DIR/descheduler-policy.yaml and the log to
// DIR/logs/descheduler.log. It returns once the descheduler's /healthz
// answers; Stop, or StopDescheduler, stops it. A running descheduler is
// refused: stop it first.
func (c *Cluster) StartDescheduler(ctx context.Context, policy descheduler.Policy, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("start %s: the interval must be positive, got %s", DeschedulerName, interval)
	}
	bin, err := binary(c.opts.BinDir, DeschedulerName)
	if err != nil {
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
	c.deschedMu.Lock()
	defer c.deschedMu.Unlock()
	if c.desched != nil && !c.desched.exited() {
		return fmt.Errorf("start %s: it is already running (pid %d)", DeschedulerName, c.desched.cmd.Process.Pid)
	}
	policy.APIVersion, policy.Kind = descheduler.PolicyAPIVersion, descheduler.PolicyKind
	data, err := yaml.Marshal(policy)
	if err != nil {
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
	policyFile := filepath.Join(c.opts.StateDir, DeschedulerName+"-policy.yaml")
	if err := os.WriteFile(policyFile, data, 0o644); err != nil {
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
	// The chart binds a ClusterRole of its own; the simulated cluster has
	// no chart, so the descheduler gets a client certificate of its own in
	// system:masters, as kwok does.
	kubeconfig, err := c.componentCredentials(DeschedulerName, "kubectl-stretch-"+DeschedulerName, mastersGroup)
	if err != nil {
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
	certFile, keyFile, err := c.servingCertificate(DeschedulerName)
	if err != nil {
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
	client, err := rest.HTTPClientFor(c.restConfig)
	if err != nil {
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		ports, err := freePorts(1)
		if err != nil {
			return fmt.Errorf("start %s: %w", DeschedulerName, err)
		}
		addr := net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[0]))
		args := []string{
			"--kubeconfig=" + kubeconfig,
			"--policy-config-file=" + policyFile,
			"--descheduling-interval=" + interval.String(),
			"--bind-address=" + loopbackIPv4,
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--tls-cert-file=" + certFile,
			"--tls-private-key-file=" + keyFile,
			// Each cycle's evictions and the pods it left alone, and why.
			"--v=4",
		}
		ready := func(ctx context.Context) error { return get(ctx, client, "https://"+addr+"/healthz", "ok") }
		p, err := c.launch(ctx, procSpec{name: DeschedulerName, bin: bin, args: args}, ready, start)
		if p != nil {
			c.desched = p
		}
		if err == nil {
			return nil
		}
		if p != nil && p.exited() && attempt < portAttempts && strings.Contains(p.tail(), "address already in use") {
			c.logf("%s: a port was taken, retrying with another port", DeschedulerName)
			c.forget(p)
			continue
		}
		return fmt.Errorf("start %s: %w", DeschedulerName, err)
	}
}

// StopDescheduler stops the descheduler StartDescheduler started; without
// one it does nothing.
func (c *Cluster) StopDescheduler() error {
	c.deschedMu.Lock()
	defer c.deschedMu.Unlock()
	p := c.desched
	if p == nil {
		return nil
	}
	c.desched = nil
	err := p.stop(c.opts.StopTimeout)
	c.forget(p)
	if err != nil {
		return fmt.Errorf("stop %s: %w", DeschedulerName, err)
	}
	return nil
}
