package kubespray

import "testing"

func TestProxyModeFor(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"1.30.0", ProxyModeIPTables},
		{"1.32.9", ProxyModeIPTables},
		{"1.33.0", ProxyModeNFTables},
		{"1.35.4", ProxyModeNFTables},
		{"v1.36.1", ProxyModeNFTables},
		{"2.0.0", ProxyModeNFTables},
		{"0.9.0", ProxyModeIPTables},
		{"latest", ProxyModeNFTables},
	} {
		if got := ProxyModeFor(tc.version); got != tc.want {
			t.Errorf("ProxyModeFor(%q) = %s, want %s", tc.version, got, tc.want)
		}
	}
}
