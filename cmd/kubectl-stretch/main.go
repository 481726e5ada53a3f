// Command kubectl-stretch renders, checks and rehearses clusters stretched
// over two data regions and an arbiter region. It runs on its own or as
// `kubectl stretch` through kubectl's plugin discovery.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/cmd/kubectl-stretch/app"
	"github.com/stretch-dev/kubectl-stretch/internal/reaper"
)

// main runs the command and is the only place that exits.
//
// The first SIGINT or SIGTERM cancels the command's context (the command
// then ends with "interrupted" and app.ExitInterrupted) and sends SIGTERM
// to the children in this process's group, as a Ctrl-C at the terminal
// would: a credential plugin that client-go waits for without a context
// ends, and so does the wait. client-go runs the plugin again for the
// requests still queued, so SIGTERM is sent again every tick until the
// command returns: once interrupted, no child of the group runs for
// long. The second signal ends the process at once,
// whatever the command is doing, after killing every child. On every exit
// the children still alive in this session are killed, so that none is
// left orphaned (see package reaper).
func main() {
	reaper.Adopt()
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(app.Interrupted(sig))
		reaper.Signal(syscall.SIGTERM, reaper.Group)
		tick := time.NewTicker(100 * time.Millisecond)
		for {
			select {
			case <-tick.C:
				reaper.Signal(syscall.SIGTERM, reaper.Group)
			case <-sigs:
				fmt.Fprintln(os.Stderr, "error: interrupted again: stopped at once")
				reaper.Signal(syscall.SIGKILL, reaper.Session)
				os.Exit(app.ExitInterrupted)
			}
		}
	}()
	code := app.Run(ctx, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:])
	reaper.Signal(syscall.SIGKILL, reaper.Session)
	os.Exit(code)
}
