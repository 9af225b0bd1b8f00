// Command gencrds writes validate/crds/*.json from the CRDs in the module
// cache (see package crdgen). Run it with `go generate ./validate/`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/egctl/egctl/validate/internal/crdgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencrds:", err)
		os.Exit(1)
	}
}

func run() error {
	files, err := crdgen.Generate()
	if err != nil {
		return err
	}
	dir := "crds"
	old, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, p := range old {
		if _, keep := files[filepath.Base(p)]; !keep {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
