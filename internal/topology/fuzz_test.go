package topology

import (
	"errors"
	"os"
	"testing"
)

// FuzzDecode checks that no input makes Decode, Default, Validate or
// NewModel panic, and that Decode returns either a File or Errors.
func FuzzDecode(f *testing.F) {
	f.Add(Example())
	seeds := append(corpus(f, "valid"), corpus(f, "invalid")...)
	seeds = append(seeds, "../../testdata/topology.yaml")
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode("fuzz.yaml", data)
		if err != nil {
			var errs Errors
			if file != nil || !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Decode = %v, %T %v; want no File and Errors", file, err, err)
			}
			_ = err.Error()
			return
		}
		if file == nil || file.Topology == nil {
			t.Fatal("Decode returned neither a File nor an error")
		}
		Default(file.Topology)
		if err := file.Validate(); err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Validate = %T %v; want Errors", err, err)
			}
			_ = err.Error()
			return
		}
		NewModel(file.Topology)
	})
}
