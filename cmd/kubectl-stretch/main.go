// Command kubectl-stretch renders, checks and rehearses clusters stretched
// over two data regions and an arbiter region. It runs on its own or as
// `kubectl stretch` through kubectl's plugin discovery.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/cmd/kubectl-stretch/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}
