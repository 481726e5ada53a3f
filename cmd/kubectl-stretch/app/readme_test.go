package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretch-dev/kubectl-stretch/internal/drill"
)

// readme returns the project's README.md.
func readme(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readmeConsole returns the lines of the README's console block that
// follow the line "$ " + command, up to the block's end or the next "$ "
// line.
func readmeConsole(t *testing.T, command string) []string {
	t.Helper()
	data := readme(t)
	_, rest, ok := strings.Cut(data, "$ "+command+"\n")
	if !ok {
		t.Fatalf("README.md has no console line %q", "$ "+command)
	}
	var lines []string
	for _, line := range strings.Split(rest, "\n") {
		line = strings.TrimSpace(line)
		if line == "```" || strings.HasPrefix(line, "$ ") {
			break
		}
		lines = append(lines, line)
	}
	return lines
}

// TestReadmeValidateExample runs the README's validate example: init's
// topology with sto1-s-0 given sto1-cp-0's address and sto2-cp-0 without
// its etcd role prints exactly the errors the README shows, at the lines
// and columns it shows.
func TestReadmeValidateExample(t *testing.T) {
	want := strings.Join(readmeConsole(t, "kubectl stretch validate -f topology.yaml"), "\n")
	t.Chdir(t.TempDir())
	if code, _, errOut := run(t, "init", "-o", "topology.yaml"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile("topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo := string(data)
	for _, edit := range [][2]string{
		{"{name: sto1-s-0, ip: 10.10.0.30,", "{name: sto1-s-0, ip: 10.10.0.10,"},
		{"{name: sto2-cp-0, ip: 10.20.0.10, publicIP: 203.0.113.20, roles: [control-plane, etcd]}", "{name: sto2-cp-0, ip: 10.20.0.10, publicIP: 203.0.113.20, roles: [control-plane]}"},
	} {
		if strings.Count(topo, edit[0]) != 1 {
			t.Fatalf("init's topology has no single %q", edit[0])
		}
		topo = strings.Replace(topo, edit[0], edit[1], 1)
	}
	if err := os.WriteFile("topology.yaml", []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "validate", "-f", "topology.yaml")
	if code != ExitFailed || strings.TrimSpace(errOut) != want {
		t.Errorf("validate: exit %d, stderr:\n%s\nthe README shows:\n%s", code, errOut, want)
	}
}

// TestReadmeValidateWarning runs validate on the bundled example, whose
// 12 ms between regions warns as the README shows.
func TestReadmeValidateWarning(t *testing.T) {
	data := readme(t)
	var want string
	for _, line := range strings.Split(data, "\n") {
		if strings.HasPrefix(line, "warning: topology.yaml:") && strings.Contains(line, "interRegionRTTms") {
			want = line
		}
	}
	if want == "" {
		t.Fatal("README.md shows no interRegionRTTms warning")
	}
	dir, err := filepath.Abs(filepath.Dir(example))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, _, errOut := run(t, "validate", "-f", "topology.yaml")
	if code != 0 || !strings.Contains(errOut, want+"\n") {
		t.Errorf("validate of the bundled example: exit %d, stderr:\n%s\nwant the README's line:\n%s", code, errOut, want)
	}
}

// planRecoverySeconds is the recovery drill's plan predicts for a
// Deployment without tolerations of its own on a cluster installed from
// the bundle.
const planRecoverySeconds = drill.DefaultTolerationSeconds + int(drill.DefaultNodeMonitorGracePeriod/time.Second) + drill.SchedulingSeconds

// TestReadmeDrillPlan checks the walk-through's comment on drill's plan
// against drill's timing (TestWalkthrough checks the table says it too).
func TestReadmeDrillPlan(t *testing.T) {
	data := readme(t)
	const line = "kubectl stretch drill -f topology.yaml --lose sto1 "
	_, rest, ok := strings.Cut(data, "\n"+line)
	if !ok {
		t.Fatalf("README.md has no line %q", line)
	}
	rest, _, _ = strings.Cut(rest, "\n")
	if want := fmt.Sprintf("# plan: storefront recovers after %d s,", planRecoverySeconds); !strings.Contains(rest, want) {
		t.Errorf("README.md: %q: the comment should say %q", line+rest, want)
	}
}
