package configcmd

import (
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/xds"
)

// redact blanks secret material in m, wherever it sits (Any values
// included): every field Envoy's API marks (udpa.annotations.sensitive)
// — private keys, passwords, session ticket keys, generic secrets,
// basic-auth users, API keys — the secrets it does not mark (symmetric or
// private members of a local JSON Web Key Set) and, inside an SDS Secret,
// every inline value, certificates included, since a Secret is where a
// stray key would hide. File names and SDS references stay: they say
// where the secret lives, not what it is. The walk is xds.RedactMessage,
// the same one `egctl x translate --to xds` output goes through.
//
// Envoy already redacts sensitive fields in /config_dump; this also covers
// what it leaves, Secrets' other inline data, dumps saved by other tools,
// and older Envoys.
func redact(m proto.Message) error {
	_, err := xds.RedactMessage(m, admin.Resolver)
	return err
}
