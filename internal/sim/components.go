package sim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Settings of the simulated kubelets and of the node lifecycle controller.
const (
	// nodeMonitorPeriod is how often kube-controller-manager checks node
	// heartbeats (Kubernetes' default: 5s).
	nodeMonitorPeriod = 2 * time.Second
	// nodeEvictionRate is how many nodes per second the node lifecycle
	// controller taints NoExecute in a zone that lost its nodes
	// (Kubernetes' default 0.1 takes 10 s per node; a simulated region
	// loss should be over in seconds).
	nodeEvictionRate = "10"
	// fallbackPodSubnet gives the pod addresses when the topology's pod
	// subnet is unset or too small to split by region.
	fallbackPodSubnet = "10.244.0.0/16"
)

// componentCredentials writes a kubeconfig for user (client certificate
// signed by the cluster CA) to pki/<name>.kubeconfig and returns its path.
func (c *ControlPlane) componentCredentials(name, user string, groups ...string) (string, error) {
	kp, err := c.ca.client(user, groups...)
	if err != nil {
		return "", err
	}
	cfg := rest.CopyConfig(c.restConfig)
	cfg.CertData, cfg.KeyData = kp.certPEM, kp.keyPEM
	path := filepath.Join(c.pkiDir, name+".kubeconfig")
	if err := c.writeKubeconfig(path, user, cfg); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// servingCertificate writes a 127.0.0.1 serving certificate for the
// component to pki/<name>.crt and .key and returns their paths.
func (c *ControlPlane) servingCertificate(name string) (certFile, keyFile string, err error) {
	kp, err := c.ca.loopbackServing(name)
	if err != nil {
		return "", "", err
	}
	if err := writeFiles(c.pkiDir, file{name + ".crt", kp.certPEM}, file{name + ".key", kp.keyPEM}); err != nil {
		return "", "", fmt.Errorf("write %s serving certificate: %w", name, err)
	}
	return filepath.Join(c.pkiDir, name+".crt"), filepath.Join(c.pkiDir, name+".key"), nil
}

// startSecureComponent starts kube-controller-manager or kube-scheduler on
// a free loopback port with its own credentials and serving certificate,
// and waits until its /healthz answers ok.
func (c *ControlPlane) startSecureComponent(ctx context.Context, name, bin, user string, extra []string) error {
	kubeconfig, err := c.componentCredentials(name, user)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	certFile, keyFile, err := c.servingCertificate(name)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	client, err := rest.HTTPClientFor(c.restConfig)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return c.startWithFreePorts(ctx, name, bin, 1, func(ports []int) ([]string, func(context.Context) error, error) {
		addr := net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[0]))
		args := append([]string{
			"--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=" + loopbackIPv4,
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--tls-cert-file=" + certFile,
			"--tls-private-key-file=" + keyFile,
			// One instance: no need to wait for a leader lease.
			"--leader-elect=false",
			"--profiling=false",
		}, extra...)
		ready := func(ctx context.Context) error {
			return get(ctx, client, "https://"+addr+"/healthz", "ok")
		}
		return args, ready, nil
	})
}

// startControllerManager starts kube-controller-manager with every
// default controller, a short node monitor grace period and a fast
// eviction rate, so that a simulated region loss plays out in seconds.
func (c *Cluster) startControllerManager(ctx context.Context, bin string) error {
	pki := func(name string) string { return filepath.Join(c.pkiDir, name) }
	return c.startSecureComponent(ctx, ControllerManagerName, bin, "system:kube-controller-manager", []string{
		"--controllers=*",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + pki("sa.key"),
		"--root-ca-file=" + pki("ca.crt"),
		"--node-monitor-grace-period=" + c.grace.String(),
		"--node-monitor-period=" + nodeMonitorPeriod.String(),
		"--node-eviction-rate=" + nodeEvictionRate,
		"--secondary-node-eviction-rate=" + nodeEvictionRate,
	})
}

// startScheduler starts kube-scheduler with its default profile.
func (c *Cluster) startScheduler(ctx context.Context, bin string) error {
	return c.startSecureComponent(ctx, SchedulerName, bin, "system:kube-scheduler", nil)
}

// kwokSpec describes the kwok of region: it manages the nodes labelled
// with the region (topology.kubernetes.io/zone=<region>) and their pods,
// renews their leases, and gives pods addresses from the region's share of
// the pod subnet.
func (c *Cluster) kwokSpec(region string) (procSpec, error) {
	name := KwokPrefix + region
	kubeconfig, err := c.componentCredentials(name, "kubectl-stretch-"+name, mastersGroup)
	if err != nil {
		return procSpec{}, err
	}
	cidr, err := regionPodCIDR(c.model, region)
	if err != nil {
		return procSpec{}, err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--manage-nodes-with-label-selector=" + topology.LabelZone + "=" + region,
		"--node-lease-duration-seconds=" + strconv.Itoa(int(c.grace/time.Second)),
		"--cidr=" + cidr,
		// Lease renewals are logged at INFO, several a second.
		"--v=WARN",
	}
	for _, s := range c.stages {
		args = append(args, "--config="+s)
	}
	return procSpec{
		name: name,
		bin:  c.kwokBin,
		args: args,
		// kwok also reads ~/.kwok/kwok.yaml; keep it inside the state.
		env: []string{"KWOK_WORKDIR=" + filepath.Join(c.opts.StateDir, "kwok")},
	}, nil
}

// regionPodCIDR gives each region a quarter of the topology's pod subnet
// (or of fallbackPodSubnet), in topology order.
func regionPodCIDR(m *topology.Model, region string) (string, error) {
	index := -1
	for i, r := range m.Regions {
		if r.Name == region {
			index = i
		}
	}
	if index < 0 {
		return "", checkRegion(m, region)
	}
	prefix, err := netip.ParsePrefix(m.Kubernetes.PodSubnet)
	if err != nil || !prefix.Addr().Is4() || prefix.Bits() > 22 || len(m.Regions) > 4 {
		prefix = netip.MustParsePrefix(fallbackPodSubnet)
	}
	prefix = prefix.Masked()
	bits := prefix.Bits() + 2
	base := prefix.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n += uint32(index) << (32 - bits)
	addr := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return netip.PrefixFrom(addr, bits).String(), nil
}
