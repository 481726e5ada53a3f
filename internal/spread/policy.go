package spread

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Well-known keys the patcher writes or reads besides the policy's own.
const (
	// AnnotationSkip, set to "true" on a workload or a
	// HorizontalPodAutoscaler, opts it out of patching.
	AnnotationSkip = "stretch.dev/skip"
	// AnnotationMinReplicas, set to a whole number from 2 (such as "2")
	// on a StatefulSet, opts it in to having its replicas (or its
	// HorizontalPodAutoscaler's minReplicas) raised to at least that
	// number and the policy minimum. Without it a StatefulSet's replicas
	// are never changed: two copies of an application that does not
	// replicate itself are two diverging databases. On a Deployment or
	// ReplicaSet, which are raised anyway, it raises them to at least that
	// number too. Any other value is bad input.
	AnnotationMinReplicas = "stretch.dev/min-replicas"
	// LabelHostname is the topology key of the soft per-node spread.
	LabelHostname = "kubernetes.io/hostname"
	// LabelPodTemplateHash is the label a Deployment's controller puts on
	// every pod of one revision; Deployments spread with it as a
	// matchLabelKey so that a rollout does not count old pods.
	LabelPodTemplateHash = "pod-template-hash"
	// PDBSuffix is appended to a workload's name to name the
	// PodDisruptionBudget the patcher adds for it.
	PDBSuffix = "-stretch"
	// TaintUnreachable and TaintNotReady are the taints the node
	// lifecycle controller puts on a node it no longer hears from.
	TaintUnreachable = "node.kubernetes.io/unreachable"
	TaintNotReady    = "node.kubernetes.io/not-ready"
	// MaxEvictionSeconds is the largest Policy.EvictionSeconds.
	MaxEvictionSeconds = 3600
)

// Policy is what the patcher enforces and how it reports. PolicyFor derives
// it from a topology.
type Policy struct {
	// ZoneKey is the node label whose values are the regions
	// (topology.kubernetes.io/zone).
	ZoneKey string
	// DataZones are the values of ZoneKey of the data regions, the only
	// regions workloads may run in.
	DataZones []string
	// ArbiterTaintKey is the key of the taint on the arbiter's nodes. A
	// workload the patcher does not pin to DataZones and that tolerates
	// this taint is reported. Empty disables that check.
	ArbiterTaintKey string
	// MinReplicas is the smallest number of replicas a spread workload
	// runs; at least 1. Deployments and ReplicaSets below it are raised;
	// StatefulSets only when annotated AnnotationMinReplicas, and are
	// otherwise reported (SPREAD022).
	MinReplicas int
	// SkipAnnotation opts a workload out when its value is "true". Empty
	// means no workload can opt out.
	SkipAnnotation string
	// ZoneBoundStorageClasses are StorageClasses whose volumes live in one
	// region only. A claim on one of them cannot follow its pod to the
	// other region and is reported.
	ZoneBoundStorageClasses []string
	// EvictionSeconds, when set, is the tolerationSeconds of the NoExecute
	// tolerations of TaintUnreachable and TaintNotReady that every patched
	// pod template gets, replacing its own: how long its pods stay on a
	// lost node before they are evicted and replaced. Nil leaves the
	// tolerations alone (Kubernetes then adds 300 s). 0 to 3600.
	EvictionSeconds *int
}

// PolicyFor returns the policy of a topology model: its zone label, its data
// regions, the arbiter taint, its minReplicas and the stretch.dev/skip
// opt-out. The model's storage classes are stretched over both data
// regions, so ZoneBoundStorageClasses is empty.
func PolicyFor(m *topology.Model) Policy {
	zone := m.Labels.Zone
	if zone == "" {
		zone = topology.LabelZone
	}
	return Policy{
		ZoneKey:         zone,
		DataZones:       slices.Clone(m.Data),
		ArbiterTaintKey: topology.TaintArbiter,
		MinReplicas:     m.Workloads.MinReplicas,
		SkipAnnotation:  AnnotationSkip,
		EvictionSeconds: m.Workloads.EvictionSeconds,
	}
}

// Validate reports every field of the policy that the patcher cannot work
// with.
func (p Policy) Validate() error {
	var errs []error
	if p.ZoneKey == "" {
		errs = append(errs, errors.New("zone key is empty"))
	}
	if len(p.DataZones) == 0 {
		errs = append(errs, errors.New("no data zones"))
	}
	seen := make(map[string]bool, len(p.DataZones))
	for _, z := range p.DataZones {
		switch {
		case z == "":
			errs = append(errs, errors.New("a data zone is empty"))
		case seen[z]:
			errs = append(errs, fmt.Errorf("data zone %q is listed twice", z))
		}
		seen[z] = true
	}
	switch {
	case p.MinReplicas < 1:
		errs = append(errs, fmt.Errorf("minReplicas is %d, want at least 1", p.MinReplicas))
	case p.MinReplicas > math.MaxInt32:
		errs = append(errs, fmt.Errorf("minReplicas is %d, want at most %d (a replica count is an int32)", p.MinReplicas, math.MaxInt32))
	}
	if e := p.EvictionSeconds; e != nil && (*e < 0 || *e > MaxEvictionSeconds) {
		errs = append(errs, fmt.Errorf("evictionSeconds is %d, want 0 to %d", *e, MaxEvictionSeconds))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spread policy: %w", err)
	}
	return nil
}
