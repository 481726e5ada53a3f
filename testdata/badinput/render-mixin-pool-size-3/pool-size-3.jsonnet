// A mixin that breaks stretch mode: the render must refuse it.
{
  rook+: {
    'storage/rook/cluster/pool-replicapool.yaml'+: {
      spec+: { replicated+: { size: 3 } },
    },
  },
}
