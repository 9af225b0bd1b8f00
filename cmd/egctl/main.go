// Command egctl compiles Gateway API manifests into Envoy configuration and
// inspects running Envoys. See docs/ for each command.
package main

import (
	"os"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/rootcmd"
)

func main() {
	os.Exit(rootcmd.Execute(cli.System(), os.Args[1:]))
}
