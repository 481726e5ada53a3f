// The Kubespray inventory (YAML, so that node_labels stay a dict) and the
// group variables. Only real Kubespray variable names appear here; the
// generator refuses any other.
local s = import 'stretch.libsonnet';

function(model)
  local nodes = model.nodes;
  local version = std.map(std.parseInt, std.split(model.kubernetes.version, '.'));
  // kube-proxy: nftables is GA from Kubernetes 1.33 and ipvs deprecated in
  // 1.35 (Kubespray's default); iptables before 1.33.
  local proxyMode = if version[0] > 1 || version[1] >= 33 then 'nftables' else 'iptables';
  {
    'kubespray/hosts.yaml': {
      all: {
        hosts: {
          [n.name]: {
            ansible_host: n.sshHost,
            ip: n.ip,
            access_ip: n.ip,
            node_labels: n.labels,
          } + (if std.length(n.taints) > 0 then { node_taints: [s.taintString(t) for t in n.taints] } else {})
          + (if n.etcd then { etcd_member_name: n.name } else {})
          for n in nodes
        },
        children: {
          kube_control_plane: { hosts: s.hostsOf([n for n in nodes if n.controlPlane]) },
          kube_node: { hosts: s.hostsOf([n for n in nodes if n.kubeNode]) },
          etcd: { hosts: s.hostsOf([n for n in nodes if n.etcd]) },
          calico_rr: { hosts: {} },
          k8s_cluster: { children: { kube_control_plane: null, kube_node: null, calico_rr: null } },
        },
      },
    },

    'kubespray/group_vars/all/etcd.yml': {
      etcd_deployment_type: 'host',
      // etcd's tuning guide: heartbeat about one RTT, election at least ten.
      etcd_heartbeat_interval: std.toString(model.etcd.heartbeatIntervalMs),
      etcd_election_timeout: std.toString(model.etcd.electionTimeoutMs),
    },

    'kubespray/group_vars/k8s_cluster/k8s-cluster.yml': {
      cluster_name: 'cluster.local',
      kube_version: model.kubernetes.version,
      kube_network_plugin: 'calico',
      container_manager: 'containerd',
      kube_proxy_mode: proxyMode,
      // drill predicts recoveries with this grace period.
      kube_controller_node_monitor_grace_period: '40s',
      kube_pods_subnet: model.kubernetes.podSubnet,
      kube_service_addresses: model.kubernetes.serviceSubnet,
      // The API endpoint in every API server certificate, and as the server
      // of the admin kubeconfig Kubespray writes with kubeconfig_localhost
      // (roles/kubernetes/client reads kube_apiserver_access_address when
      // loadbalancer_apiserver is not set). kubeconfig_localhost stays off:
      // it writes a cluster-admin credential next to the inventory, in the
      // bundle's Git repository, unless artifacts_dir points elsewhere, so
      // the operator turns both on (docs/DNS.md). loadbalancer_apiserver
      // stays unset: it would switch off the per-node nginx proxy on
      // localhost:6443 and send every kubelet through DNS.
      supplementary_addresses_in_ssl_keys: [model.kubernetes.apiEndpoint],
      kube_apiserver_access_address: model.kubernetes.apiEndpoint,
    },

    'kubespray/group_vars/k8s_cluster/k8s-net-calico.yml': {
      calico_network_backend: 'vxlan',
      calico_vxlan_mode: 'Always',
      calico_ipip_mode: 'Never',
      calico_wireguard_enabled: model.network.wireguard,
      calico_mtu: model.network.mtu,
      calico_veth_mtu: model.network.mtu,
    },
  }
