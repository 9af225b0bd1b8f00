package ir

import "encoding/json"

// MarshalJSON prints PEM as text rather than base64, so `--to ir` output
// can be read (and a redacted key reads as such).
func (c *Certificate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name        string `json:"name"`
		Certificate string `json:"certificate"`
		PrivateKey  string `json:"privateKey"`
	}{c.Name, string(c.Certificate), string(c.PrivateKey)})
}
