package spread_test

import (
	"fmt"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

func ExamplePatchStream() {
	in := []byte(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db # a Patroni cluster: it replicates itself
  namespace: shop
  annotations:
    stretch.dev/min-replicas: "2"
spec:
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: postgres
        image: postgres:16
`)
	p := spread.Policy{
		ZoneKey:        "topology.kubernetes.io/zone",
		DataZones:      []string{"sto1", "sto2"},
		MinReplicas:    2,
		SkipAnnotation: spread.AnnotationSkip,
	}
	out, res, err := spread.PatchStream(in, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	for _, f := range res.Findings {
		fmt.Println(f.ID, f.Severity, f.Message)
	}
	// Output:
	// apiVersion: apps/v1
	// kind: StatefulSet
	// metadata:
	//   name: db # a Patroni cluster: it replicates itself
	//   namespace: shop
	//   annotations:
	//     stretch.dev/min-replicas: "2"
	// spec:
	//   replicas: 2
	//   selector:
	//     matchLabels: {app: db}
	//   template:
	//     metadata:
	//       labels: {app: db}
	//     spec:
	//       containers:
	//       - name: postgres
	//         image: postgres:16
	//       topologySpreadConstraints:
	//       - maxSkew: 1
	//         topologyKey: topology.kubernetes.io/zone
	//         whenUnsatisfiable: DoNotSchedule
	//         labelSelector:
	//           matchLabels:
	//             app: db
	//         nodeTaintsPolicy: Honor
	//       - maxSkew: 1
	//         topologyKey: kubernetes.io/hostname
	//         whenUnsatisfiable: ScheduleAnyway
	//         labelSelector:
	//           matchLabels:
	//             app: db
	//       affinity:
	//         nodeAffinity:
	//           requiredDuringSchedulingIgnoredDuringExecution:
	//             nodeSelectorTerms:
	//             - matchExpressions:
	//               - key: topology.kubernetes.io/zone
	//                 operator: In
	//                 values:
	//                 - sto1
	//                 - sto2
	// ---
	// apiVersion: policy/v1
	// kind: PodDisruptionBudget
	// metadata:
	//   name: db-stretch
	//   namespace: shop
	// spec:
	//   maxUnavailable: 1
	//   selector:
	//     matchLabels:
	//       app: db
	// SPREAD001 warning no spread over topology.kubernetes.io/zone; added one with maxSkew 1, DoNotSchedule and nodeTaintsPolicy Honor
	// SPREAD002 info no spread over kubernetes.io/hostname; added one with maxSkew 1 and ScheduleAnyway
	// SPREAD004 info added a required node affinity: topology.kubernetes.io/zone In [sto1, sto2]
	// SPREAD005 warning replicas 1 raised to 2
	// SPREAD007 warning no PodDisruptionBudget selects the pods; added db-stretch with maxUnavailable 1
}

// Without the stretch.dev/min-replicas opt-in a StatefulSet keeps its
// replicas, and the patcher reports it (SPREAD022): its application may
// not replicate itself. Problem, what lint shows, is the same text as
// Message for a risk.
func ExamplePatchStream_heldStatefulSet() {
	in := []byte(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: postgres
        image: postgres:16
`)
	p := spread.Policy{
		ZoneKey:        "topology.kubernetes.io/zone",
		DataZones:      []string{"sto1", "sto2"},
		MinReplicas:    2,
		SkipAnnotation: spread.AnnotationSkip,
	}
	_, res, err := spread.PatchStream(in, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range res.Findings {
		fixed := ""
		if f.Changed {
			fixed = " (fixed by the patch)"
		}
		fmt.Printf("%s %s %s%s\n", f.ID, f.Severity, f.Problem, fixed)
	}
	// Output:
	// SPREAD001 warning no topologySpreadConstraint on topology.kubernetes.io/zone (fixed by the patch)
	// SPREAD002 info no topologySpreadConstraint on kubernetes.io/hostname (fixed by the patch)
	// SPREAD004 info no required node affinity keeps the pods in the data regions (topology.kubernetes.io/zone In [sto1, sto2]) (fixed by the patch)
	// SPREAD007 warning no PodDisruptionBudget selects the pods (fixed by the patch)
	// SPREAD022 error replicas is unset (1), below the minimum 2, and a StatefulSet is raised only when annotated stretch.dev/min-replicas: on region loss its pod on the lost node hangs Terminating until the region is fenced with the node.kubernetes.io/out-of-service taint, then the StatefulSet recreates it in the surviving region with its replicated RBD volume; if the application replicates itself, annotate it stretch.dev/min-replicas: "2"
}
