// Flux Kustomizations, one per stage of the bundle, each depending on the
// one before: network -> storage operator -> storage -> workloads. Flux
// does not run kustomize plugins, so the bundle is rendered in CI and
// committed; these objects only point Flux at the committed folders.
local s = import 'stretch.libsonnet';

// stages: [{name, path, dependsOn, healthCheckExprs}] in apply order,
// computed by the generator from the folders the other layers wrote.
// healthCheckExprs (CEL, for kinds whose status kstatus cannot read, such
// as Rook's) is null when the stage needs none.
function(model, stages) {
  ['flux/' + st.name + '.yaml']: s.object('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'stretch-' + st.name, 'flux-system') {
    spec: {
      interval: '10m',
      retryInterval: '1m',
      timeout: '15m',
      path: st.path,
      prune: true,
      wait: true,
      sourceRef: { kind: 'GitRepository', name: model.gitops.sourceName },
    } + (if st.dependsOn == null then {} else { dependsOn: [{ name: 'stretch-' + st.dependsOn }] })
    + (if st.healthCheckExprs == null then {} else { healthCheckExprs: st.healthCheckExprs }),
  }
  for st in stages
}
