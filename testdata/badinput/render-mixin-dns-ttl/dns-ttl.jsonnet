// A mixin that raises the API record's TTL past 60 s and names a node with
// a zone-file directive: the render must refuse both, naming the fields.
{
  dns+: {
    'network/dns/records.yaml'+: {
      records: [
        super.records[0] { ttl: 3600, targets: [super.targets[0] { node: 'x\n$INCLUDE /etc/passwd' }] + super.targets[1:] },
      ] + super.records[1:],
    },
  },
}
