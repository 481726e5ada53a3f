// A runtime error inside a layer: the render names the mixin's line.
{
  rook+: {
    "storage/rook/cluster/cephcluster.yaml"+: { spec+: { mon+: { count: std.nope(1) } } },
  },
}
