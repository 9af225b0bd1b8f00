package configcmd

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/admin"
)

// toJSONValue turns a dump into plain JSON data. Field names are protobuf
// JSON names (camelCase), as Envoy Gateway's egctl prints them, so output
// of either tool can be compared line by line.
func toJSONValue(m proto.Message) (any, error) {
	b, err := admin.MarshalOptions.Marshal(m)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep every digit; float64 would round big values
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// render prints v as indented JSON (keys sorted, so the same config gives
// the same bytes) or as YAML converted from that JSON.
func render(v any, format string) ([]byte, error) {
	j, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	switch format {
	case "json":
		return append(j, '\n'), nil
	case "yaml":
		return yaml.JSONToYAML(j)
	}
	return nil, fmt.Errorf("unknown output format %q: want yaml or json", format)
}
