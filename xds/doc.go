// Package xds turns the IR into Envoy v3 configuration: listeners, route
// configurations, clusters, endpoints and secrets per proxy, and packages
// them as a static bootstrap, a dynamic (ADS) bootstrap, a go-control-plane
// snapshot or an admin-style config dump. It never sees a Gateway API type.
//
// Translated Resources are in their dynamic form: HCMs name their route
// configuration (RDS), IP and unix clusters use EDS, FQDN clusters are
// STRICT_DNS with their hosts inline, TLS contexts name secrets (SDS), all
// over ADS. StaticBootstrap rewrites that into one self-contained bootstrap.
//
// Choices worth knowing (names and Envoy fields follow Envoy Gateway so that
// dumps can be diffed against a proxy it manages):
//
//   - Plain HTTP entries of a port share the listener's default_filter_chain,
//     as in Envoy Gateway; HTTPS entries get one filter chain each, matched
//     by SNI (no match for an entry without hostname). When plain and TLS
//     entries share a port, TLS chains also match transport_protocol "tls"
//     so plaintext reaches the default chain.
//   - HCM: use_remote_address, normalize_path, merge_slashes,
//     UNESCAPE_AND_REDIRECT for escaped slashes, headers with underscores
//     rejected, server header passed through, router without x-envoy-*
//     headers. These are Envoy Gateway's defaults.
//   - A destination is one cluster with a locality per backend (weights are
//     locality weights) unless backends differ in address type or protocol,
//     carry their own header filters, or part of the weight is invalid: then
//     weighted_clusters with a cluster per backend, and the invalid share
//     points at the missing "invalid-backend-cluster" so that Envoy answers
//     500 (cluster_not_found_response_code).
//   - Every backendRef at weight 0: 500 through the same missing cluster
//     (nothing may be forwarded; a 503 would read as an outage).
//   - HTTPS entries sharing a port answer 421 to misdirected requests
//     (GEP-3567: HTTP/2 connection coalescing brings a host to another
//     listener's chain) and 404 to their own hosts without routes; Envoy
//     Gateway does not (see misdirected.go).
//   - ReplacePrefixMatch: Envoy's prefix_rewrite is character-wise, Gateway
//     API's is element-wise; "/" replacements use regex_rewrite so
//     "/prefix/foo" becomes "/foo", not "//foo" (see rewrite.go).
//   - Redirect: port_redirect is left out for http:80 and https:443 (the
//     scheme being the listener's when not given), because Envoy would
//     otherwise print ":443" in Location. Known gap, shared with Envoy
//     Gateway: when the port is left out, a port the client put in its
//     Host header is kept.
//   - Retry: retry_on "connect-failure,refused-stream,reset" plus
//     "retriable-status-codes" when codes are listed. GEP-1731 retries
//     connection errors (disconnect, reset, timeout) as well as listed
//     codes; "reset" is what makes Envoy retry an attempt cut by the
//     per-try timeout. Envoy Gateway's extra gRPC reasons are left out.
//   - Timeout (GEP-1742): Request → route timeout (disabled → 0s);
//     BackendRequest → per_try_timeout with a retry policy, otherwise the
//     route timeout (the smaller of the two).
//   - Config dumps redact private keys like Envoy's admin does.
//   - YAML output is byte-identical to sigs.k8s.io/yaml.JSONToYAML, written
//     by a fast path (yaml.go) that falls back to JSONToYAML for scalars it
//     cannot be sure of.
package xds
