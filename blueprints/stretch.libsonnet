// Helpers shared by the layer blueprints. Every value they need comes from
// the model; nothing here holds a fact of its own.
{
  // object returns the identity of a Kubernetes object.
  object(apiVersion, kind, name, namespace=null):: {
    apiVersion: apiVersion,
    kind: kind,
    metadata: { name: name } + (if namespace == null then {} else { namespace: namespace }),
  },

  // keep marks an object that Flux must never prune: losing it destroys
  // data or security (kustomize-controller skips objects annotated
  // kustomize.toolkit.fluxcd.io/prune: disabled when it garbage-collects).
  keep:: { metadata+: { annotations+: { 'kustomize.toolkit.fluxcd.io/prune': 'disabled' } } },

  // taintString renders a taint as Kubespray's node_taints and kubectl write it.
  taintString(t):: t.key + (if t.value == '' then '' else '=' + t.value) + ':' + t.effect,

  // tolerations turns taints into the tolerations that match them exactly.
  tolerations(taints):: [
    { key: t.key, operator: 'Exists', effect: t.effect }
    for t in taints
  ],

  // requireIn is a required node affinity: every key in terms must have
  // one of its values.
  requireIn(terms):: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{
        matchExpressions: [
          { key: k, operator: 'In', values: terms[k] }
          for k in std.objectFields(terms)
        ],
      }],
    },
  },

  // hostsOf is an Ansible group's host list: names mapped to null.
  hostsOf(nodes):: { [n.name]: null for n in nodes },
}
