package manifest

import (
	"path"
	"path/filepath"
	"strings"
)

// excluded reports whether a file or directory found under root matches
// one of the --exclude globs. A glob without "/" matches the base name
// at any depth ("values.yaml", "*.tmpl.yaml", "charts"); a glob with "/"
// matches the path relative to root, or its leading directories
// ("templates/*", "overlays/dev"). Globs are path.Match patterns: "*"
// does not cross "/".
func excluded(globs []string, root, p string) bool {
	if len(globs) == 0 {
		return false
	}
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	base := path.Base(rel)
	for _, g := range globs {
		g = strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(g), "./"), "/")
		if !strings.Contains(g, "/") {
			if ok, _ := path.Match(g, base); ok {
				return true
			}
			continue
		}
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// ValidateGlobs checks --exclude patterns before anything is read.
func ValidateGlobs(globs []string) error {
	for _, g := range globs {
		if _, err := path.Match(filepath.ToSlash(g), ""); err != nil {
			return &Error{Message: "--exclude " + g + ": " + err.Error()}
		}
	}
	return nil
}
