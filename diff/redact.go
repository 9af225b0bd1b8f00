package diff

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/egctl/egctl/ir"
)

// envoyRedacted is what Envoy's admin (and egctl's dumps) put in place of
// private keys.
const envoyRedacted = "[redacted]"

// redactor replaces secret material in a normalised tree: TLS private
// keys, key passwords and PKCS#12 bundles, session ticket keys, generic
// secrets, basic-auth user files, API keys, ext-auth context extensions
// and local key sets holding symmetric or private keys, wherever they appear
// (secrets, or TLS contexts and filters inlined in listeners and clusters).
//
// With fingerprint, a value becomes "[redacted sha256:…]" (a short hash),
// so a rotated key still shows as a change without showing the key. A
// value that was already redacted at the source cannot be fingerprinted;
// found records that, and the caller then redacts both sides plainly so
// that the sides stay comparable.
type redactor struct {
	fingerprint bool
	found       bool // a value was already "[redacted]"
}

func (r *redactor) value(s string, isBytes bool) string {
	plain := s
	if isBytes {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			plain = string(b)
		}
	}
	if plain == envoyRedacted {
		r.found = true
		return envoyRedacted
	}
	if !r.fingerprint {
		return envoyRedacted
	}
	sum := sha256.Sum256([]byte(plain))
	return "[redacted sha256:" + hex.EncodeToString(sum[:6]) + "]"
}

// dataSource redacts the inline forms of a core.DataSource; a file name
// or environment variable name is not secret and stays.
func (r *redactor) dataSource(v any) {
	ds, ok := v.(map[string]any)
	if !ok {
		return
	}
	if s, ok := ds["inlineString"].(string); ok {
		ds["inlineString"] = r.value(s, false)
	}
	if s, ok := ds["inlineBytes"].(string); ok {
		delete(ds, "inlineBytes")
		ds["inlineString"] = r.value(s, true)
	}
}

// walk redacts v in place. typ is the @type of the nearest enclosing Any.
func (r *redactor) walk(v any, typ string) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			r.walk(e, typ)
		}
	case map[string]any:
		if t, ok := x["@type"].(string); ok {
			typ = t
		}
		for k, c := range x {
			switch {
			case k == "privateKey" || k == "password" || k == "pkcs12":
				r.dataSource(c)
			case k == "sessionTicketKeys":
				if m, ok := c.(map[string]any); ok {
					if keys, ok := m["keys"].([]any); ok {
						for _, ds := range keys {
							r.dataSource(ds)
						}
					}
				}
			case k == "genericSecret":
				if m, ok := c.(map[string]any); ok {
					r.dataSource(m["secret"])
					if all, ok := m["secrets"].(map[string]any); ok {
						for _, ds := range all {
							r.dataSource(ds)
						}
					}
				}
			case k == "contextExtensions" && strings.Contains(typ, "ext_authz"):
				// Values an ext-auth policy may read from a Secret.
				if m, ok := c.(map[string]any); ok {
					for key, v := range m {
						if s, ok := v.(string); ok {
							m[key] = r.value(s, false)
						}
					}
				}
			case k == "localJwks":
				// Public keys are no secret; a set holding symmetric or
				// private members is redacted whole.
				if ds, ok := c.(map[string]any); ok {
					if text, ok := ds["inlineString"].(string); ok {
						if _, secret := ir.RedactJWKS(text); secret {
							r.dataSource(c)
						}
					}
				}
			case k == "users" && strings.Contains(typ, "basic_auth"):
				r.dataSource(c)
			case k == "credentials" && strings.Contains(typ, "api_key_auth"):
				if list, ok := c.([]any); ok {
					for _, e := range list {
						if m, ok := e.(map[string]any); ok {
							if key, ok := m["key"].(string); ok {
								m["key"] = r.value(key, false)
							}
						}
					}
				}
			}
			r.walk(c, typ)
		}
	}
}
