package manifest

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/validate"
)

// Options tune loading.
type Options struct {
	// Namespace is given to namespaced objects that have no
	// metadata.namespace. "" means "default".
	Namespace string
	// Stdin is read for the path "-".
	Stdin io.Reader
	// SkipAPIValidation turns off the API server's checks (package
	// validate): objects are only decoded strictly. It exists for tests of
	// the later stages' own defences against input a cluster would refuse;
	// egctl's commands never set it.
	SkipAPIValidation bool
}

// StdinName is the file name recorded for objects read from stdin.
const StdinName = "<stdin>"

// source is one input file.
type source struct {
	name  string
	index int
	data  []byte
}

// Load reads every path (files, directories walked recursively for
// *.yaml, *.yml and *.json in sorted order, or "-" for stdin) and decodes
// all objects into one Set. All problems of all files are reported
// together in one joined error, ordered by file then line; on error the
// returned Set holds whatever decoded cleanly.
func Load(paths []string, opts Options) (*resource.Set, []Warning, error) {
	var srcs []source
	var errs []*Error
	for _, p := range paths {
		if p == "-" {
			if opts.Stdin == nil {
				errs = append(errs, &Error{Origin: resource.Origin{File: StdinName}, Message: "no standard input to read", fileIndex: len(srcs)})
				continue
			}
			data, err := io.ReadAll(opts.Stdin)
			if err != nil {
				errs = append(errs, &Error{Origin: resource.Origin{File: StdinName}, Message: "reading: " + err.Error(), fileIndex: len(srcs)})
				continue
			}
			srcs = append(srcs, source{name: StdinName, index: len(srcs), data: data})
			continue
		}
		files, err := expand(p)
		if err != nil {
			errs = append(errs, &Error{Origin: resource.Origin{File: p}, Message: err.Error(), fileIndex: len(srcs)})
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &Error{Origin: resource.Origin{File: f}, Message: cleanPathError(err), fileIndex: len(srcs)})
				continue
			}
			srcs = append(srcs, source{name: f, index: len(srcs), data: data})
		}
	}
	set, warns, loadErrs := load(srcs, opts)
	errs = append(errs, loadErrs...)
	return set, warns, joinSorted(errs)
}

// LoadBytes decodes one in-memory file named name (the name only appears
// in origins and messages; a ".json" suffix selects JSON).
func LoadBytes(name string, data []byte, opts Options) (*resource.Set, []Warning, error) {
	set, warns, errs := load([]source{{name: name, data: data}}, opts)
	return set, warns, joinSorted(errs)
}

// expand turns one path argument into the files it names.
func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%s", cleanPathError(err))
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	// WalkDir visits entries in lexical order, which keeps output stable.
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s", cleanPathError(err))
	}
	return files, nil
}

// cleanPathError drops the "open <path>:" prefix the caller already shows.
func cleanPathError(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		if os.IsNotExist(pe.Err) {
			return "no such file or directory"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// load decodes all sources. Documents are parsed and decoded in parallel;
// the results are merged in input order so the Set is deterministic.
func load(srcs []source, opts Options) (*resource.Set, []Warning, []*Error) {
	ns := opts.Namespace
	if ns == "" {
		ns = "default"
	}
	newSession := validate.NewSession
	if opts.SkipAPIValidation {
		newSession = func() *validate.Session { return nil }
	}
	var units []*unit
	for i := range srcs {
		units = append(units, split(&srcs[i])...)
	}

	results := make([]unitResult, len(units))
	workers := runtime.GOMAXPROCS(0)
	if workers > len(units) {
		workers = len(units)
	}
	if workers <= 1 {
		sess := newSession()
		for i, u := range units {
			results[i] = u.run(ns, sess)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sess := newSession()
				for i := range next {
					results[i] = units[i].run(ns, sess)
				}
			}()
		}
		for i := range units {
			next <- i
		}
		close(next)
		wg.Wait()
	}

	set := &resource.Set{Origins: make(map[resource.Key]resource.Origin)}
	var warns []Warning
	var errs []*Error
	for i := range results {
		r := &results[i]
		warns = append(warns, r.warns...)
		errs = append(errs, r.errs...)
		for _, o := range r.objs {
			if first, dup := set.Origins[o.key]; dup {
				errs = append(errs, &Error{
					Origin:    o.origin,
					Object:    o.key.String(),
					Message:   "duplicate object (same group, kind, namespace and name, in any version); first defined at " + first.String(),
					fileIndex: o.fileIndex,
				})
				continue
			}
			set.Origins[o.key] = o.origin
			o.info.add(set, o.obj)
		}
	}
	return set, warns, errs
}
