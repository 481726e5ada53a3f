package topology

import (
	"fmt"
	"math"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// Limits checked by Validate.
const (
	// MinKubernetesMinor is the oldest Kubernetes 1.x minor Kubespray installs.
	MinKubernetesMinor = 30
	// MinUnderlayMTU and MaxUnderlayMTU bound the node network's MTU.
	MinUnderlayMTU = 1280
	MaxUnderlayMTU = 9216
	// MaxInterRegionRTTms is the largest inter-region RTT etcd can be tuned for.
	MaxInterRegionRTTms = 5000
	// ReservedPoolName is the pool the render creates for Ceph's .mgr pool.
	ReservedPoolName = "builtin-mgr"
	// MinAdminCIDRBitsIPv4 and MinAdminCIDRBitsIPv6 are the shortest
	// prefixes an admin CIDR may have: a /8 is already 16 million IPv4
	// addresses, a /32 a whole IPv6 provider's allocation. Anything wider
	// opens the API and SSH to a large part of the internet.
	MinAdminCIDRBitsIPv4 = 8
	MinAdminCIDRBitsIPv6 = 32
	// MaxMinReplicas is the largest workloads.minReplicas: replica counts
	// are int32 in the Kubernetes API.
	MaxMinReplicas = math.MaxInt32
	// MaxEvictionSeconds is the largest workloads.evictionSeconds: an
	// hour, far beyond Kubernetes' default of 300 s.
	MaxEvictionSeconds = 3600
)

// Validate checks every rule a topology must meet to survive the loss of
// any one region, on a defaulted Topology. It returns nil or Errors, each
// placed at the line and column of the field it is about (or of its
// nearest parent when the file does not set the field).
func (f *File) Validate() error {
	if f == nil || f.Topology == nil {
		return Errors{{Message: "no topology to validate"}}
	}
	v := &validator{f: f, t: f.Topology}
	v.identity()
	v.kubernetes()
	v.network()
	v.adminCIDRs()
	v.regions()
	v.nodes()
	v.ipv6()
	v.etcd()
	v.storage()
	v.crushBalance()
	v.workloads()
	v.ingress()
	v.gitops()
	return v.errs.asError()
}

type validator struct {
	f    *File
	t    *v1alpha1.Topology
	errs Errors

	pod, svc netip.Prefix // valid subnets, or the zero Prefix
}

func (v *validator) errorf(field, format string, args ...any) {
	v.errs = append(v.errs, v.f.Errorf(field, format, args...))
}

// enumList formats a list for messages: "a, b and c" or "a, b or c".
func enumList(choices []string, conj string) string {
	switch len(choices) {
	case 0:
		return ""
	case 1:
		return choices[0]
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " " + conj + " " + choices[len(choices)-1]
}

// dnsLabel checks a required DNS-1123 label.
func (v *validator) dnsLabel(field, value string) bool {
	if value == "" {
		v.errorf(field, "required")
		return false
	}
	if msgs := validation.IsDNS1123Label(value); len(msgs) > 0 {
		v.errorf(field, "%s is not a DNS-1123 label: %s", quote(value), strings.Join(msgs, "; "))
		return false
	}
	return true
}

// dnsSubdomain checks a required DNS-1123 subdomain.
func (v *validator) dnsSubdomain(field, value string) bool {
	if value == "" {
		v.errorf(field, "required")
		return false
	}
	if msgs := validation.IsDNS1123Subdomain(value); len(msgs) > 0 {
		v.errorf(field, "%s is not a DNS-1123 subdomain: %s", quote(value), strings.Join(msgs, "; "))
		return false
	}
	return true
}

func (v *validator) identity() {
	if v.t.APIVersion != v1alpha1.APIVersion {
		v.errorf("apiVersion", "must be %s, got %s", v1alpha1.APIVersion, quote(v.t.APIVersion))
	}
	if v.t.Kind != v1alpha1.KindTopology {
		v.errorf("kind", "must be %s, got %s", v1alpha1.KindTopology, quote(v.t.Kind))
	}
	v.dnsLabel("metadata.name", v.t.Metadata.Name)
}

var (
	kubeVersion = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$`)
	semVersion  = regexp.MustCompile(`^v(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$`)
)

func (v *validator) kubernetes() {
	k := v.t.Spec.Kubernetes
	const pre = "spec.kubernetes."
	switch m := kubeVersion.FindStringSubmatch(k.Version); {
	case k.Version == "":
		v.errorf(pre+"version", "required, like 1.35.4")
	case m == nil && kubeVersion.MatchString(strings.TrimPrefix(k.Version, "v")):
		v.errorf(pre+"version", "write %s, not %s", strings.TrimPrefix(k.Version, "v"), k.Version)
	case m == nil:
		v.errorf(pre+"version", "%s is not a Kubernetes version; write major.minor.patch, like 1.35.4", quote(k.Version))
	default:
		major, _ := strconv.Atoi(m[1]) // the pattern guarantees small digits
		minor, _ := strconv.Atoi(m[2])
		if major < 1 || major == 1 && minor < MinKubernetesMinor {
			v.errorf(pre+"version", "Kubernetes %s is too old; Kubespray installs 1.%d and newer", k.Version, MinKubernetesMinor)
		}
	}

	switch {
	case k.APIEndpoint == "":
		v.errorf(pre+"apiEndpoint", "required: the DNS name (or IP) clients reach the API server at")
	case isIP(k.APIEndpoint):
	default:
		if msgs := validation.IsDNS1123Subdomain(k.APIEndpoint); len(msgs) > 0 {
			v.errorf(pre+"apiEndpoint", "%s is neither an IP address nor a DNS-1123 subdomain: %s", quote(k.APIEndpoint), strings.Join(msgs, "; "))
		}
	}

	v.pod, _ = v.cidr(pre+"podSubnet", k.PodSubnet)
	v.svc, _ = v.cidr(pre+"serviceSubnet", k.ServiceSubnet)
	if v.pod.IsValid() && v.svc.IsValid() && v.pod.Overlaps(v.svc) {
		v.errorf(pre+"serviceSubnet", "%s overlaps podSubnet %s; pod and service addresses must not collide", v.svc, v.pod)
	}
}

// isIP reports whether s is an IP address without a zone.
func isIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// cidr parses a required, canonical CIDR.
func (v *validator) cidr(field, s string) (netip.Prefix, bool) {
	if s == "" {
		v.errorf(field, "required, a CIDR like 10.233.64.0/18")
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if isIP(s) {
			a, _ := netip.ParseAddr(s) // isIP checked it
			v.errorf(field, "%s is an address, not a CIDR; write %s", quote(s), netip.PrefixFrom(a, a.BitLen()))
			return netip.Prefix{}, false
		}
		v.errorf(field, "%s is not a CIDR like 10.233.64.0/18", quote(s))
		return netip.Prefix{}, false
	}
	if p != p.Masked() {
		v.errorf(field, "%s has host bits set; write %s", s, p.Masked())
		return netip.Prefix{}, false
	}
	return p, true
}

func (v *validator) network() {
	n := v.t.Spec.Network
	const pre = "spec.network."
	switch n.Encryption {
	case v1alpha1.EncryptionWireGuard:
	case v1alpha1.EncryptionNone:
		if !n.AllowUnencrypted {
			v.errorf(pre+"encryption", "none sends node and pod traffic between regions in clear text over networks you do not control; "+
				"use wireguard, or set network.allowUnencrypted: true to accept that")
		}
	case "":
		v.errorf(pre+"encryption", "required: %s or %s", v1alpha1.EncryptionWireGuard, v1alpha1.EncryptionNone)
	default:
		v.errorf(pre+"encryption", "must be %s or %s, got %s", v1alpha1.EncryptionWireGuard, v1alpha1.EncryptionNone, quote(string(n.Encryption)))
	}
	mtu := n.UnderlayMTU
	if v.f.zeros[pre+"underlayMTU"] {
		mtu = 0 // Default took the 0 for unset
	}
	if mtu < MinUnderlayMTU || mtu > MaxUnderlayMTU {
		v.errorf(pre+"underlayMTU", "must be between %d and %d, got %d", MinUnderlayMTU, MaxUnderlayMTU, mtu)
	}
	switch {
	case n.InterRegionRTTms == 0:
		v.errorf(pre+"interRegionRTTms", "required: the worst round-trip time between two regions, in milliseconds (like 12)")
	case n.InterRegionRTTms < 1 || n.InterRegionRTTms > MaxInterRegionRTTms:
		v.errorf(pre+"interRegionRTTms", "must be between 1 and %d (milliseconds), got %d", MaxInterRegionRTTms, n.InterRegionRTTms)
	}
}

func (v *validator) adminCIDRs() {
	cidrs := v.t.Spec.AdminCIDRs
	if len(cidrs) == 0 {
		v.errorf("spec.adminCIDRs", "at least one required: the networks operators and CI reach the API and SSH from")
		return
	}
	seen := map[netip.Prefix]string{}
	for i, s := range cidrs {
		field := fmt.Sprintf("spec.adminCIDRs[%d]", i)
		p, ok := v.cidr(field, s)
		if !ok {
			continue
		}
		if p.Bits() == 0 {
			v.errorf(field, "%s would open the Kubernetes API and SSH to the whole internet; list the networks operators and CI connect from", s)
			continue
		}
		if minBits := adminCIDRMinBits(p); p.Bits() < minBits {
			v.errorf(field, "%s is too wide: it would open the Kubernetes API and SSH to %s; an admin CIDR may be at most a /%d, so list the networks operators and CI connect from",
				s, addressCount(p), minBits)
			continue
		}
		if first, dup := seen[p]; dup {
			v.errorf(field, "duplicate CIDR %s (also %s)", s, first)
			continue
		}
		seen[p] = field
	}
}

// adminCIDRMinBits is the shortest prefix an admin CIDR of p's family may
// have.
func adminCIDRMinBits(p netip.Prefix) int {
	if p.Addr().Is4() {
		return MinAdminCIDRBitsIPv4
	}
	return MinAdminCIDRBitsIPv6
}

// addressCount says how many addresses p holds, for messages.
func addressCount(p netip.Prefix) string {
	host := p.Addr().BitLen() - p.Bits()
	if host < 63 {
		return fmt.Sprintf("%d addresses", uint64(1)<<host)
	}
	return fmt.Sprintf("2^%d addresses", host)
}

// specialAddress says why a is not an address a node can be reached at,
// or returns "" when it can be.
func specialAddress(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	case a.IsMulticast():
		return "a multicast address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	}
	return ""
}

func regionField(i int) string { return fmt.Sprintf("spec.regions[%d]", i) }

// regionLabel names a region in messages: its name, or its field path when
// it has none.
func regionLabel(i int, r v1alpha1.Region) string {
	if r.Name == "" {
		return regionField(i)
	}
	return r.Name
}

func nodeField(i, j int) string { return fmt.Sprintf("spec.regions[%d].nodes[%d]", i, j) }

func (v *validator) regions() {
	regions := v.t.Spec.Regions
	var data, arbiters []string
	names := map[string]string{}
	for i, r := range regions {
		rf := regionField(i)
		switch r.Role {
		case v1alpha1.RegionRoleData:
			data = append(data, regionLabel(i, r))
		case v1alpha1.RegionRoleArbiter:
			arbiters = append(arbiters, regionLabel(i, r))
		case "":
			v.errorf(rf+".role", "required: %s or %s", v1alpha1.RegionRoleData, v1alpha1.RegionRoleArbiter)
		default:
			v.errorf(rf+".role", "must be %s or %s, got %s", v1alpha1.RegionRoleData, v1alpha1.RegionRoleArbiter, quote(string(r.Role)))
		}
		if !v.dnsLabel(rf+".name", r.Name) {
			continue
		}
		if first, dup := names[r.Name]; dup {
			v.errorf(rf+".name", "duplicate region name %s (also %s)", quote(r.Name), first)
			continue
		}
		names[r.Name] = rf + ".name"
		if r.Name == v.t.Metadata.Name {
			v.errorf(rf+".name", "region name %s equals metadata.name; the topology name becomes the %s label and region names the %s label, "+
				"and Rook (1.18 and newer) refuses a value used at both levels", quote(r.Name), LabelRegion, LabelZone)
		}
	}
	if len(data) != DataRegions {
		v.errorf("spec.regions", "needs exactly two regions with role data, found %d%s", len(data), nameList(data))
	}
	if len(arbiters) != 1 {
		v.errorf("spec.regions", "needs exactly one region with role arbiter (it holds the tie-breaking etcd member and Ceph mon), found %d%s",
			len(arbiters), nameList(arbiters))
	}
	for i, r := range regions {
		rf := regionField(i)
		var nodes, storage, controlPlanes int
		for _, n := range r.Nodes {
			nodes++
			if hasRole(n, v1alpha1.NodeRoleStorage) {
				storage++
			}
			if hasRole(n, v1alpha1.NodeRoleControlPlane) {
				controlPlanes++
			}
		}
		if controlPlanes == 0 {
			v.errorf(rf+".nodes", "region %s has no control-plane node; every region needs one so that the API survives the loss of any other region", regionLabel(i, r))
		}
		switch r.Role {
		case v1alpha1.RegionRoleData:
			if nodes < 2 {
				v.errorf(rf+".nodes", "data region %s has %d %s; five Ceph mons are placed 2/2/1 and need two nodes in each data region",
					regionLabel(i, r), nodes, plural(nodes, "node", "nodes"))
			}
			if storage < 2 {
				v.errorf(rf+".nodes", "data region %s has %d storage %s; stretch pools keep two replicas in each data region on different hosts, so it needs at least two",
					regionLabel(i, r), storage, plural(storage, "node", "nodes"))
			}
		case v1alpha1.RegionRoleArbiter:
			if nodes == 0 {
				v.errorf(rf+".nodes", "the arbiter region needs at least one node for the tie-breaking etcd member and Ceph mon")
			}
		}
	}
}

func nameList(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func hasRole(n v1alpha1.Node, role v1alpha1.NodeRole) bool {
	for _, r := range n.Roles {
		if r == role {
			return true
		}
	}
	return false
}

var deviceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// validDevice reports whether d is a kernel device name (vdb, nvme0n1) or
// a clean absolute /dev/ path.
func validDevice(d string) bool {
	if deviceName.MatchString(d) {
		return true
	}
	if !strings.HasPrefix(d, "/dev/") || len(d) <= len("/dev/") || path.Clean(d) != d {
		return false
	}
	for _, r := range d {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func (v *validator) nodes() {
	names := map[string]string{}
	ips := map[netip.Addr]string{}
	useIP := func(field, s string) (netip.Addr, bool) {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			v.errorf(field, "%s is not an IP address", quote(s))
			return netip.Addr{}, false
		}
		a = a.Unmap()
		if why := specialAddress(a); why != "" {
			v.errorf(field, "%s is %s; a node needs the unicast address other nodes and clients reach it at", s, why)
			return netip.Addr{}, false
		}
		if first, dup := ips[a]; dup {
			v.errorf(field, "duplicate IP %s (also %s)", s, first)
			return a, true
		}
		ips[a] = field
		return a, true
	}
	for i, r := range v.t.Spec.Regions {
		for j, n := range r.Nodes {
			nf := nodeField(i, j)
			if v.dnsSubdomain(nf+".name", n.Name) {
				if first, dup := names[n.Name]; dup {
					v.errorf(nf+".name", "duplicate node name %s (also %s)", quote(n.Name), first)
				} else {
					names[n.Name] = nf + ".name"
				}
			}
			if n.IP == "" {
				v.errorf(nf+".ip", "required: the node's address on the private network")
			} else if a, ok := useIP(nf+".ip", n.IP); ok {
				for _, s := range []struct {
					name string
					p    netip.Prefix
				}{{"podSubnet", v.pod}, {"serviceSubnet", v.svc}} {
					if s.p.IsValid() && s.p.Contains(a) {
						v.errorf(nf+".ip", "%s is inside %s %s; node and cluster addresses would collide", n.IP, s.name, s.p)
					}
				}
			}
			if n.PublicIP != "" {
				useIP(nf+".publicIP", n.PublicIP)
			}
			v.nodeRoles(nf, r, n)
			v.quantity(nf+".cpu", n.CPU, "8 or 500m")
			v.quantity(nf+".memory", n.Memory, "32Gi")
			v.devices(nf, n)
		}
	}
}

func (v *validator) nodeRoles(nf string, r v1alpha1.Region, n v1alpha1.Node) {
	if len(n.Roles) == 0 {
		v.errorf(nf+".roles", "required: at least one of %s", strings.Join(v1alpha1.RoleNames(v1alpha1.NodeRoles), ", "))
		return
	}
	seen := map[v1alpha1.NodeRole]bool{}
	for k, role := range n.Roles {
		field := fmt.Sprintf("%s.roles[%d]", nf, k)
		valid := false
		for _, known := range v1alpha1.NodeRoles {
			valid = valid || role == known
		}
		switch {
		case !valid:
			v.errorf(field, "unknown role %s; use %s", quote(string(role)), enumList(v1alpha1.RoleNames(v1alpha1.NodeRoles), "or"))
		case seen[role]:
			v.errorf(field, "duplicate role %s", quote(string(role)))
		case role == v1alpha1.NodeRoleStorage && r.Role == v1alpha1.RegionRoleArbiter:
			v.errorf(field, "the arbiter region holds no data (only a Ceph mon runs there); remove the storage role")
		}
		seen[role] = true
	}
}

func (v *validator) quantity(field, s, example string) {
	if s == "" {
		return
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		v.errorf(field, "%s is not a quantity like %s", quote(s), example)
		return
	}
	if q.Sign() <= 0 {
		v.errorf(field, "must be positive, got %s", s)
	}
}

func (v *validator) devices(nf string, n v1alpha1.Node) {
	storage := hasRole(n, v1alpha1.NodeRoleStorage)
	switch {
	case storage && len(n.Devices) == 0:
		v.errorf(nf+".devices", "required on a storage node: the raw disks Ceph may use, like [vdb]")
		return
	case !storage && len(n.Devices) > 0:
		v.errorf(nf+".devices", "only storage nodes have devices; add the storage role or remove devices")
		return
	}
	seen := map[string]bool{}
	for k, d := range n.Devices {
		field := fmt.Sprintf("%s.devices[%d]", nf, k)
		switch {
		case !validDevice(d):
			v.errorf(field, "%s is not a device; write a kernel name like vdb, sdb or nvme0n1, or an absolute /dev/ path", quote(d))
		case seen[d]:
			v.errorf(field, "duplicate device %s", quote(d))
		}
		seen[d] = true
	}
}

func (v *validator) etcd() {
	regions := v.t.Spec.Regions
	counts := make([]int, len(regions))
	total := 0
	var placement []string
	for i, r := range regions {
		for _, n := range r.Nodes {
			if hasRole(n, v1alpha1.NodeRoleEtcd) {
				counts[i]++
			}
		}
		total += counts[i]
		placement = append(placement, fmt.Sprintf("%s: %d", regionLabel(i, r), counts[i]))
	}
	const fix = "use 3 or 5 members, placed 1-1-1 or 2-2-1 across the regions"
	switch {
	case total == 0:
		v.errorf("spec.regions", "no node has the etcd role; %s", fix)
		return
	case total%2 == 0:
		v.errorf("spec.regions", "%d etcd members (%s) is an even number; %s", total, strings.Join(placement, ", "), fix)
	case total < 3:
		v.errorf("spec.regions", "1 etcd member cannot survive the loss of its region; %s", fix)
	}
	majority := total/2 + 1
	for i, r := range regions {
		if left := total - counts[i]; left < majority {
			v.errorf(regionField(i), "losing region %s leaves %d of %d etcd members; a majority needs %d", regionLabel(i, r), left, total, majority)
		}
	}
}

func (v *validator) storage() {
	s := v.t.Spec.Storage
	const pre = "spec.storage."
	switch {
	case s.Rook.Version == "":
		v.errorf(pre+"rook.version", "required, like %s", DefaultRookVersion)
	case !semVersion.MatchString(s.Rook.Version):
		v.errorf(pre+"rook.version", "%s is not a Rook version like %s", quote(s.Rook.Version), DefaultRookVersion)
	}
	v.dnsLabel(pre+"rook.namespace", s.Rook.Namespace)
	switch {
	case s.Ceph.Image == "":
		v.errorf(pre+"ceph.image", "required, like %s", DefaultCephImage)
	case strings.ContainsFunc(s.Ceph.Image, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		v.errorf(pre+"ceph.image", "%s is not an image reference like %s", quote(s.Ceph.Image), DefaultCephImage)
	}
	switch d := s.Ceph.DataDirHostPath; {
	case d == "":
		v.errorf(pre+"ceph.dataDirHostPath", "required, like %s", DefaultDataDirHostPath)
	case !path.IsAbs(d) || path.Clean(d) != d || d == "/":
		v.errorf(pre+"ceph.dataDirHostPath", "must be a clean absolute path below /, like %s, got %s", DefaultDataDirHostPath, quote(d))
	}

	names := map[string]string{}
	classes := map[string]string{}
	defaultPool := ""
	for i, p := range s.BlockPools {
		pf := fmt.Sprintf("%sblockPools[%d]", pre, i)
		switch {
		case strings.HasPrefix(p.Name, "."):
			v.errorf(pf+".name", "%s starts with \".\"; such names are reserved for Ceph's own pools (like .mgr)", quote(p.Name))
		case p.Name == ReservedPoolName:
			v.errorf(pf+".name", "%s is reserved for the pool that holds Ceph's .mgr pool", quote(p.Name))
		case v.dnsLabel(pf+".name", p.Name):
			if first, dup := names[p.Name]; dup {
				v.errorf(pf+".name", "duplicate pool name %s (also %s)", quote(p.Name), first)
			} else {
				names[p.Name] = pf + ".name"
			}
		}
		if v.dnsSubdomain(pf+".storageClass", p.StorageClass) {
			if first, dup := classes[p.StorageClass]; dup {
				v.errorf(pf+".storageClass", "duplicate storageClass %s (also %s)", quote(p.StorageClass), first)
			} else {
				classes[p.StorageClass] = pf + ".storageClass"
			}
		}
		if p.Default {
			if defaultPool != "" {
				v.errorf(pf+".default", "only one pool can back the default StorageClass; %s already does", defaultPool)
			} else {
				defaultPool = pf
			}
		}
		switch p.ReclaimPolicy {
		case v1alpha1.ReclaimDelete, v1alpha1.ReclaimRetain:
		default:
			v.errorf(pf+".reclaimPolicy", "must be %s or %s, got %s", v1alpha1.ReclaimDelete, v1alpha1.ReclaimRetain, quote(string(p.ReclaimPolicy)))
		}
	}
}

func (v *validator) workloads() {
	w := v.t.Spec.Workloads
	const pre = "spec.workloads."
	minReplicas := w.MinReplicas
	if v.f.zeros[pre+"minReplicas"] {
		minReplicas = 0 // Default took the 0 for unset
	}
	switch {
	case minReplicas < 2:
		v.errorf(pre+"minReplicas", "must be at least 2, got %d: a workload with fewer than two replicas runs in at most one region and cannot survive its loss", minReplicas)
	case minReplicas > MaxMinReplicas:
		v.errorf(pre+"minReplicas", "must be at most %d (a Kubernetes replica count is a 32-bit integer), got %d", MaxMinReplicas, minReplicas)
	}
	if e := w.EvictionSeconds; e != nil && (*e < 0 || *e > MaxEvictionSeconds) {
		v.errorf(pre+"evictionSeconds", "must be 0 to %d seconds (unset: Kubernetes' default of 300), got %d", MaxEvictionSeconds, *e)
	}
	names := map[string]string{}
	for i, s := range w.Sources {
		sf := fmt.Sprintf("%ssources[%d]", pre, i)
		var kinds []string
		if s.Path != "" {
			kinds = append(kinds, "path")
		}
		if s.Kustomize != "" {
			kinds = append(kinds, "kustomize")
		}
		if s.Helm != nil {
			kinds = append(kinds, "helm")
		}
		switch len(kinds) {
		case 0:
			v.errorf(sf, "set one of path, kustomize and helm")
		case 1:
		default:
			v.errorf(sf, "set exactly one of path, kustomize and helm, not %s", enumList(kinds, "and"))
		}
		derived := ""
		if !v.f.has(sf+".name") && len(kinds) > 0 {
			derived = kinds[0]
		}
		switch {
		case s.Name == "" && derived != "":
			v.errorf(sf+".name", "required: no name can be derived from %s; set name", derived)
		case s.Name == "":
			v.errorf(sf+".name", "required")
		case len(validation.IsDNS1123Label(s.Name)) > 0:
			v.errorf(sf+".name", "%s is not a DNS-1123 label: %s", quote(s.Name), strings.Join(validation.IsDNS1123Label(s.Name), "; "))
		default:
			first, dup := names[s.Name]
			switch {
			case !dup:
				names[s.Name] = sf
			case derived != "":
				v.errorf(sf+".name", "duplicate source name %s (also %s); the name is derived from %s, set name to tell them apart", quote(s.Name), first, derived)
			default:
				v.errorf(sf+".name", "duplicate source name %s (also %s)", quote(s.Name), first)
			}
		}
		if s.Helm != nil {
			v.helm(sf+".helm", *s.Helm)
		}
	}
}

func (v *validator) helm(hf string, h v1alpha1.HelmSource) {
	if h.Chart == "" {
		v.errorf(hf+".chart", "required: the chart's folder or archive")
	}
	if v.dnsSubdomain(hf+".release", h.Release) && len(h.Release) > 53 {
		v.errorf(hf+".release", "%s is longer than Helm's limit of 53 characters", quote(h.Release))
	}
	v.dnsLabel(hf+".namespace", h.Namespace)
}

func (v *validator) ingress() {
	in := v.t.Spec.Ingress
	if in == nil {
		return
	}
	const pre = "spec.ingress."
	v.dnsSubdomain(pre+"host", in.Host)
	switch {
	case in.HealthPath == "":
		v.errorf(pre+"healthPath", "required, like /healthz")
	case !strings.HasPrefix(in.HealthPath, "/"):
		v.errorf(pre+"healthPath", "must start with \"/\", got %s", quote(in.HealthPath))
	}
}

func (v *validator) gitops() {
	g := v.t.Spec.GitOps
	const pre = "spec.gitops."
	v.dnsSubdomain(pre+"sourceName", g.SourceName)
	switch {
	case g.Path == "":
		v.errorf(pre+"path", "required, like . or clusters/prod")
	case path.IsAbs(g.Path) || strings.HasPrefix(g.Path, `\`):
		v.errorf(pre+"path", "must be relative to the root of the Git repository, got %s", quote(g.Path))
	case hasDotDot(g.Path):
		v.errorf(pre+"path", "must not contain \"..\", got %s", quote(g.Path))
	}
	v.chartMirrors()
}

func hasDotDot(p string) bool {
	for _, e := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if e == ".." {
			return true
		}
	}
	return false
}
