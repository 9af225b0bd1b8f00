package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	egres "github.com/egctl/egctl/resource"
)

// kustomizeBuild builds the kustomization in dir in-process, as
// `kubectl kustomize DIR` does (same library, same defaults: no plugins,
// no exec functions, files only from within the kustomization's tree),
// and returns the output as one source whose origins point back at the
// files the objects were written in.
//
// Kustomize rewrites objects (namespace, name prefixes, patches), so a
// line inside an object cannot be mapped back; an object's problems are
// reported at the start of its document in the file that declares it.
func kustomizeBuild(dir string, b *budget, index int) (*source, *Error) {
	fail := func(msg string) *Error {
		return &Error{Origin: egres.Origin{File: dir}, Message: msg, fileIndex: index}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fail(err.Error())
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fail(cleanPathError(err))
	} else if !fi.IsDir() {
		return nil, fail("-k wants a directory holding a kustomization.yaml")
	}
	fsys := &originFS{FileSystem: filesys.MakeFsOnDisk(), root: abs}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, abs)
	if err != nil {
		return nil, fail("kustomize build: " + err.Error())
	}
	var out bytes.Buffer
	var docs []builtDoc
	line := 1
	for _, r := range m.Resources() {
		o := kustomizeOrigin(dir, r)
		if err := r.SetOrigin(nil); err != nil {
			return nil, fail("kustomize build: " + err.Error())
		}
		y, err := r.AsYAML()
		if err != nil {
			return nil, fail("kustomize build: " + err.Error())
		}
		if int64(out.Len()+len(y)) > b.left {
			b.left = -1
			return nil, fail(b.tooLarge())
		}
		out.WriteString("---\n")
		line++
		docs = append(docs, builtDoc{start: line, origin: o})
		out.Write(y)
		line += bytes.Count(y, []byte("\n"))
	}
	b.left -= int64(out.Len())
	name := dir + " (kustomize)"
	return &source{
		name:  name,
		index: index,
		data:  out.Bytes(),
		remap: func(l int) egres.Origin {
			i := sort.Search(len(docs), func(i int) bool { return docs[i].start > l }) - 1
			if i < 0 || l <= 0 {
				return egres.Origin{File: name}
			}
			return docs[i].origin
		},
	}, nil
}

// builtDoc is one object of a kustomize build: the line its document
// starts at in the output, and where it was written.
type builtDoc struct {
	start  int
	origin egres.Origin
}

// kustomizeOrigin is where r was written: the file its origin annotation
// names (relative to the kustomization) and the line of the document
// declaring it there; the kustomization itself for generated objects.
func kustomizeOrigin(dir string, r *resource.Resource) egres.Origin {
	o, err := r.GetOrigin()
	if err != nil || o == nil {
		return egres.Origin{File: dir}
	}
	if o.Repo != "" {
		return egres.Origin{File: o.Repo + "//" + o.Path}
	}
	if o.Path == "" {
		if o.ConfiguredIn != "" {
			return egres.Origin{File: filepath.Join(dir, o.ConfiguredIn)}
		}
		return egres.Origin{File: dir}
	}
	file := filepath.Join(dir, filepath.FromSlash(o.Path))
	return egres.Origin{File: file, Line: declaringLine(file, r.GetKind(), r.GetName())}
}

// declaringLine finds the document of kind that declares name in file:
// the only one of that kind, else the one of that name, else the one
// whose name the built name contains (kustomize adds prefixes and
// suffixes). 0 when it cannot tell.
func declaringLine(file, kind, name string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	type doc struct {
		line       int
		kind, name string
	}
	var found []doc
	line := 1
	for _, part := range splitDocuments(data) {
		var h struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal(part.data, &h) == nil && h.Kind == kind {
			found = append(found, doc{line: line + part.offset, kind: h.Kind, name: h.Metadata.Name})
		}
		line += bytes.Count(part.data, []byte("\n"))
	}
	if len(found) == 1 {
		return found[0].line
	}
	best, bestLen := 0, 0
	for _, d := range found {
		if d.name == name {
			return d.line
		}
		if d.name != "" && strings.Contains(name, d.name) && len(d.name) > bestLen {
			best, bestLen = d.line, len(d.name)
		}
	}
	return best
}

type docPart struct {
	data []byte
	// offset is the number of lines before the document's first
	// non-blank, non-comment, non-marker line.
	offset int
}

// splitDocuments cuts YAML at "---" lines, keeping every line (with its
// newline) in exactly one part so line numbers add up.
func splitDocuments(data []byte) []docPart {
	var parts []docPart
	var cur []byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		ln := data
		if i >= 0 {
			ln = data[:i+1]
		}
		data = data[len(ln):]
		if isMarker(bytes.TrimRight(ln, "\r\n"), "---") && len(cur) > 0 {
			parts = append(parts, docPart{data: cur})
			cur = nil
		}
		cur = append(cur, ln...)
	}
	if len(cur) > 0 {
		parts = append(parts, docPart{data: cur})
	}
	for i := range parts {
		for _, ln := range bytes.SplitAfter(parts[i].data, []byte("\n")) {
			t := bytes.TrimSpace(ln)
			if len(t) == 0 || t[0] == '#' || isMarker(t, "---") {
				parts[i].offset++
				continue
			}
			break
		}
	}
	return parts
}

// originFS is the disk with one change: the root kustomization asks for
// origin annotations (buildMetadata: [originAnnotations]), which say which
// file each object came from; they are removed before decoding.
type originFS struct {
	filesys.FileSystem
	root string
}

func (f *originFS) ReadFile(p string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(p)
	if err != nil || filepath.Dir(filepath.Clean(p)) != f.root || !isKustomizationFile(filepath.Base(p)) {
		return data, err
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil || k == nil {
		return data, nil // kustomize reports the error
	}
	meta, _ := k["buildMetadata"].([]any)
	for _, m := range meta {
		if m == "originAnnotations" {
			return data, nil
		}
	}
	k["buildMetadata"] = append(meta, "originAnnotations")
	out, err := yaml.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return out, nil
}

func isKustomizationFile(base string) bool {
	switch base {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}
