package procstat

import (
	"os/exec"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	// sh holds a 16 MiB string, so its peak RSS must be at least that.
	cmd := exec.Command("sh", "-c", `x=$(head -c 16777216 /dev/zero | tr '\0' a); sleep 0.05; echo ${#x}`)
	var out strings.Builder
	cmd.Stdout = &out
	wall, rss, err := Run(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != "16777216" || wall <= 0 || rss < 16<<20 {
		t.Errorf("output %q, wall %v, peak RSS %d: want 16777216, a positive time and at least 16 MiB", out.String(), wall, rss)
	}
	_, _, err = Run(exec.Command("sh", "-c", "echo broken >&2; exit 3"))
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a failed run: %v, want its exit status and standard error", err)
	}
}
