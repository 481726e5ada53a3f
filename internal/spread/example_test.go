package spread_test

import (
	"fmt"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

func ExamplePatchStream() {
	in := []byte(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db # the orders database
  namespace: shop
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
	//   name: db # the orders database
	//   namespace: shop
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

// In lint mode the findings describe the input as written: Problem says
// what is wrong whatever the patch did, and Changed says whether the patch
// fixes it. A StatefulSet that runs one replica as written is an error
// (SPREAD010) even though the patch raises its replicas.
func ExamplePatchStream_lint() {
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
		Lint:           true,
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
	// SPREAD005 warning replicas is unset (1), below the minimum 2 (fixed by the patch)
	// SPREAD007 warning no PodDisruptionBudget selects the pods (fixed by the patch)
	// SPREAD010 error runs one replica: its pod is not recreated while its region is lost (fixed by the patch)
}
