package manifest

import (
	"errors"
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
	// MaxInputBytes bounds the total size of what Load reads; 0 means
	// DefaultMaxInputBytes.
	MaxInputBytes int64
	// Cache, when set, skips decoding the files whose bytes have not
	// changed since the last Load with the same Cache (see Cache).
	Cache *Cache
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
	limit := opts.MaxInputBytes
	if limit <= 0 {
		limit = DefaultMaxInputBytes
	}
	b := &budget{left: limit, limit: limit}
	fail := func(file, msg string) {
		errs = append(errs, &Error{Origin: resource.Origin{File: file}, Message: msg, fileIndex: len(srcs)})
	}
	add := func(name string, data []byte, err error) {
		switch {
		case errors.Is(err, errTooLarge):
			fail(name, b.tooLarge())
			b.left = -1
		case err != nil:
			fail(name, "reading: "+cleanPathError(err))
		default:
			if data, err = decodeText(data); err != nil {
				errs = append(errs, textErr(name, len(srcs), err))
				return
			}
			srcs = append(srcs, source{name: name, index: len(srcs), data: data})
		}
	}
	for _, p := range paths {
		if b.left < 0 {
			break
		}
		if p == "-" {
			if opts.Stdin == nil {
				fail(StdinName, "no standard input to read")
				continue
			}
			data, err := b.read(opts.Stdin, -1)
			add(StdinName, data, err)
			continue
		}
		files, err := expand(p)
		if err != nil {
			fail(p, err.Error())
			continue
		}
		for _, f := range files {
			data, err := b.readFile(f)
			add(f, data, err)
			if b.left < 0 || errors.Is(err, errTooLarge) {
				// Nothing more is read: the run fails anyway, and
				// reading on would only take time.
				b.left = -1
				break
			}
		}
	}
	if b.left < 0 {
		// Over the limit: decoding what was read would take time and
		// memory for an input that cannot be used.
		return &resource.Set{Origins: map[resource.Key]resource.Origin{}}, nil, joinSorted(errs)
	}
	set, warns, loadErrs := load(srcs, opts)
	errs = append(errs, loadErrs...)
	return set, warns, joinSorted(errs)
}

// LoadBytes decodes one in-memory file named name (the name only appears
// in origins and messages; a ".json" suffix selects JSON).
func LoadBytes(name string, data []byte, opts Options) (*resource.Set, []Warning, error) {
	data, err := decodeText(data)
	if err != nil {
		return &resource.Set{Origins: map[resource.Key]resource.Origin{}}, nil, joinSorted([]*Error{textErr(name, 0, err)})
	}
	set, warns, errs := load([]source{{name: name, data: data}}, opts)
	return set, warns, joinSorted(errs)
}

func textErr(name string, index int, err error) *Error {
	e := &Error{Origin: resource.Origin{File: name}, Message: err.Error(), fileIndex: index}
	var te *textError
	if errors.As(err, &te) {
		e.Origin.Line = te.line
	}
	return e
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
	run := opts.Cache.begin(len(srcs), ns, opts.SkipAPIValidation)
	// bySrc[i] are the results of srcs[i], one per unit, cached or decoded.
	bySrc := make([][]unitResult, len(srcs))
	var units []*unit
	for i := range srcs {
		if res, ok := run.lookup(&srcs[i]); ok {
			bySrc[i] = res
			continue
		}
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
	// Units are in source order: hand each source its run of them.
	for i := 0; i < len(units); {
		j := i + 1
		for j < len(units) && units[j].src == units[i].src {
			j++
		}
		idx := units[i].src.index
		bySrc[idx] = results[i:j:j]
		run.remember(units[i].src, bySrc[idx])
		i = j
	}
	run.store()

	set := &resource.Set{Origins: make(map[resource.Key]resource.Origin)}
	var warns []Warning
	var errs []*Error
	for _, rs := range bySrc {
		for i := range rs {
			r := &rs[i]
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
	}
	return set, warns, errs
}
