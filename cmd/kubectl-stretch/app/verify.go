package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// VerifyOptions checks a live cluster against its topology.
type VerifyOptions struct {
	genericiooptions.IOStreams
	// Kube gives the cluster connection (the root's --kubeconfig,
	// --context, ...).
	Kube genericclioptions.RESTClientGetter
	// topologyFlag is -f TOPOLOGY.
	topologyFlag
	// Output is one of check.Formats.
	Output string
	// List prints the registry of checks instead of running them.
	List bool
	// ChunkSize is the page size of each LIST; 0 lists each kind at once.
	ChunkSize int64
	// Verbose prints the number of API requests and timings to ErrOut.
	Verbose bool
	// DNS resolves the API endpoint and the ingress host (NET011).
	DNS bool
	// DNSServer is the DNS server --dns asks, ADDR or ADDR:PORT; empty for
	// the system's resolver.
	DNSServer string
}

// NewCmdVerify returns the verify command. kube is the root command's
// cluster connection flags.
func NewCmdVerify(streams genericiooptions.IOStreams, kube genericclioptions.RESTClientGetter) *cobra.Command {
	o := &VerifyOptions{IOStreams: streams, Kube: kube}
	cmd := &cobra.Command{
		Use:   "verify -f TOPOLOGY",
		Short: "Check a live cluster against its topology: nodes, control plane, WireGuard, Ceph, workloads, capacity",
		Long: `Read the cluster once (one paginated LIST per kind, never a GET per object) and
run every check of the registry against the topology: node labels and taints,
a control plane and an etcd majority that survive the loss of any region,
WireGuard on every node, Rook/Ceph in stretch mode with mons placed ` +
			fmt.Sprintf("%d/%d/%d", rules.MonsPerDataRegion, rules.MonsPerDataRegion, rules.MonsInArbiter) + `, no
OSD in the arbiter, pools of size ` + fmt.Sprint(rules.Size) + ` and the ` + rules.MgrPoolName + ` pool, Ceph's health, workloads
spread and really running in both data regions, and each data region's
capacity to run everything alone. "verify --list" prints the checks and their
documentation; docs/VERIFY.md has the same.

A check that cannot run (RBAC forbids a kind, a CRD is not installed, the API
server times out) is reported as error, never as a pass: the cause is said
once ("unavailable: ..."), the check says "not run: KIND unavailable (see
above)" and the summary says the report is partial.

Time bounds: one GET /version first, 10 s at most (or --request-timeout when
shorter): an API server that cannot be reached fails verify there with one
message. Then each request has --request-timeout (30 s when not given) and
the whole snapshot twice that; reading the API server's certificate and
--dns's lookups take 10 s each at most (or --request-timeout when shorter).
Without a kubeconfig, verify refuses unless
--server names the API server. The bundle's
access/ folder holds a read-only ClusterRole, stretch-verify, bound to the
group stretch:verifiers, that is all verify needs.

Exit status: 0 when no check failed (warnings and skips allowed), 1 when at
least one check failed, 2 when none failed but at least one could not run,
or when verify could not run at all.

Outside the API, verify reads the certificate the API server serves (the
TLS handshake of its own connection) to check that the kubeconfig's server
or the certificate names spec.kubernetes.apiEndpoint (NET010). With --dns
it also resolves the API endpoint and the ingress host and checks that they
answer exactly the addresses of the bundle's network/dns/ records whose
nodes are Ready (NET011); --dns-server ADDR[:PORT] asks that server instead
of the system's resolver (a split-horizon server).`,
		Example: `  kubectl stretch verify -f topology.yaml
  kubectl stretch verify -f topology.yaml -o junit > verify.xml
  kubectl stretch verify -f topology.yaml --context prod -o json
  kubectl stretch verify -f topology.yaml --dns --dns-server 192.0.2.53
  kubectl stretch verify --list`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", check.Formats[0], "output format: "+strings.Join(check.Formats, ", "))
	cmd.Flags().BoolVar(&o.List, "list", false, "list the checks with their documentation and exit")
	cmd.Flags().Int64Var(&o.ChunkSize, "chunk-size", check.DefaultChunkSize, "objects per LIST request (0: each kind in one request)")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "print the API requests and timings to stderr")
	cmd.Flags().BoolVar(&o.DNS, "dns", false, "resolve the API endpoint and the ingress host and check their addresses (NET011)")
	cmd.Flags().StringVar(&o.DNSServer, "dns-server", "", "with --dns, the DNS server to ask, ADDR or ADDR:PORT (default: the system's resolver)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(check.Formats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY.
func (o *VerifyOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	return nil
}

// Validate checks the flags; --list needs no topology and no cluster.
func (o *VerifyOptions) Validate() error {
	if !o.List {
		if err := o.topologyFlag.Validate(); err != nil {
			return failed(ExitError, err)
		}
		if o.Kube == nil {
			return failed(ExitError, errors.New("no cluster connection flags"))
		}
	}
	if !slices.Contains(check.Formats, o.Output) {
		return failed(ExitError, fmt.Errorf("-o %s: the output format is one of %s", o.Output, strings.Join(check.Formats, ", ")))
	}
	if o.ChunkSize < 0 {
		return failed(ExitError, fmt.Errorf("--chunk-size %d: want 0 or more", o.ChunkSize))
	}
	if o.DNSServer != "" {
		if !o.DNS {
			return failed(ExitError, errors.New("--dns-server needs --dns"))
		}
		if err := checkDNSServer(o.DNSServer); err != nil {
			return failed(ExitError, fmt.Errorf("--dns-server %q: %w", o.DNSServer, err))
		}
	}
	return nil
}

// Run loads the topology and the client configuration, takes the
// snapshot, runs the checks and writes the report. The exit code follows
// the report: 1 when a check failed, else 2 when a check could not run,
// else 0.
func (o *VerifyOptions) Run(ctx context.Context) error {
	if o.List {
		if err := check.WriteList(o.Out, check.Checks()); err != nil {
			return failed(ExitError, err)
		}
		return nil
	}
	f, err := o.topologyFlag.Load(o.ErrOut)
	if err != nil {
		return withCode(err, ExitError) // verify could not run: a bad topology is not a failed check
	}
	model := topology.NewModel(f.Topology)
	start := time.Now()
	snap, cfg, err := takeSnapshot(ctx, "verify", o.Kube, o.ChunkSize)
	if err != nil {
		return err
	}
	edgeTimeout := check.ProbeTimeout
	if cfg.Timeout > 0 && cfg.Timeout < edgeTimeout {
		edgeTimeout = cfg.Timeout
	}
	snap.Edge = check.ReadEdge(ctx, cfg, model, check.EdgeOptions{DNS: o.DNS, DNSServer: o.DNSServer, Timeout: edgeTimeout})
	listed := time.Since(start)
	report := check.Run(snap, model, check.Checks())
	checked := time.Since(start) - listed
	if err := report.Write(o.Out, o.Output); err != nil {
		return failed(ExitError, err)
	}
	if o.Verbose {
		fmt.Fprintf(o.ErrOut, "verify: %d API requests, snapshot in %s, checks in %s\n",
			snap.Requests, listed.Round(time.Millisecond), checked.Round(time.Microsecond))
	}
	return verifyExit(report)
}

// verifyExit maps a report to the exit code: a failed check wins over one
// that could not run, since what failed is known to be broken.
func verifyExit(r *check.Report) error {
	switch {
	case r.Summary.Failed > 0:
		return silentFailure(ExitFailed)
	case r.Summary.Errors > 0:
		return silentFailure(ExitError)
	}
	return nil
}

// checkDNSServer checks a --dns-server value: an IP address, with a port
// or not (a name would need a resolver to find the resolver).
func checkDNSServer(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), "53"
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return errors.New("want an IP address, with :PORT or not (port 53)")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return errors.New("the port must be 1 to 65535")
	}
	return nil
}
