// Command genroutes writes the benchmark workload (see package
// test/bench/gen) to stdout:
//
//	genroutes -routes 10000 > routes.yaml
//	genroutes -routes 10000 -envoyproxy > routes-ep.yaml
//	genroutes -routes 10000 -security > routes-sp.yaml
//	genroutes -routes 10000 -btp route > routes-btp.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/egctl/egctl/test/bench/gen"
)

func main() {
	routes := flag.Int("routes", 1000, "number of HTTPRoutes to generate")
	ctp := flag.String("ctp", "", `add a ClientTrafficPolicy attached to the Gateway: "listener" (listener-side settings) or "clusters" (also HTTP/1 options on every backend cluster)`)
	security := flag.Bool("security", false, "add a SecurityPolicy (JWT + authorization) per namespace, selecting every HTTPRoute there")
	btp := flag.String("btp", "", `add BackendTrafficPolicies: "route" (one per HTTPRoute) or "gateway" (one on the Gateway)`)
	envoyProxy := flag.Bool("envoyproxy", false, "attach an EnvoyProxy (gen.EnvoyProxy) to the GatewayClass")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "genroutes: unexpected arguments %q\nusage: genroutes -routes N > routes.yaml\n", flag.Args())
		os.Exit(2)
	}
	write := gen.Write
	if *envoyProxy {
		write = gen.WriteWithEnvoyProxy
	}
	if err := write(os.Stdout, *routes); err != nil {
		fmt.Fprintf(os.Stderr, "genroutes: %v\n", err)
		os.Exit(1)
	}
	switch *ctp {
	case "":
	case "listener", "clusters":
		if err := gen.WriteClientTrafficPolicy(os.Stdout, *ctp == "clusters"); err != nil {
			fmt.Fprintf(os.Stderr, "genroutes: %v\n", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "genroutes: -ctp %q: want listener or clusters\n", *ctp)
		os.Exit(2)
	}
	switch *btp {
	case "":
	case "route", "gateway":
		if err := gen.WriteBackendTrafficPolicies(os.Stdout, *routes, *btp == "route"); err != nil {
			fmt.Fprintf(os.Stderr, "genroutes: %v\n", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "genroutes: -btp %q: want route or gateway\n", *btp)
		os.Exit(2)
	}
	if *security {
		if err := gen.WriteSecurityPolicies(os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "genroutes: %v\n", err)
			os.Exit(1)
		}
	}
}
