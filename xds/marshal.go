package xds

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Marshal renders m as "json" (two-space indented) or "yaml", with protojson's
// camelCase field names as Envoy Gateway prints them. Output is stable:
// protojson randomizes whitespace on purpose, so its output is re-indented.
func Marshal(m proto.Message, format string) ([]byte, error) {
	if format == "yaml" {
		return marshalYAML(m)
	}
	raw, err := protojson.MarshalOptions{}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("xds: marshal %T: %w", m, err)
	}
	switch format {
	case "json":
		var buf bytes.Buffer
		buf.Grow(len(raw) * 2)
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return nil, fmt.Errorf("xds: indent %T: %w", m, err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	case "yaml":
		out, err := jsonToYAML(raw)
		if err != nil {
			return nil, fmt.Errorf("xds: yaml %T: %w", m, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("xds: unknown output format %q (want json or yaml)", format)
}
