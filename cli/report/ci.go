package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// writeGitHub prints GitHub Actions workflow commands, one per finding:
//
//	::error file=gw.yaml,line=12,title=EGC3001 BackendNotFound::HTTPRoute default/web: ...
//
// so the finding shows on the pull request's line. Errors are "error"
// (or warnings with Strict), warnings "warning", infos "notice".
func (r *Report) writeGitHub(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		level := "notice"
		switch {
		case r.fails(f):
			level = "error"
		case f.Severity == Warning:
			level = "warning"
		}
		var props []string
		if isFile(f.File) {
			props = append(props, "file="+ghProperty(relPath(f.File)))
			if f.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", f.Line))
			}
		}
		props = append(props, "title="+ghProperty(f.Code+" "+f.Name))
		msg := f.Message
		if f.Object != nil {
			msg = f.Object.String() + ": " + msg
		}
		if !isFile(f.File) && f.Location() != "" {
			msg = f.Location() + ": " + msg
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// SARIF 2.1.0, the subset code-scanning tools read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string        `json:"id"`
	Name             string        `json:"name"`
	ShortDescription sarifText     `json:"shortDescription"`
	FullDescription  sarifText     `json:"fullDescription"`
	Default          sarifDefaults `json:"defaultConfiguration"`
}

type sarifDefaults struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifLocation struct {
	Physical sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func sarifLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

func (r *Report) writeSARIF(w io.Writer) error {
	codes := Codes()
	index := map[string]int{}
	rules := make([]sarifRule, len(codes))
	for i, c := range codes {
		index[c.ID] = i
		rules[i] = sarifRule{ID: c.ID, Name: c.Name, ShortDescription: sarifText{c.Name}, FullDescription: sarifText{c.Help}, Default: sarifDefaults{sarifLevel(c.Severity)}}
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		level := sarifLevel(f.Severity)
		if r.fails(f) {
			level = "error"
		}
		msg := f.Message
		if f.Object != nil {
			msg = f.Object.String() + ": " + msg
		}
		res := sarifResult{RuleID: f.Code, RuleIndex: index[f.Code], Level: level, Message: sarifText{msg}}
		if isFile(f.File) {
			loc := sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifact{URI: relPath(f.File)}}}
			if f.Line > 0 {
				loc.Physical.Region = &sarifRegion{StartLine: f.Line}
			}
			res.Locations = []sarifLocation{loc}
		}
		results = append(results, res)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:    sarifTool{Driver: sarifDriver{Name: "egctl", Version: r.Version, InformationURI: "https://github.com/egctl/egctl", Rules: rules}},
			Results: results,
		}},
	}
	b, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// JUnit XML: one test case per input object (passing when nothing fails
// it), plus one for findings about the input as a whole.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string          `xml:"name,attr"`
	Classname string          `xml:"classname,attr"`
	File      string          `xml:"file,attr,omitempty"`
	Line      int             `xml:"line,attr,omitempty"`
	Failures  []junitFailure  `xml:"failure"`
	SystemOut *junitSystemOut `xml:"system-out"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSystemOut struct {
	Text string `xml:",chardata"`
}

func (r *Report) writeJUnit(w io.Writer) error {
	type caseKey struct{ kind, ref string }
	cases := map[caseKey]*junitCase{}
	var order []caseKey
	add := func(k caseKey, file string, line int) *junitCase {
		if c, ok := cases[k]; ok {
			return c
		}
		c := &junitCase{Name: k.ref, Classname: k.kind, File: relPath(file), Line: line}
		cases[k] = c
		order = append(order, k)
		return c
	}
	for _, o := range r.Objects {
		ref := o.Name
		if o.Namespace != "" {
			ref = o.Namespace + "/" + o.Name
		}
		add(caseKey{o.Kind, ref}, o.File, o.Line)
	}
	for _, f := range r.Findings {
		k := caseKey{"input", "input"}
		if f.Object != nil {
			ref := f.Object.Name
			if f.Object.Namespace != "" {
				ref = f.Object.Namespace + "/" + f.Object.Name
			}
			k = caseKey{f.Object.Kind, ref}
		}
		c := add(k, f.File, f.Line)
		text := fmt.Sprintf("%s [%s %s] %s", f.Location(), f.Code, f.Name, f.Message)
		if r.fails(f) {
			c.Failures = append(c.Failures, junitFailure{Message: oneLine(f.Message), Type: f.Code + " " + f.Name, Text: strings.TrimSpace(text)})
			continue
		}
		if c.SystemOut == nil {
			c.SystemOut = &junitSystemOut{}
		}
		c.SystemOut.Text += string(f.Severity) + ": " + strings.TrimSpace(text) + "\n"
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].kind != order[j].kind {
			return order[i].kind < order[j].kind
		}
		return order[i].ref < order[j].ref
	})
	suite := junitSuite{Name: r.Tool}
	for _, k := range order {
		c := cases[k]
		suite.Cases = append(suite.Cases, *c)
		suite.Tests++
		if len(c.Failures) > 0 {
			suite.Failures++
		}
	}
	doc := junitSuites{Name: r.Tool, Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
