// Package manifest reads Kubernetes manifests from files, directories and
// stdin and turns them into a *resource.Set for the translator.
//
// What it accepts:
//
//   - Paths: files (any extension), directories (walked recursively in
//     lexical order, reading *.yaml, *.yml and *.json), and "-" for stdin
//     (recorded as "<stdin>"). A missing path is an error.
//   - Multi-document YAML separated by "---", streams of JSON values, and
//     lists: "kind: List" or any "<Kind>List" with "items" (items of a
//     typed list may omit apiVersion and kind). Empty documents are skipped.
//   - Gateway API (gateway.networking.k8s.io) in every version v1.6.3 has
//     types for: v1, v1beta1, v1alpha2, v1alpha3. Older versions are
//     strict-decoded with their own types and then converted to v1.
//   - Envoy Gateway kinds (gateway.envoyproxy.io/v1alpha1): EnvoyProxy,
//     Backend, ClientTrafficPolicy, BackendTrafficPolicy, SecurityPolicy,
//     EnvoyExtensionPolicy, EnvoyPatchPolicy, HTTPRouteFilter.
//   - Kubernetes: v1 Namespace, Service, Secret, ConfigMap and
//     discovery.k8s.io/v1 EndpointSlice.
//
// Input is UTF-8, or UTF-16/UTF-32 with a byte order mark (decoded first,
// lines kept); a NUL byte or invalid UTF-8 refuses the whole file. All
// inputs together may hold Options.MaxInputBytes (DefaultMaxInputBytes,
// 256 MiB), enforced while reading.
//
// Decoding is strict: unknown fields, duplicate fields and wrong types are
// errors, as are a missing apiVersion, kind or metadata.name, an unknown
// version or kind in the two API groups above, and two objects with the
// same group, kind, namespace and name (in any version). Other kinds
// (Deployments, unrelated CRDs, ...) are skipped with a Warning.
//
// Every decoded object is then validated as the API server would on
// create (package validate: CRD schemas and CEL rules, ObjectMeta, the
// core kinds' rules, control characters); a problem is reported like a
// decoding error, at the line of the offending field, and the object is
// left out of the Set.
//
// Namespaced objects without metadata.namespace get Options.Namespace
// ("default" when empty); cluster-scoped ones (GatewayClass, Namespace)
// never carry a namespace. Each object's origin is its file and the line
// of its first key (for list items, the item's first key).
//
// Every error reads "file:line: Kind ns/name: field.path: message" and
// points at the line of the offending field. All errors of all files are
// returned at once, joined, ordered by file (in the order files were read)
// and line. Messages never quote field values, so Secret data stays out of
// logs.
package manifest
