package bundle

import (
	"bytes"
	"testing"
)

// FuzzParseManifest: a manifest that parses encodes to something that
// parses to the same entries; nothing panics.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(ManifestHeader + "\n" + "0000000000000000000000000000000000000000000000000000000000000000  rook  storage/rook/a.yaml\n"))
	f.Add([]byte(ManifestHeader + "\n"))
	f.Add([]byte("garbage\n  \x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest("manifest", data)
		if err != nil {
			return
		}
		again, err := ParseManifest("manifest", m.Encode())
		if err != nil {
			t.Fatalf("re-parse of an encoded manifest: %v", err)
		}
		if !bytes.Equal(again.Encode(), m.Encode()) {
			t.Fatalf("encode is not stable")
		}
	})
}
