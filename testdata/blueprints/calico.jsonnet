// Replaces the embedded calico blueprint: WireGuard plus threaded NAPI
// (calico#9223) and a persistent keep-alive.
local s = import 'stretch.libsonnet';

function(model) {
  'network/calico/felixconfiguration.yaml':
    s.object('crd.projectcalico.org/v1', 'FelixConfiguration', 'default') + s.keep + {
      spec: {
        wireguardEnabled: model.network.wireguard,
        wireguardMTU: model.network.mtu,
        wireguardThreadingEnabled: true,
        wireguardKeepAlive: '25s',
      },
    },
}
