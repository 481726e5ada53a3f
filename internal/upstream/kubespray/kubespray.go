// Package kubespray holds the shape of a Kubespray YAML inventory and the
// group variables the bundle writes. Only real Kubespray variable names
// have a field here (roles/kubespray_defaults, docs/ansible/vars.md of
// Kubespray v2.31); a mixin that adds any other name fails the render.
package kubespray

// Group names Kubespray knows.
const (
	GroupControlPlane = "kube_control_plane"
	GroupNode         = "kube_node"
	GroupEtcd         = "etcd"
	GroupCalicoRR     = "calico_rr"
	GroupCluster      = "k8s_cluster"
)

// Inventory is hosts.yaml.
type Inventory struct {
	All Group `json:"all"`
}

// Group is an Ansible group. Members of Hosts and Children map to null.
type Group struct {
	Hosts    map[string]*Host  `json:"hosts,omitempty"`
	Children map[string]*Group `json:"children,omitempty"`
}

// Host is a host and its variables.
type Host struct {
	AnsibleHost    string            `json:"ansible_host,omitempty"`
	AnsibleUser    string            `json:"ansible_user,omitempty"`
	IP             string            `json:"ip,omitempty"`
	AccessIP       string            `json:"access_ip,omitempty"`
	IP6            string            `json:"ip6,omitempty"`
	AccessIP6      string            `json:"access_ip6,omitempty"`
	EtcdMemberName string            `json:"etcd_member_name,omitempty"`
	NodeLabels     map[string]string `json:"node_labels,omitempty"`
	NodeTaints     []string          `json:"node_taints,omitempty"`
}

// EtcdVars is group_vars/all/etcd.yml.
type EtcdVars struct {
	EtcdDeploymentType    string `json:"etcd_deployment_type,omitempty"`
	EtcdHeartbeatInterval string `json:"etcd_heartbeat_interval"`
	EtcdElectionTimeout   string `json:"etcd_election_timeout"`
	EtcdMetricsPort       *int   `json:"etcd_metrics_port,omitempty"`
	EtcdQuotaBackendBytes string `json:"etcd_quota_backend_bytes,omitempty"`
}

// ClusterVars is group_vars/k8s_cluster/k8s-cluster.yml.
type ClusterVars struct {
	ClusterName                              string   `json:"cluster_name,omitempty"`
	KubeVersion                              string   `json:"kube_version"`
	KubeNetworkPlugin                        string   `json:"kube_network_plugin"`
	ContainerManager                         string   `json:"container_manager,omitempty"`
	KubeProxyMode                            string   `json:"kube_proxy_mode,omitempty"`
	KubeProxyStrictARP                       *bool    `json:"kube_proxy_strict_arp,omitempty"`
	KubePodsSubnet                           string   `json:"kube_pods_subnet"`
	KubeServiceAddresses                     string   `json:"kube_service_addresses"`
	KubeNetworkNodePrefix                    *int     `json:"kube_network_node_prefix,omitempty"`
	SupplementaryAddressesInSSLKeys          []string `json:"supplementary_addresses_in_ssl_keys,omitempty"`
	KubeAPIServerAccessAddress               string   `json:"kube_apiserver_access_address,omitempty"`
	KubeconfigLocalhost                      *bool    `json:"kubeconfig_localhost,omitempty"`
	KubeconfigLocalhostAnsibleHost           *bool    `json:"kubeconfig_localhost_ansible_host,omitempty"`
	LoadbalancerAPIServerLocalhost           *bool    `json:"loadbalancer_apiserver_localhost,omitempty"`
	KubeAPIServerPort                        *int     `json:"kube_apiserver_port,omitempty"`
	KubeletStatusUpdateFrequency             string   `json:"kubelet_status_update_frequency,omitempty"`
	KubeControllerNodeMonitorGracePeriod     string   `json:"kube_controller_node_monitor_grace_period,omitempty"`
	KubeControllerNodeMonitorPeriod          string   `json:"kube_controller_node_monitor_period,omitempty"`
	KubeAPIServerPodEvictionNotReadyTimeout  *int     `json:"kube_apiserver_pod_eviction_not_ready_timeout_seconds,omitempty"`
	KubeAPIServerPodEvictionUnreachableTmout *int     `json:"kube_apiserver_pod_eviction_unreachable_timeout_seconds,omitempty"`
	AutoRenewCertificates                    *bool    `json:"auto_renew_certificates,omitempty"`
	DNSMode                                  string   `json:"dns_mode,omitempty"`
	EnableNodelocaldns                       *bool    `json:"enable_nodelocaldns,omitempty"`
}

// CalicoVars is group_vars/k8s_cluster/k8s-net-calico.yml.
type CalicoVars struct {
	CalicoNetworkBackend                string            `json:"calico_network_backend"`
	CalicoVXLANMode                     string            `json:"calico_vxlan_mode,omitempty"`
	CalicoIPIPMode                      string            `json:"calico_ipip_mode,omitempty"`
	CalicoWireguardEnabled              bool              `json:"calico_wireguard_enabled"`
	CalicoMTU                           *int              `json:"calico_mtu,omitempty"`
	CalicoVethMTU                       *int              `json:"calico_veth_mtu,omitempty"`
	CalicoPoolBlocksize                 *int              `json:"calico_pool_blocksize,omitempty"`
	CalicoIPAutoMethod                  string            `json:"calico_ip_auto_method,omitempty"`
	CalicoFeatureDetectOverride         string            `json:"calico_feature_detect_override,omitempty"`
	CalicoNodeExtraEnvs                 map[string]string `json:"calico_node_extra_envs,omitempty"`
	TyphaEnabled                        *bool             `json:"typha_enabled,omitempty"`
	CalicoFelixPrometheusMetricsEnabled *bool             `json:"calico_felix_prometheusmetricsenabled,omitempty"`
}
