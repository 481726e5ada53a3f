// A syntax error: the render names the mixin, line and column.
{ rook+: { x: } }
