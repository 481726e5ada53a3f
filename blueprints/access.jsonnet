// Read-only access for `kubectl stretch verify` and `drill`: a ClusterRole
// that can list exactly the kinds they read in their one snapshot of the
// cluster, bound to the group stretch:verifiers. Give a CI job or an
// operator a credential in that group (a client certificate with
// O=stretch:verifiers, or an OIDC group) and they need nothing else. The list is kept equal to
// internal/check's kinds by a test.
local s = import 'stretch.libsonnet';

local name = 'stretch-verify';
local group = 'stretch:verifiers';
local read = ['get', 'list', 'watch'];

// Every kind verify and drill list, by API group (core is ''). Sorted, one rule per
// group.
local kinds = {
  '': ['nodes', 'persistentvolumeclaims', 'persistentvolumes', 'pods', 'services'],
  apps: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'],
  autoscaling: ['horizontalpodautoscalers'],
  'ceph.rook.io': ['cephblockpools', 'cephclusters'],
  'crd.projectcalico.org': ['felixconfigurations'],
  policy: ['poddisruptionbudgets'],
  'storage.k8s.io': ['csidrivers', 'storageclasses'],
};

function(model) {
  ['access/clusterrole-' + name + '.yaml']: s.object('rbac.authorization.k8s.io/v1', 'ClusterRole', name) {
    metadata+: { labels: { 'app.kubernetes.io/part-of': 'kubectl-stretch' } },
    rules: [
      { apiGroups: [g], resources: kinds[g], verbs: read }
      for g in std.objectFields(kinds)
    ],
  },
  ['access/clusterrolebinding-' + name + '.yaml']: s.object('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', name) {
    metadata+: { labels: { 'app.kubernetes.io/part-of': 'kubectl-stretch' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  },
}
