package spread

import (
	"slices"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// Severity says how much a finding matters for surviving the loss of a data
// region if it is left as it is. It is the API's (a lint report writes
// it); the alias keeps the patcher's code as it reads.
type Severity = v1alpha1.Severity

// The severities, from least to most serious (see v1alpha1).
const (
	SeverityInfo    = v1alpha1.SeverityInfo
	SeverityWarning = v1alpha1.SeverityWarning
	SeverityError   = v1alpha1.SeverityError
)

// Rule describes one kind of finding. The registry of rules (Rules) is what
// `kubectl stretch lint --list` prints and what the documentation lists.
type Rule struct {
	// ID is stable and never reused: SPREAD001, SPREAD002, ...
	ID string `json:"id"`
	// Name is a short slug for the rule.
	Name string `json:"name"`
	// Severity is the severity of every finding of the rule.
	Severity Severity `json:"severity"`
	// Fixable is true when the patcher changes the object to fix the
	// rule's findings (unless the object opted out or the change would be
	// unsafe); otherwise the findings are risks for the user to fix, and
	// never Changed. Finding.Changed says what happened to one finding: a
	// finding of a Fixable rule may be left unfixed. lint --list prints it
	// as FIXED BY RENDER.
	Fixable bool `json:"fixable"`
	// Title is a one-line summary.
	Title string `json:"title"`
	// Doc explains why the rule matters for fail-over.
	Doc string `json:"doc"`
	// Fix says how to fix the finding in the source manifest.
	Fix string `json:"fix"`
}

// Finding is one change the patcher made or one risk it found, for one
// object.
type Finding struct {
	// ID is the ID of the Rule.
	ID string `json:"id"`
	// Severity is the Rule's severity.
	Severity Severity `json:"severity"`
	// Kind, Namespace and Name identify the object. Namespace is empty for
	// an object that does not set it.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Problem says what is wrong in the input as written, whatever the
	// patcher did about it: "no topologySpreadConstraint on
	// topology.kubernetes.io/zone", "replicas 1 is below the minimum 2".
	// It is what a static check (kubectl stretch lint) shows.
	Problem string `json:"problem"`
	// Message says what the patcher found and, when Changed, what it
	// changed: "no spread over topology.kubernetes.io/zone; added one with
	// maxSkew 1, DoNotSchedule and nodeTaintsPolicy Honor", "replicas 1
	// raised to 2". It is what render, post-render and fn show. For a
	// finding that is not Changed it is usually the same as Problem.
	Message string `json:"message"`
	// Line is the object's line in its file or stream (in its document,
	// for objects decoded document by document); 0 when unknown.
	Line int `json:"line,omitempty"`
	// Fix says how to fix the source manifest.
	Fix string `json:"fix"`
	// Changed is true when the patcher changed the object (or added an
	// object for it) and so fixed the finding: the patched output no
	// longer has the problem.
	Changed bool `json:"changed"`
}

// rule indexes the registry; its order is the order of the IDs.
type rule int

const (
	ruleZoneSpread rule = iota
	ruleHostnameSpread
	ruleZoneSpreadBlocksFailover
	ruleArbiterAffinity
	ruleReplicas
	ruleHPAMinReplicas
	rulePDB
	ruleOptedOut
	ruleScaledToZero
	ruleStatefulSetOneReplica
	ruleOneReplica
	rulePinned
	ruleHostPath
	ruleNodeLocalVolume
	ruleZoneBoundStorage
	ruleToleratesUnreachable
	ruleToleratesArbiter
	ruleBarePod
	ruleSharedClaim
	ruleNoPodLabels
	rulePlainSecret
	ruleStatefulSetNotRaised
	ruleEvictionSeconds
	ruleCount
)

// registry is the ordered list of rules, indexed by rule.
var registry = [ruleCount]Rule{
	ruleZoneSpread: {
		ID: "SPREAD001", Name: "zone-spread", Severity: SeverityWarning, Fixable: true,
		Title: "No zone topology spread constraint",
		Doc: "Without a zone spread the scheduler may put every replica in one data region, " +
			"and losing that region stops the workload until its pods are evicted and rescheduled. " +
			"The patcher adds a constraint on the zone label with maxSkew 1, whenUnsatisfiable " +
			"DoNotSchedule and nodeTaintsPolicy Honor, selecting the workload's pods " +
			"(and, for a Deployment, matchLabelKeys pod-template-hash).",
		Fix: "add a topologySpreadConstraint on the zone label with maxSkew: 1, " +
			"whenUnsatisfiable: DoNotSchedule and nodeTaintsPolicy: Honor",
	},
	ruleHostnameSpread: {
		ID: "SPREAD002", Name: "hostname-spread", Severity: SeverityInfo, Fixable: true,
		Title: "No hostname topology spread constraint",
		Doc: "A soft spread over nodes (whenUnsatisfiable ScheduleAnyway) keeps replicas in one " +
			"region off a single node, so that one node failure does not take them all.",
		Fix: "add a topologySpreadConstraint on kubernetes.io/hostname with maxSkew: 1 and " +
			"whenUnsatisfiable: ScheduleAnyway",
	},
	ruleZoneSpreadBlocksFailover: {
		ID: "SPREAD003", Name: "zone-spread-blocks-failover", Severity: SeverityError, Fixable: true,
		Title: "A DoNotSchedule zone spread without nodeTaintsPolicy: Honor blocks fail-over",
		Doc: "With the default nodeTaintsPolicy (Ignore) the lost region's tainted nodes still count " +
			"as a domain with zero pods, so maxSkew forbids placing the replacement pods in the " +
			"surviving region: they stay Pending until the region returns. With Honor the lost " +
			"region's nodes are not counted and the pods are rescheduled within seconds.",
		Fix: "set nodeTaintsPolicy: Honor on the zone topologySpreadConstraint",
	},
	ruleArbiterAffinity: {
		ID: "SPREAD004", Name: "arbiter-affinity", Severity: SeverityInfo, Fixable: true,
		Title: "Pods are not kept in the data regions by node affinity",
		Doc: "The arbiter region only runs etcd, a Ceph mon and the control plane. A required node " +
			"affinity on the zone label keeps workload pods out of it even if they tolerate its " +
			"taint, and takes the arbiter out of the zone spread's domains.",
		Fix: "add a required node affinity term: the zone label In the data regions",
	},
	ruleReplicas: {
		ID: "SPREAD005", Name: "replicas-below-minimum", Severity: SeverityWarning, Fixable: true,
		Title: "Fewer replicas than the policy minimum",
		Doc: "A workload needs a replica in each data region to keep serving while one region is " +
			"lost. A missing replicas field counts as 1. The patcher raises Deployments and " +
			"ReplicaSets, and a StatefulSet only when it is annotated stretch.dev/min-replicas " +
			"(see SPREAD022); to the larger of that annotation and the minimum.",
		Fix: "set spec.replicas to at least the topology's workloads.minReplicas",
	},
	ruleHPAMinReplicas: {
		ID: "SPREAD006", Name: "hpa-min-replicas-below-minimum", Severity: SeverityWarning, Fixable: true,
		Title: "HorizontalPodAutoscaler minReplicas below the policy minimum",
		Doc: "The autoscaler owns the replicas of its target, so the patcher raises its minReplicas " +
			"(and maxReplicas, when lower) instead of the workload's replicas. A missing " +
			"minReplicas counts as 1. As for SPREAD005, the autoscaler of a StatefulSet is raised " +
			"only when the StatefulSet is annotated stretch.dev/min-replicas.",
		Fix: "set spec.minReplicas to at least the topology's workloads.minReplicas",
	},
	rulePDB: {
		ID: "SPREAD007", Name: "missing-pdb", Severity: SeverityWarning, Fixable: true,
		Title: "No PodDisruptionBudget selects the pods",
		Doc: "Without a PodDisruptionBudget a node drain may evict every replica at once. The " +
			"patcher adds one named <workload>-stretch with maxUnavailable 1 and the workload's " +
			"selector, unless that would select pods that another budget already covers " +
			"(the eviction API refuses pods with two budgets).",
		Fix: "add a PodDisruptionBudget with maxUnavailable: 1 that selects the workload's pods",
	},
	ruleOptedOut: {
		ID: "SPREAD008", Name: "opted-out", Severity: SeverityInfo,
		Title: "Opted out of spread patching",
		Doc: "The object carries the opt-out annotation (stretch.dev/skip: \"true\") and is left " +
			"unchanged. Risks are still reported.",
		Fix: "remove the opt-out annotation to let the patcher spread the workload",
	},
	ruleScaledToZero: {
		ID: "SPREAD009", Name: "scaled-to-zero", Severity: SeverityInfo,
		Title: "Workload scaled to zero",
		Doc:   "A workload with replicas: 0 is switched off on purpose; its replicas are not raised.",
		Fix:   "set spec.replicas to at least the topology's workloads.minReplicas when it is switched on",
	},
	ruleStatefulSetOneReplica: {
		ID: "SPREAD010", Name: "statefulset-single-replica", Severity: SeverityError,
		Title: "StatefulSet with one replica",
		Doc: "A StatefulSet pod on a lost node stays Terminating and is not recreated until it is " +
			"force-deleted, the Node is deleted or the Node gets the " +
			"node.kubernetes.io/out-of-service taint. With one replica the workload is down for " +
			"as long as the region is. Reported for a StatefulSet that still runs one replica after " +
			"patching because it is opted out, the policy minimum is 1 or its pods share a claim; one " +
			"that is not raised for want of the stretch.dev/min-replicas opt-in is SPREAD022.",
		Fix: "run at least two replicas, or plan the force-delete or out-of-service taint in the " +
			"fail-over runbook",
	},
	ruleOneReplica: {
		ID: "SPREAD011", Name: "single-replica", Severity: SeverityWarning,
		Title: "Workload with one replica",
		Doc: "A single replica in a lost region is only replaced after the node's eviction timeout " +
			"(five minutes by default): an outage on every region loss. Reported for a Deployment " +
			"or ReplicaSet that still runs one replica after patching (opted out, at minReplicas 1, " +
			"or sharing a claim).",
		Fix: "run at least two replicas",
	},
	rulePinned: {
		ID: "SPREAD012", Name: "pinned", Severity: SeverityError,
		Title: "Pinned to one region or one node",
		Doc: "A nodeSelector, a nodeName or a required node affinity that allows only one data " +
			"region (or one node) leaves the pods nowhere to go when that region is lost.",
		Fix: "allow every data region: remove the zone or hostname from nodeSelector, nodeName " +
			"and required node affinity, or list all data regions",
	},
	ruleHostPath: {
		ID: "SPREAD013", Name: "hostpath-volume", Severity: SeverityWarning,
		Title: "hostPath volume",
		Doc: "A hostPath volume's data stays on one node: a pod rescheduled into the other region " +
			"starts without it.",
		Fix: "use a PersistentVolumeClaim on a StorageClass stretched over both data regions",
	},
	ruleNodeLocalVolume: {
		ID: "SPREAD014", Name: "node-local-volume", Severity: SeverityWarning,
		Title: "Node-local PersistentVolume",
		Doc: "A local or hostPath PersistentVolume is bound to one node: a claim on it pins its " +
			"pods to that node's region.",
		Fix: "provision volumes from a StorageClass stretched over both data regions",
	},
	ruleZoneBoundStorage: {
		ID: "SPREAD015", Name: "zone-bound-storage", Severity: SeverityError,
		Title: "Claim on a zone-bound StorageClass",
		Doc: "A volume of a zone-bound StorageClass lives in one region. Its pod cannot be " +
			"rescheduled into the other region, and a StatefulSet pod stays Pending there.",
		Fix: "use a StorageClass stretched over both data regions (the topology's Ceph pools)",
	},
	ruleToleratesUnreachable: {
		ID: "SPREAD016", Name: "tolerates-unreachable", Severity: SeverityError,
		Title: "Toleration defeats nodeTaintsPolicy: Honor",
		Doc: "nodeTaintsPolicy: Honor drops the lost region's nodes from the zone spread because " +
			"they carry the node.kubernetes.io/unreachable or not-ready NoSchedule taint. A pod " +
			"that tolerates that taint (for example a toleration with operator Exists and no key) " +
			"still counts the lost region, and its DoNotSchedule zone spread blocks fail-over.",
		Fix: "narrow the toleration to the taints the workload needs, or to effect NoExecute",
	},
	ruleToleratesArbiter: {
		ID: "SPREAD017", Name: "tolerates-arbiter", Severity: SeverityWarning,
		Title: "May run in the arbiter region",
		Doc: "The pods tolerate the arbiter's taint and nothing keeps them in the data regions, so " +
			"they may take the resources that etcd and the Ceph mon need.",
		Fix: "remove the toleration, or add a required node affinity: the zone label In the data regions",
	},
	ruleBarePod: {
		ID: "SPREAD018", Name: "bare-pod", Severity: SeverityWarning,
		Title: "Bare Pod",
		Doc:   "A Pod without a controller is never recreated when its region is lost.",
		Fix:   "run it from a Deployment, StatefulSet or Job",
	},
	ruleSharedClaim: {
		ID: "SPREAD019", Name: "shared-claim", Severity: SeverityWarning,
		Title: "Replicas share a claim that is not ReadWriteMany",
		Doc: "Pods mounting one PersistentVolumeClaim that is not ReadWriteMany or ReadOnlyMany " +
			"cannot run in both regions, and a replacement pod waits for the lost node's volume " +
			"attachment to be released. The patcher does not raise the replicas of such a workload.",
		Fix: "use a StatefulSet with volumeClaimTemplates, or a ReadWriteMany claim",
	},
	ruleNoPodLabels: {
		ID: "SPREAD020", Name: "no-pod-labels", Severity: SeverityError,
		Title: "No labels to select the pods",
		Doc: "Neither the selector nor the pod template has labels, so no spread constraint or " +
			"PodDisruptionBudget can select the pods. The workload is not spread.",
		Fix: "label the pod template and select those labels in spec.selector",
	},
	rulePlainSecret: {
		ID: "SPREAD021", Name: "plain-secret", Severity: SeverityError,
		Title: "Plain Secret in a bundle meant for Git",
		Doc: "A v1 Secret keeps its values base64-encoded, which is not encryption. Render copies " +
			"the workload sources into the bundle, which is meant to be committed to Git and read " +
			"by Flux, so the values end up readable by everyone who can read the repository and " +
			"its history. Render still writes the Secret (leaving it out would break the workload " +
			"without a word) and reports it as an error, as lint, post-render and fn do. Nothing " +
			"about a region loss: the risk is the repository.",
		Fix: "keep the plain Secret out of the workload source: commit it encrypted as a Sealed " +
			"Secrets SealedSecret or with SOPS, or fetch it from a secret store with External " +
			"Secrets (an ExternalSecret)",
	},
	ruleStatefulSetNotRaised: {
		ID: "SPREAD022", Name: "statefulset-not-raised", Severity: SeverityError,
		Title: "StatefulSet below the minimum replicas, not raised without opt-in",
		Doc: "Raising a StatefulSet's replicas is only safe when the application replicates itself: " +
			"a one-replica database raised to two is two independent databases with diverging data " +
			"behind one Service. So render, post-render and fn never change a StatefulSet's replicas, " +
			"nor its HorizontalPodAutoscaler's minReplicas, unless it is annotated " +
			"stretch.dev/min-replicas with the number to raise to (\"2\" or more). Without it, a " +
			"StatefulSet below the topology's minReplicas keeps its replicas, and when its region is " +
			"lost its pod hangs Terminating on the dead node until the region is fenced with the " +
			"node.kubernetes.io/out-of-service taint; the StatefulSet then recreates it in the surviving " +
			"region with its replicated RBD volume. An autoscaler of a StatefulSet that is not in the " +
			"input is reported too, as its opt-in cannot be seen.",
		Fix: "if the application replicates itself, annotate the StatefulSet stretch.dev/min-replicas: \"2\" " +
			"(or more) to let render raise it; otherwise keep its replicas and put fencing the lost region " +
			"with the node.kubernetes.io/out-of-service taint in the fail-over runbook",
	},
	ruleEvictionSeconds: {
		ID: "SPREAD023", Name: "eviction-seconds", Severity: SeverityInfo, Fixable: true,
		Title: "Pods wait other than the topology's evictionSeconds on a lost node",
		Doc: "When a region is lost its nodes are tainted node.kubernetes.io/unreachable (or not-ready) " +
			"with effect NoExecute, and their pods are evicted and replaced only once their toleration " +
			"of that taint expires: 300 s by default, added by Kubernetes' DefaultTolerationSeconds " +
			"admission to every pod without its own. Reported only when the topology sets " +
			"spec.workloads.evictionSeconds: the patcher then replaces the pod template's NoExecute " +
			"tolerations of both taints with ones of operator Exists and tolerationSeconds " +
			"evictionSeconds. A short value speeds fail-over but also moves pods on a brief partition.",
		Fix: "add tolerations of node.kubernetes.io/unreachable and node.kubernetes.io/not-ready with " +
			"operator: Exists, effect: NoExecute and tolerationSeconds: the topology's evictionSeconds",
	},
}

// Rules returns the registry of rules, ordered by ID.
func Rules() []Rule {
	return slices.Clone(registry[:])
}
