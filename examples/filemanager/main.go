package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
)

func main() {
	// SIGINT and SIGTERM cancel ctx: a fetch saves its state and exits 1.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const prog = "filemanager"

func program() *cli.Program {
	return &cli.Program{
		Name:  prog,
		About: "filemanager shares files and directories over a dhtkit DHT: chunked, verified, resumable.",
		Hint: "The network is any set of 'dhtnode serve' processes; every command joins it as a client\n" +
			"through --bootstrap. Start with 'filemanager share --bootstrap ADDR FILE', then\n" +
			"'filemanager fetch --bootstrap ADDR ID' anywhere else.",
		Commands: []cli.Command{
			{Name: "share", Summary: "store files and directories and print their IDs", Run: runShare},
			{Name: "fetch", Summary: "write the file or directory an ID (or a named share) names", Run: runFetch},
			{Name: "ls", Summary: "print what an ID names: names, sizes, chunk counts", Run: runLs},
			{Name: "publish", Summary: "sign a list of IDs under a name, as a stable address", Run: runPublish},
		},
	}
}

// run is the whole program: it returns the exit code, 0 on success, 1 on
// failure and 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Run(ctx, args, strings.NewReader(""), stdout, stderr) // no command reads stdin
}
