package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Defaults of Options.
const (
	// DefaultStartTimeout is the default of Options.StartTimeout.
	DefaultStartTimeout = 90 * time.Second
	// DefaultStopTimeout is the default of Options.StopTimeout.
	DefaultStopTimeout = 10 * time.Second
)

// Cluster facts the components are started with.
const (
	serviceCIDR    = "10.0.0.0/24"
	saIssuer       = "https://kubernetes.default.svc.cluster.local"
	contextName    = "kubectl-stretch-sim"
	adminUser      = "kubectl-stretch-admin"
	mastersGroup   = "system:masters"
	portAttempts   = 3
	loopbackIPv4   = "127.0.0.1"
	restQPS        = 100
	restBurst      = 200
	kubeconfigName = "kubeconfig"
)

// Options configures StartControlPlane.
type Options struct {
	// BinDir holds the etcd and kube-apiserver binaries. Empty means
	// DefaultBinDir().
	BinDir string
	// StateDir receives everything the control plane writes: etcd's data,
	// certificates and keys (pki/), the admin kubeconfig and the components'
	// logs (logs/<name>.log). It is created if needed; tests pass
	// t.TempDir(). Required.
	//
	// Every start is a new, empty cluster: an etcd data folder left in
	// StateDir by an earlier run is removed.
	StateDir string
	// Log receives one line per step (started, ready, stopped), for people
	// watching; nil discards them. The components' own output goes to their
	// log files, not here.
	Log io.Writer
	// StartTimeout bounds each component's start, until it is ready.
	// Zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL, per
	// component. Zero means DefaultStopTimeout.
	StopTimeout time.Duration

	// detached starts every process in a session of its own that outlives
	// this program (Up); otherwise they die with it.
	detached bool
	// onChange, when set, is called with the running processes each time
	// one is started or forgotten (Up records them in the state file).
	onChange func([]Process)
	// apiserverArgs are added to kube-apiserver's flags (StartCluster).
	apiserverArgs []string
}

// ControlPlane is a running etcd and kube-apiserver on 127.0.0.1. Its
// methods are safe for concurrent use. Call Stop when done, or nothing
// stops the processes until the program that started them exits.
type ControlPlane struct {
	opts       Options
	ca         *authority // also signs the credentials of components added later
	pkiDir     string
	logDir     string
	kubeconfig string
	restConfig *rest.Config

	mu      sync.Mutex
	procs   []*process // running, in start order; Stop stops them in reverse
	started []*process // every process ever started, for their logs
	stopped bool       // Stop was called: start nothing more

	stopOnce sync.Once
	stopErr  error
}

// StartControlPlane starts etcd and then kube-apiserver, waits until the
// API server's /readyz succeeds and writes an admin kubeconfig to
// StateDir/kubeconfig. ctx bounds the start only: once started, the
// processes run until Stop.
//
// When a binary is missing the error is a *MissingBinaryError. When a
// component fails to start, the error quotes the end of its log, and the
// components already started are stopped.
//
// Authentication: a CA made up at start signs the API server's serving
// certificate and an admin client certificate in the group system:masters.
// Authorization is RBAC, so every other identity sees the real defaults.
func StartControlPlane(ctx context.Context, opts Options) (*ControlPlane, error) {
	if opts.StateDir == "" {
		return nil, errors.New("start control plane: Options.StateDir is required")
	}
	if opts.BinDir == "" {
		dir, err := DefaultBinDir()
		if err != nil {
			return nil, fmt.Errorf("start control plane: %w", err)
		}
		opts.BinDir = dir
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	opts.StateDir = stateDir

	apiserverBin, err := binary(opts.BinDir, "kube-apiserver")
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	etcdBin, err := binary(opts.BinDir, "etcd")
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}

	c := &ControlPlane{
		opts:       opts,
		pkiDir:     filepath.Join(stateDir, "pki"),
		logDir:     filepath.Join(stateDir, "logs"),
		kubeconfig: filepath.Join(stateDir, kubeconfigName),
	}
	if err := c.writePKI(); err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	etcdURL, err := c.startEtcd(ctx, etcdBin)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start control plane: %w", err), c.Stop())
	}
	if err := c.startAPIServer(ctx, apiserverBin, etcdURL); err != nil {
		return nil, errors.Join(fmt.Errorf("start control plane: %w", err), c.Stop())
	}
	return c, nil
}

// RESTConfig returns a new admin client configuration (a copy: callers may
// change it).
func (c *ControlPlane) RESTConfig() *rest.Config {
	return rest.CopyConfig(c.restConfig)
}

// Kubeconfig returns the path of the admin kubeconfig file.
func (c *ControlPlane) Kubeconfig() string {
	return c.kubeconfig
}

// Processes lists the running components in start order.
func (c *ControlPlane) Processes() []Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Process, 0, len(c.procs))
	for _, p := range c.procs {
		out = append(out, p.info())
	}
	return out
}

// Stop stops every component in reverse start order: SIGTERM to its process
// group, SIGKILL after Options.StopTimeout, and waits until each is reaped.
// It returns the errors of every component that could not be stopped.
// Calling it again returns the first call's result.
func (c *ControlPlane) Stop() error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		procs := slices.Clone(c.procs)
		c.procs = nil
		c.stopped = true
		c.mu.Unlock()
		var errs []error
		for _, p := range slices.Backward(procs) {
			start := time.Now()
			if err := p.stop(c.opts.StopTimeout); err != nil {
				errs = append(errs, err)
				continue
			}
			c.logf("%s stopped in %s", p.name, since(start))
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// writePKI makes up the CA, the API server's serving certificate, the
// service-account keys and the admin credential, and writes them to
// StateDir/pki. It also prepares RESTConfig and the kubeconfig (the server
// address is filled in when the API server's port is known).
func (c *ControlPlane) writePKI() error {
	ca, err := newAuthority()
	if err != nil {
		return err
	}
	serviceIP, err := firstServiceIP(serviceCIDR)
	if err != nil {
		return err
	}
	serving, err := ca.serving(serviceIP)
	if err != nil {
		return err
	}
	admin, err := ca.client(adminUser, mastersGroup)
	if err != nil {
		return err
	}
	sa, saPub, err := serviceAccountKeys()
	if err != nil {
		return err
	}
	err = writeFiles(c.pkiDir,
		file{"ca.crt", ca.certPEM},
		file{"apiserver.crt", serving.certPEM},
		file{"apiserver.key", serving.keyPEM},
		file{"admin.crt", admin.certPEM},
		file{"admin.key", admin.keyPEM},
		file{"sa.key", sa.keyPEM},
		file{"sa.pub", saPub},
	)
	if err != nil {
		return fmt.Errorf("write certificates: %w", err)
	}
	c.ca = ca
	c.restConfig = &rest.Config{
		TLSClientConfig: rest.TLSClientConfig{CAData: ca.certPEM, CertData: admin.certPEM, KeyData: admin.keyPEM},
		QPS:             restQPS,
		Burst:           restBurst,
	}
	return nil
}

// startEtcd starts a single-member etcd on free loopback ports and returns
// its client URL.
func (c *ControlPlane) startEtcd(ctx context.Context, bin string) (string, error) {
	dataDir := filepath.Join(c.opts.StateDir, "etcd")
	var clientURL string
	err := c.startWithFreePorts(ctx, "etcd", bin, 2, func(ports []int) ([]string, func(context.Context) error, error) {
		// A failed attempt may have left a half-initialised member.
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, nil, err
		}
		clientURL = "http://" + net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[0]))
		peerURL := "http://" + net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[1]))
		args := []string{
			"--name=sim",
			"--data-dir=" + dataDir,
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=sim=" + peerURL,
			"--initial-cluster-state=new",
			// A simulated cluster is thrown away; fsync only makes it slow.
			"--unsafe-no-fsync=true",
		}
		ready := func(ctx context.Context) error {
			return get(ctx, http.DefaultClient, clientURL+"/health", `"health":"true"`)
		}
		return args, ready, nil
	})
	return clientURL, err
}

// startAPIServer starts kube-apiserver against etcdURL on a free loopback
// port and writes the kubeconfig once it is ready.
func (c *ControlPlane) startAPIServer(ctx context.Context, bin, etcdURL string) error {
	pki := func(name string) string { return filepath.Join(c.pkiDir, name) }
	err := c.startWithFreePorts(ctx, "kube-apiserver", bin, 1, func(ports []int) ([]string, func(context.Context) error, error) {
		host := "https://" + net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[0]))
		args := []string{
			"--etcd-servers=" + etcdURL,
			"--bind-address=" + loopbackIPv4,
			"--advertise-address=" + loopbackIPv4,
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--tls-cert-file=" + pki("apiserver.crt"),
			"--tls-private-key-file=" + pki("apiserver.key"),
			"--client-ca-file=" + pki("ca.crt"),
			"--service-account-issuer=" + saIssuer,
			"--service-account-key-file=" + pki("sa.pub"),
			"--service-account-signing-key-file=" + pki("sa.key"),
			"--service-cluster-ip-range=" + serviceCIDR,
			"--authorization-mode=RBAC",
			"--allow-privileged=true",
			// The only endpoint would be 127.0.0.1, which Endpoints refuse.
			"--endpoint-reconciler-type=none",
			"--profiling=false",
		}
		args = append(args, c.opts.apiserverArgs...)
		c.restConfig.Host = host
		client, err := rest.HTTPClientFor(c.restConfig)
		if err != nil {
			return nil, nil, fmt.Errorf("client for kube-apiserver: %w", err)
		}
		ready := func(ctx context.Context) error {
			return get(ctx, client, host+"/readyz", "ok")
		}
		return args, ready, nil
	})
	if err != nil {
		return err
	}
	if err := c.writeKubeconfig(c.kubeconfig, adminUser, c.restConfig); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// startWithFreePorts starts the component with n free loopback ports,
// trying new ports when another program took one first.
func (c *ControlPlane) startWithFreePorts(ctx context.Context, name, bin string, n int,
	prepare func(ports []int) (args []string, ready func(context.Context) error, err error),
) error {
	return c.startWithFreePortsEnv(ctx, name, bin, nil, n, prepare)
}

// startWithFreePortsEnv is startWithFreePorts with env set on top of the
// inherited environment.
func (c *ControlPlane) startWithFreePortsEnv(ctx context.Context, name, bin string, env []string, n int,
	prepare func(ports []int) (args []string, ready func(context.Context) error, err error),
) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		ports, err := freePorts(n)
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		args, ready, err := prepare(ports)
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		p, err := c.launch(ctx, procSpec{name: name, bin: bin, args: args, env: env}, ready, start)
		if err == nil {
			return nil
		}
		if p != nil && p.exited() && attempt < portAttempts && strings.Contains(p.tail(), "address already in use") {
			c.logf("%s: a port was taken, retrying with other ports", name)
			c.forget(p)
			continue
		}
		return fmt.Errorf("start %s: %w", name, err)
	}
}

// launch starts a component as spec says (in the log folder, detached when
// the control plane is), adds it to the processes Stop stops and waits until
// ready succeeds. On error, the process (nil when it did not start) is
// still in the list, so that Stop stops it; the caller may forget it.
func (c *ControlPlane) launch(ctx context.Context, spec procSpec, ready func(context.Context) error, start time.Time) (*process, error) {
	spec.logDir = c.logDir
	spec.detached = c.opts.detached
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, errors.New("the simulated cluster was stopped")
	}
	p, err := startProcess(spec)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.procs = append(c.procs, p)
	c.started = append(c.started, p)
	c.mu.Unlock()
	c.changed()
	if err := p.waitReady(ctx, ready); err != nil {
		return p, err
	}
	c.logf("%s ready in %s (pid %d, log %s)", spec.name, since(start), p.cmd.Process.Pid, p.logPath)
	return p, nil
}

// forget drops an exited or stopped process from the list Stop walks.
func (c *ControlPlane) forget(p *process) {
	c.mu.Lock()
	c.procs = slices.DeleteFunc(c.procs, func(q *process) bool { return q == p })
	c.mu.Unlock()
	c.changed()
}

// changed tells Options.onChange that the list of processes changed.
func (c *ControlPlane) changed() {
	if c.opts.onChange != nil {
		c.opts.onChange(c.Processes())
	}
}

// writeKubeconfig writes a kubeconfig for cfg's server and credentials.
func (c *ControlPlane) writeKubeconfig(path, user string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: user}
	kc.CurrentContext = contextName
	return clientcmd.WriteToFile(*kc, path)
}

func (c *ControlPlane) logf(format string, args ...any) {
	// Progress lines are best effort; a broken writer must not fail a start.
	_, _ = fmt.Fprintf(c.opts.Log, "sim: "+format+"\n", args...)
}

// get succeeds when url answers 200 with a body containing want.
func get(ctx context.Context, client *http.Client, url, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close() // only held to keep the ports distinct
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(loopbackIPv4, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		addr, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			return nil, fmt.Errorf("find a free port: unexpected address %v", l.Addr())
		}
		ports = append(ports, addr.Port)
	}
	return ports, nil
}

// firstServiceIP returns the first host address of cidr, which the API
// server gives the kubernetes Service.
func firstServiceIP(cidr string) (net.IP, error) {
	_, ipnet, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR: %w", err)
	}
	ip := slices.Clone(ipnet.IP.To4())
	if ip == nil {
		return nil, fmt.Errorf("service CIDR %s is not IPv4", cidr)
	}
	ip[3]++
	return ip, nil
}

// since formats the time since start, rounded for people.
func since(start time.Time) string {
	return time.Since(start).Round(10 * time.Millisecond).String()
}
