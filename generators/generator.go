package generators

import (
	"context"
	"encoding/json"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// generator renders one layer of the bundle.
type generator interface {
	// Layer names the layer; it is also the key of the layer in a mixin.
	Layer() string
	// Generate returns the layer's objects. in.Objects holds what the
	// generators before it produced.
	Generate(ctx context.Context, in *layerInput) ([]object, error)
}

// layerInput is what a generator works from.
type layerInput struct {
	Model     *topology.Model
	ModelJSON []byte
	Engine    *engine
	// BaseDir is the folder of the topology file.
	BaseDir string
	// TopologyFile and AllowRemoteBases are Options'.
	TopologyFile     string
	AllowRemoteBases bool
	// Objects are the objects of the layers rendered so far, in order.
	Objects []object
	// Findings are the spread patcher's changes and risks so far.
	Findings []Finding
}

// object is one generated file: its bundle path, its layer, the JSON the
// blueprint produced and the typed Go value it was strictly decoded into.
// Objects that are not built from a blueprint (the user's workloads) carry
// their YAML, comments included, instead of Raw.
type object struct {
	Path  string
	Layer string
	Raw   json.RawMessage
	YAML  []byte
	// Text is a file that is not YAML (an nftables ruleset, Terraform
	// JSON, the zone-file snippet), written as it is, without the YAML header.
	Text  []byte
	Typed any
}

// defaultGenerators returns the generators of a bundle, one per row of the layer
// table and in its order. The order matters: the flux layer points at the
// folders of the layers before it. A layer is rendered from its blueprint,
// <layer>.jsonnet, unless it has a generator of its own.
func defaultGenerators() []generator {
	var gens []generator
	for _, l := range layout.Layers() {
		switch l.Name {
		case layout.Workloads:
			gens = append(gens, workloadsGenerator{})
		case layout.Flux:
			gens = append(gens, fluxGenerator{})
		case layout.Firewall:
			gens = append(gens, firewallGenerator{})
		case layout.DNS:
			gens = append(gens, dnsGenerator{})
		default:
			gens = append(gens, blueprintGenerator{layer: l.Name})
		}
	}
	return gens
}

// mixinLayers returns the layers of gens whose output comes from a
// blueprint, and so can take a mixin, in order.
func mixinLayers(gens []generator) []string {
	var out []string
	for _, g := range gens {
		if _, ok := g.(interface{ blueprinted() }); ok {
			out = append(out, g.Layer())
		}
	}
	return out
}

// blueprintGenerator evaluates <layer>.jsonnet with the model.
type blueprintGenerator struct {
	layer string
}

func (g blueprintGenerator) Layer() string { return g.layer }

func (blueprintGenerator) blueprinted() {}

func (g blueprintGenerator) Generate(_ context.Context, in *layerInput) ([]object, error) {
	files, err := in.Engine.evalLayer(g.layer, in.ModelJSON, nil)
	if err != nil {
		return nil, err
	}
	objs, err := decodeFiles(g.layer, files)
	if err != nil {
		return nil, err
	}
	if g.layer == layout.Kubespray {
		if err := orderControlPlane(objs, in.Model); err != nil {
			return nil, err
		}
	}
	return objs, nil
}
