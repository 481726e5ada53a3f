package v1alpha1

// Group, Version and APIVersion identify every object of this package:
// APIVersion is what their apiVersion field holds.
const (
	Group      = "stretch.dev"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
)

// The kinds of this group, as their kind field holds them.
const (
	KindTopology     = "Topology"
	KindSpreadPolicy = "SpreadPolicy"
	KindLintReport   = "LintReport"
	KindVerifyReport = "VerifyReport"
	KindDrillReport  = "DrillReport"
	// KindDNSRecords heads network/dns/records.yaml; its type is in
	// internal/dns, beside the zone writer and its rules.
	KindDNSRecords = "DNSRecords"
	// KindFirewallAllowlist heads each network/firewall/<region>.yaml; its
	// type is in internal/firewall, beside the nftables and security-group
	// writers.
	KindFirewallAllowlist = "FirewallAllowlist"
	// KindSimulatedCluster is the state file of a detached simulated
	// cluster (internal/sim). Its type stays in internal/sim: it records
	// the topology's Model, which internal/topology builds from this
	// package's types, and no user writes it.
	KindSimulatedCluster = "SimulatedCluster"
)
