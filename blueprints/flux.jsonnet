// Flux Kustomizations, one per stage of the bundle, each depending on the
// one before: access -> network -> storage operator -> storage ->
// workloads (the layer table's stages, internal/layout). Flux
// does not run kustomize plugins, so the bundle is rendered in CI and
// committed; these objects only point Flux at the committed folders.
local s = import 'stretch.libsonnet';

// stages: [{name, object, file, path, dependsOn, dependsOnObject,
// healthCheckExprs}] in apply order, computed by the generator from the
// layer table and the folders the other layers wrote: object names the
// stage's Kustomization and file is its bundle file; dependsOnObject names
// the Kustomization of the stage before (dependsOn), null for the first.
// healthCheckExprs (CEL, for kinds whose status kstatus cannot read, such
// as Rook's) is null when the stage needs none.
function(model, stages) {
  [st.file]: s.object('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', st.object, 'flux-system') {
    spec: {
      interval: '10m',
      retryInterval: '1m',
      timeout: '15m',
      path: st.path,
      prune: true,
      wait: true,
      sourceRef: { kind: 'GitRepository', name: model.gitops.sourceName },
    } + (if st.dependsOn == null then {} else { dependsOn: [{ name: st.dependsOnObject }] })
    + (if st.healthCheckExprs == null then {} else { healthCheckExprs: st.healthCheckExprs }),
  }
  for st in stages
}
