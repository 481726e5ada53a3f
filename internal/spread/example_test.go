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
