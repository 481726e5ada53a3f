// Health-checked DNS records for a DNS service (not cluster objects): the
// API endpoint answers with the control planes' addresses, each only while
// https://ADDRESS:6443/readyz answers, and the ingress host with the data
// regions' workers (where the ingress controller runs: the spread keeps
// workloads off the arbiter and the storage nodes), each only while the
// ingress's health path answers. A node's address is its publicIP, or its
// ip when it has none. The zone-file snippet network/dns/records.zone is
// written from these records after they are checked (TTL at most 60 s).
function(model)
  local ttl = 60;
  // An endpoint given as an IP address needs no record.
  local isIP(s) = std.length(std.findSubstr(':', s)) > 0 ||
                  std.all([std.member('0123456789.', c) for c in std.stringChars(s)]);
  local address(n) = if n.publicIP != '' then n.publicIP else n.ip;
  local target(n) = { address: address(n), node: n.name, region: n.region };
  local api = model.kubernetes.apiEndpoint;
  local apiRecords = if isIP(api) then [] else [{
    name: api,
    purpose: 'api',
    ttl: ttl,
    targets: [target(n) for n in model.nodes if n.controlPlane],
    healthCheck: { protocol: 'HTTPS', port: 6443, path: '/readyz' },
  }];
  local ingressRecords = if model.ingress == null || isIP(model.ingress.host) then [] else [{
    name: model.ingress.host,
    purpose: 'ingress',
    ttl: ttl,
    targets: [target(n) for n in model.nodes if n.worker && !n.arbiter],
    healthCheck: { protocol: 'HTTPS', port: 443, path: model.ingress.healthPath, host: model.ingress.host },
  }];
  {
    'network/dns/records.yaml': {
      apiVersion: 'stretch.dev/v1alpha1',
      kind: 'DNSRecords',
      records: apiRecords + ingressRecords,
    },
  }
