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

// FuzzJournal: a journal that parses encodes to something that parses to
// the same entries, and whatever the disk holds, the ownership recovered
// from it is a valid manifest (no duplicate, no file below another file);
// nothing panics.
func FuzzJournal(f *testing.F) {
	sum := "0000000000000000000000000000000000000000000000000000000000000000"
	other := "1111111111111111111111111111111111111111111111111111111111111111"
	f.Add([]byte(JournalHeader+"\nold  "+sum+"  swap  swap/node\nnew  "+other+"  swap  swap/node/child.yaml\n"), uint8(3))
	f.Add([]byte(JournalHeader+"\nold  "+sum+"  l  a.yaml\nnew  "+other+"  l  a.yaml\nnew  "+sum+"  l  b/c.yaml\n"), uint8(1))
	f.Add([]byte("old  x\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, disk uint8) {
		j, err := parseJournal("journal", data)
		if err != nil {
			return
		}
		again, err := parseJournal("journal", j.encode())
		if err != nil {
			t.Fatalf("re-parse of an encoded journal: %v", err)
		}
		if !bytes.Equal(again.encode(), j.encode()) {
			t.Fatalf("encode is not stable")
		}
		// The disk: each path holds its new content, its old content or
		// nothing, chosen by the bits of disk; a path below a file holds
		// nothing.
		hashes := map[string]string{}
		for i, e := range append(append([]ManifestEntry{}, j.new...), j.old...) {
			if _, ok := hashes[e.Path]; !ok && disk>>(i%8)&1 == 1 {
				hashes[e.Path] = e.SHA256
			}
		}
		hashOf := func(p string) (string, error) {
			for _, d := range parentDirs(p) {
				if hashes[d] != "" {
					return "", nil // below a file: cannot exist
				}
			}
			return hashes[p], nil
		}
		m, err := recoverOwnership(&Manifest{Entries: j.old}, j, hashOf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest("recovered", m.Encode()); err != nil {
			t.Fatalf("recovered ownership is not a valid manifest: %v", err)
		}
	})
}
