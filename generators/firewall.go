package generators

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/stretch-dev/kubectl-stretch/internal/firewall"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/kubespray"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// firewallGenerator writes the firewall layer from internal/firewall's
// typed values: per region an allowlist (YAML), an nftables ruleset and
// OpenStack security groups (Terraform JSON). It is not a blueprint: the
// ports follow the typed objects of the layers before it, and the
// nftables text is written by a typed, escaping writer.
type firewallGenerator struct{}

func (firewallGenerator) Layer() string { return layout.Firewall }

func (firewallGenerator) Generate(_ context.Context, in *layerInput) ([]object, error) {
	opts := firewallOptions(in)
	lists, err := firewall.Build(in.Model, opts)
	if err != nil {
		return nil, err
	}
	var out []object
	for _, a := range lists {
		base := layout.DirFirewall + "/" + a.Region
		raw, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("%s.yaml: %w", base, err)
		}
		rs, err := firewall.NFT(a)
		if err != nil {
			return nil, fmt.Errorf("%s.nft: %w", base, err)
		}
		rs.Comment = append([]string{header[2 : len(header)-1]}, rs.Comment...)
		tf, err := firewall.SecurityGroups(a)
		if err != nil {
			return nil, fmt.Errorf("%s.tf.json: %w", base, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(tf); err != nil {
			return nil, fmt.Errorf("%s.tf.json: %w", base, err)
		}
		list := a
		out = append(out,
			object{Path: base + ".nft", Layer: layout.Firewall, Text: []byte(rs.String()), Typed: rs},
			object{Path: base + ".tf.json", Layer: layout.Firewall, Text: buf.Bytes(), Typed: tf},
			object{Path: base + ".yaml", Layer: layout.Firewall, Raw: raw, Typed: &list})
	}
	return out, nil
}

// firewallOptions reads the ports' options from the layers rendered
// before: Kubespray's API port, Calico's backend, WireGuard and Typha,
// and the CephCluster's network provider. A mixin that changes one of
// them changes the allowlists with it.
func firewallOptions(in *layerInput) firewall.Options {
	o := firewall.DefaultOptions(in.Model)
	for _, obj := range in.Objects {
		switch t := obj.Typed.(type) {
		case *kubespray.ClusterVars:
			if t.KubeAPIServerPort != nil {
				o.APIPort = *t.KubeAPIServerPort
			}
		case *kubespray.CalicoVars:
			o.WireGuard = t.CalicoWireguardEnabled
			o.VXLAN = t.CalicoNetworkBackend == "vxlan" || (t.CalicoVXLANMode != "" && t.CalicoVXLANMode != "Never")
			o.BGP = t.CalicoNetworkBackend == "bird"
			o.IPIP = t.CalicoIPIPMode != "" && t.CalicoIPIPMode != "Never"
			o.Typha = t.TyphaEnabled != nil && *t.TyphaEnabled
		case *rook.CephCluster:
			var n struct {
				Provider    string `json:"provider"`
				HostNetwork bool   `json:"hostNetwork"`
			}
			if len(t.Spec.Network) > 0 && json.Unmarshal(t.Spec.Network, &n) == nil {
				o.CephHostNetwork = n.Provider == "host" || n.HostNetwork
			}
		}
	}
	return o
}
