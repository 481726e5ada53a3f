// Package procstat runs a process and measures it as the benchmarks report
// it: wall time and peak resident memory. The peak is VmHWM from
// /proc/<pid>/status, sampled every 2 ms until the process exits, because
// the rusage of a child started with vfork reports the parent's RSS at the
// fork instead. Linux only, as the benchmarks are.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Run runs cmd and returns its wall time and peak RSS in bytes. When
// cmd.Stderr is unset, what the process writes there is kept for the
// error of a failed run.
func Run(cmd *exec.Cmd) (time.Duration, int64, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var hwm int64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			hwm = max(hwm, PeakRSS(status))
			select {
			case <-done:
				peak <- hwm
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	rss := <-peak
	if err != nil {
		return wall, rss, fmt.Errorf("%s: %w\n%s", cmd.Path, err, stderr.String())
	}
	return wall, rss, nil
}

// PeakRSS reads the peak resident set size, in bytes, from a
// /proc/<pid>/status file, or 0 when it cannot.
func PeakRSS(statusFile string) int64 {
	data, err := os.ReadFile(statusFile)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
