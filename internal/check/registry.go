package check

import "slices"

// Checks returns the registry: every check, by layer, in the order verify
// runs and reports them. The slice is new on every call.
func Checks() []Check {
	return slices.Concat(
		nodeChecks(),
		controlPlaneChecks(),
		networkChecks(),
		edgeChecks(),
		firewallChecks(),
		storageChecks(),
		workloadChecks(),
		capacityChecks(),
	)
}
