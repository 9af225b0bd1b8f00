// Package report turns what egctl finds in manifests (input errors,
// objects not accepted, warnings, Envoy's own verdict) into findings with
// a stable code and a severity, as `istioctl analyze` does, so that a team
// can silence one kind of finding (--suppress) and CI can show them where
// they are: text, JSON, SARIF, GitHub workflow annotations, JUnit XML.
package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// Severity of a finding.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Object names the input object a finding is about.
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (o *Object) String() string {
	if o == nil {
		return ""
	}
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Finding is one thing egctl has to say about the input.
type Finding struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	Object   *Object  `json:"object,omitempty"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	// Message is what is wrong, without the object or location.
	Message string `json:"message"`
	// text is the line translate has always printed for it.
	text string
}

// Location is "file:line", "file" or "".
func (f Finding) Location() string {
	return resource.Origin{File: f.File, Line: f.Line}.String()
}

// Text is the finding's one-line form, as egctl x translate prints
// problems: "file:line: Kind ns/name: message".
func (f Finding) Text() string {
	if f.text != "" {
		return f.text
	}
	var b strings.Builder
	if l := f.Location(); l != "" {
		b.WriteString(l + ": ")
	}
	if f.Object != nil {
		b.WriteString(f.Object.String() + ": ")
	}
	b.WriteString(f.Message)
	return b.String()
}

func objectOf(k resource.Key) *Object {
	if k.Kind == "" {
		return nil
	}
	return &Object{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name}
}

func newFinding(c Code, o resource.Origin, obj *Object, msg string) Finding {
	return Finding{Code: c.ID, Name: c.Name, Severity: c.Severity, Object: obj, File: o.File, Line: o.Line, Message: msg}
}

// FromLoad turns the loader's error (a join of *manifest.Error) and
// warnings into findings.
func FromLoad(err error, warns []manifest.Warning) []Finding {
	var out []Finding
	for _, w := range warns {
		c := CodeSkippedKind
		if strings.Contains(w.Message, "not a Kubernetes object") {
			c = CodeNotKubernetes
		}
		out = append(out, newFinding(c, w.Origin, nil, w.Message))
	}
	for _, e := range flatten(err) {
		var me *manifest.Error
		if errors.As(e, &me) {
			msg := me.Message
			if me.Path != "" {
				msg = me.Path + ": " + msg
			}
			f := newFinding(CodeInvalidInput, me.Origin, parseObject(me.Object), msg)
			f.text = me.Error()
			out = append(out, f)
			continue
		}
		f := newFinding(CodeInvalidInput, resource.Origin{}, nil, e.Error())
		out = append(out, f)
	}
	return out
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// parseObject reads "Kind ns/name" or "Kind name".
func parseObject(s string) *Object {
	kind, rest, ok := strings.Cut(s, " ")
	if !ok || s == "" {
		return nil
	}
	o := &Object{Kind: kind, Name: rest}
	if ns, name, ok := strings.Cut(rest, "/"); ok {
		o.Namespace, o.Name = ns, name
	}
	return o
}

// FromProblem is the finding of a translate.Problem (an object not
// accepted, a reference not resolved, a Gateway served by nobody).
func FromProblem(p translate.Problem) Finding {
	c := problemCode(p)
	msg := p.Message
	if p.Condition != "" {
		msg = fmt.Sprintf("%s %s: %s", p.Condition, p.Reason, p.Message)
	}
	f := newFinding(c, p.Origin, objectOf(p.Key), msg)
	f.text = p.String()
	if loc := p.Origin.String(); loc != "" {
		f.text = loc + ": " + f.text
	}
	return f
}

// FromWarning is the finding of a translate.Warning.
func FromWarning(w translate.Warning) Finding {
	return newFinding(CodeTranslationWarning, w.Origin, objectOf(w.Key), w.Message)
}

// Added is the finding for an object --add-missing-resources invented.
func Added(note string) Finding {
	return newFinding(CodeAddedResource, resource.Origin{}, nil, note)
}

// Empty is the finding for an input without objects.
func Empty(msg string) Finding {
	return newFinding(CodeEmptyInput, resource.Origin{}, nil, msg)
}

// EnvoyRejected is the finding for a Gateway whose bootstrap Envoy
// refused (--envoy-validate).
func EnvoyRejected(gateway string, origin resource.Origin, msg string) Finding {
	ns, name, _ := strings.Cut(gateway, "/")
	return newFinding(CodeEnvoyRejected, origin, &Object{Kind: "Gateway", Namespace: ns, Name: name}, "Envoy rejects the configuration compiled for it: "+msg)
}

// Sort orders findings by file, line, code and object, for stable output.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.File != b.File:
			return a.File < b.File
		case a.Line != b.Line:
			return a.Line < b.Line
		case a.Code != b.Code:
			return a.Code < b.Code
		}
		return a.Object.String() < b.Object.String()
	})
}

// Counts tallies findings by severity.
type Counts struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
	// Suppressed were silenced by --suppress and are not listed.
	Suppressed int `json:"suppressed"`
}

// Count tallies fs.
func Count(fs []Finding) Counts {
	var c Counts
	for _, f := range fs {
		switch f.Severity {
		case Error:
			c.Errors++
		case Warning:
			c.Warnings++
		default:
			c.Infos++
		}
	}
	return c
}
