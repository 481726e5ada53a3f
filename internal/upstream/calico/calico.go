// Package calico holds Calico's FelixConfiguration (crd.projectcalico.org/v1)
// with the fields a stretched cluster sets or checks. Field names follow
// calico v3.31 api/pkg/apis/projectcalico/v3/felixconfig.go.
package calico

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion is the storage API group Kubespray's Calico serves.
const APIVersion = "crd.projectcalico.org/v1"

// FelixConfiguration configures Felix, Calico's per-node agent.
type FelixConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              FelixConfigurationSpec `json:"spec"`
}

// FelixConfigurationSpec is FelixConfiguration.spec.
type FelixConfigurationSpec struct {
	WireguardEnabled                  *bool  `json:"wireguardEnabled,omitempty"`
	WireguardEnabledV6                *bool  `json:"wireguardEnabledV6,omitempty"`
	WireguardListeningPort            *int   `json:"wireguardListeningPort,omitempty"`
	WireguardListeningPortV6          *int   `json:"wireguardListeningPortV6,omitempty"`
	WireguardMTU                      *int   `json:"wireguardMTU,omitempty"`
	WireguardMTUV6                    *int   `json:"wireguardMTUV6,omitempty"`
	WireguardHostEncryptionEnabled    *bool  `json:"wireguardHostEncryptionEnabled,omitempty"`
	WireguardRoutingRulePriority      *int   `json:"wireguardRoutingRulePriority,omitempty"`
	WireguardInterfaceName            string `json:"wireguardInterfaceName,omitempty"`
	WireguardInterfaceNameV6          string `json:"wireguardInterfaceNameV6,omitempty"`
	WireguardKeepAlive                string `json:"wireguardKeepAlive,omitempty"`
	WireguardThreadingEnabled         *bool  `json:"wireguardThreadingEnabled,omitempty"`
	PrometheusWireGuardMetricsEnabled *bool  `json:"prometheusWireGuardMetricsEnabled,omitempty"`
	VXLANEnabled                      *bool  `json:"vxlanEnabled,omitempty"`
	VXLANMTU                          *int   `json:"vxlanMTU,omitempty"`
	IPIPEnabled                       *bool  `json:"ipipEnabled,omitempty"`
	IPIPMTU                           *int   `json:"ipipMTU,omitempty"`
	LogSeverityScreen                 string `json:"logSeverityScreen,omitempty"`
}

// Annotations Calico writes on a core/v1 Node in Kubernetes datastore mode
// (calico libcalico-go/lib/backend/k8s/resources/node.go). The simulated
// Calico writes them and verify reads them.
const (
	// AnnotationWireguardPublicKey is the node's WireGuard public key;
	// Felix removes it when WireGuard is off or unsupported.
	AnnotationWireguardPublicKey = "projectcalico.org/WireguardPublicKey"
	// AnnotationIPv4WireguardInterfaceAddr is the address of wireguard.cali.
	AnnotationIPv4WireguardInterfaceAddr = "projectcalico.org/IPv4WireguardInterfaceAddr"
	// AnnotationIPv4Address is the node address Calico detected, with its
	// prefix length: the WireGuard endpoint.
	AnnotationIPv4Address = "projectcalico.org/IPv4Address"
)
