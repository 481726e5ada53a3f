package kubespray

import (
	"strconv"
	"strings"
)

// kube_proxy_mode values Kubespray v2.31 accepts
// (roles/kubespray_defaults; its default is ipvs).
const (
	ProxyModeIPTables = "iptables"
	ProxyModeIPVS     = "ipvs"
	ProxyModeNFTables = "nftables"
)

// ProxyModeFor returns the kube-proxy mode for a Kubernetes version
// ("1.35.4", no v): nftables from 1.33, where the NFTablesProxyMode feature
// is GA (k8s.io/kubernetes pkg/features/kube_features.go), and iptables
// before it. ipvs is deprecated since 1.35 (cmd/kube-proxy/app/
// server_linux.go: "The ipvs proxier is now deprecated ... Please use
// 'nftables' instead."), so it is never chosen. A version it cannot read
// counts as current.
func ProxyModeFor(version string) string {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) >= 2 {
		major, err1 := strconv.Atoi(parts[0])
		minor, err2 := strconv.Atoi(parts[1])
		if err1 == nil && err2 == nil && (major < 1 || (major == 1 && minor < 33)) {
			return ProxyModeIPTables
		}
	}
	return ProxyModeNFTables
}
