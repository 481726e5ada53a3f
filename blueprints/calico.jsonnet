// Calico's FelixConfiguration "default": WireGuard between every pair of
// nodes, with the tunnel MTU derived from the underlay.
local s = import 'stretch.libsonnet';

function(model) {
  'network/calico/felixconfiguration.yaml':
    // Never pruned (s.keep): Kubespray created it, and deleting it turns
    // WireGuard off silently.
    s.object('crd.projectcalico.org/v1', 'FelixConfiguration', 'default') + s.keep + {
      spec: {
        wireguardEnabled: model.network.wireguard,
      } + (if model.network.wireguard then { wireguardMTU: model.network.mtu } else { vxlanMTU: model.network.mtu }),
    },
}
