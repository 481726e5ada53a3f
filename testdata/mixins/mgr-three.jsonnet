// Merges over the rook layer: three mgrs instead of two, and a dashboard
// without TLS. A mixin may also be a function of the model.
function(model) {
  rook+: {
    'storage/rook/cluster/cephcluster.yaml'+: {
      spec+: {
        mgr+: { count: 3 },
        dashboard+: { ssl: false },
      },
    },
  },
}
