package sim

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
)

// UserConfig returns a client configuration for user, a member of groups,
// authenticated by a client certificate that the cluster's CA signs (the
// API server reads the certificate's CN as the user name and its O fields
// as the groups). Unlike RESTConfig, it has no privileges of its own: RBAC
// grants it what the cluster's roles bind to the user or its groups, which
// lets tests check that a role is enough.
func (c *ControlPlane) UserConfig(user string, groups ...string) (*rest.Config, error) {
	if user == "" {
		return nil, errors.New("user config: a user name is required")
	}
	if c.ca == nil || c.restConfig == nil {
		return nil, errors.New("user config: the control plane has no certificate authority (not started)")
	}
	kp, err := c.ca.client(user, groups...)
	if err != nil {
		return nil, fmt.Errorf("user config for %s: %w", user, err)
	}
	cfg := rest.CopyConfig(c.restConfig)
	cfg.CertData, cfg.KeyData = kp.certPEM, kp.keyPEM
	cfg.CertFile, cfg.KeyFile = "", ""
	cfg.BearerToken, cfg.BearerTokenFile = "", ""
	return cfg, nil
}
