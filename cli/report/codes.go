package report

import (
	"sort"

	"github.com/egctl/egctl/translate"
)

// Code is one kind of finding. IDs never change meaning; new kinds get
// new IDs. docs/validate.md lists them (a test keeps the page current).
type Code struct {
	ID       string
	Name     string
	Severity Severity
	// Help says what the finding means and what to do.
	Help string
}

// Input (EGC1xxx).
var (
	CodeInvalidInput  = Code{"EGC1001", "InvalidInput", Error, "The input is not what the API server would accept: YAML or JSON syntax, an unknown field, a value a CRD's schema or CEL rules refuse, a duplicate object, binary or oversized input. Nothing is compiled (exit status 2)."}
	CodeEmptyInput    = Code{"EGC1002", "EmptyInput", Error, "The input holds no object egctl reads; an empty kustomize build or a glob matching nothing is rarely intended. --allow-empty accepts it."}
	CodeSkippedKind   = Code{"EGC1101", "SkippedKind", Info, "An object of a kind egctl does not use (a Deployment, a ServiceAccount) is skipped."}
	CodeNotKubernetes = Code{"EGC1102", "NotKubernetesYAML", Warning, "A YAML or JSON document found by walking a directory is not a Kubernetes object (a Helm values.yaml); it is skipped. --exclude GLOB leaves such files out."}
	CodeAddedResource = Code{"EGC1103", "AddedMissingResource", Info, "--add-missing-resources invented an object the input lacks (a Service, a cluster IP, a GatewayClass)."}
)

// Input where nothing is served (EGC2xxx): no status says these.
var (
	CodeGatewayClassNotFound = Code{"EGC2001", "GatewayClassNotFound", Error, "A Gateway names a GatewayClass that is not in the input: nothing is compiled for it. Add the GatewayClass, or --add-missing-resources."}
	CodeGatewayClassNotOurs  = Code{"EGC2002", "GatewayClassNotOurs", Error, "A Gateway's GatewayClass belongs to another controller (its controllerName is not --controller-name): egctl compiles nothing for it. In a repository shared by several controllers this is expected: --suppress EGC2002."}
	CodeParentNotFound       = Code{"EGC2003", "ParentNotFound", Error, "A route or ListenerSet names a parent Gateway or ListenerSet that is not in the input, or a route has no parentRefs: it is served nowhere."}
	CodePortUnavailable      = Code{"EGC2004", "PortUnavailable", Error, "A listener cannot bind its port (it is Envoy's admin port, --admin-address): the listener is refused."}
)

// Objects not accepted, by status condition (EGC3xxx).
var (
	CodeBackendNotFound    = Code{"EGC3001", "BackendNotFound", Error, "A backendRef names a Service, Backend or port that is not in the input: that share of the route's traffic is answered 500."}
	CodeRefNotPermitted    = Code{"EGC3002", "RefNotPermitted", Error, "A reference crosses namespaces without a ReferenceGrant allowing it."}
	CodeInvalidKind        = Code{"EGC3003", "InvalidKind", Error, "A reference names a group or kind that cannot be used there."}
	CodeTargetNotFound     = Code{"EGC3004", "TargetNotFound", Error, "A policy's target is not in the input: the policy applies to nothing."}
	CodeConflicted         = Code{"EGC3005", "Conflicted", Error, "Two objects claim the same thing (listener hostnames or protocols on one port, two policies on one target): the newer loses."}
	CodeNotAllowed         = Code{"EGC3006", "NotAllowedByListeners", Error, "A route is not accepted by the listeners it names (allowedRoutes, hostnames, sectionName, port)."}
	CodePartiallyInvalid   = Code{"EGC3007", "PartiallyInvalid", Error, "Some rules of a route are dropped; the others are served."}
	CodeInvalidCertificate = Code{"EGC3008", "InvalidCertificateRef", Error, "A TLS certificate or CA reference is missing, not permitted or not valid PEM."}
	CodeInvalid            = Code{"EGC3009", "Invalid", Error, "An object or policy is invalid as written (its message says which field); what it applies to fails closed."}
	CodeUnsupported        = Code{"EGC3010", "Unsupported", Error, "A value egctl (or Envoy Gateway) does not support: what it applies to fails closed rather than silently ignoring it."}
	CodePatchNotApplied    = Code{"EGC3011", "PatchNotApplied", Error, "An EnvoyPatchPolicy did not apply: a resource it names does not exist, or the result is not valid."}
	CodeNotProgrammed      = Code{"EGC3012", "NotProgrammed", Error, "An object is accepted but not programmed (an address that cannot be used, ...)."}
	CodeNotAccepted        = Code{"EGC3099", "NotAccepted", Error, "An object is not accepted, for a reason without a code of its own; the message says why."}
	CodeTranslationWarning = Code{"EGC4001", "TranslationWarning", Warning, "Something a CI user must see that no status says: a setting read but not applied, an address that is not an IP, a Gateway left alone."}
	CodeEnvoyRejected      = Code{"EGC5001", "EnvoyRejected", Error, "The real Envoy (--envoy-validate) refused the configuration compiled for a Gateway."}
)

var (
	allCodes              []Code
	codeByReason          = map[string]Code{}
	reasonsWithCodes      map[Code][]string
	conditionFallback     map[string]Code
	unconditionedByReason map[string]Code
)

func init() {
	allCodes = []Code{
		CodeInvalidInput, CodeEmptyInput, CodeSkippedKind, CodeNotKubernetes, CodeAddedResource,
		CodeGatewayClassNotFound, CodeGatewayClassNotOurs, CodeParentNotFound, CodePortUnavailable,
		CodeBackendNotFound, CodeRefNotPermitted, CodeInvalidKind, CodeTargetNotFound, CodeConflicted,
		CodeNotAllowed, CodePartiallyInvalid, CodeInvalidCertificate, CodeInvalid, CodeUnsupported,
		CodePatchNotApplied, CodeNotProgrammed, CodeNotAccepted, CodeTranslationWarning, CodeEnvoyRejected,
	}
	reasonsWithCodes = map[Code][]string{
		CodePortUnavailable:    {"PortUnavailable"},
		CodeBackendNotFound:    {"BackendNotFound"},
		CodeRefNotPermitted:    {"RefNotPermitted"},
		CodeInvalidKind:        {"InvalidKind", "InvalidRouteKinds"},
		CodeTargetNotFound:     {"TargetNotFound"},
		CodeConflicted:         {"Conflicted", "HostnameConflict", "ProtocolConflict"},
		CodeNotAllowed:         {"NotAllowedByListeners", "NoMatchingListenerHostname", "NoMatchingParent", "ParentNotAccepted"},
		CodeInvalidCertificate: {"InvalidCertificateRef", "InvalidClientCertificateRef", "NoValidCACertificate", "InvalidCACertificateRef"},
		CodeInvalid:            {"Invalid", "InvalidParameters", "InvalidListener"},
		CodeUnsupported:        {"UnsupportedValue", "UnsupportedProtocol", "UnsupportedAddress"},
		CodePatchNotApplied:    {"ResourceNotFound"},
		CodeNotProgrammed:      {"AddressNotUsable", "AddressNotAssigned"},
	}
	for c, rs := range reasonsWithCodes {
		for _, r := range rs {
			codeByReason[r] = c
		}
	}
	unconditionedByReason = map[string]Code{
		translate.ReasonNoGatewayClass: CodeGatewayClassNotFound,
		translate.ReasonForeignClass:   CodeGatewayClassNotOurs,
		translate.ReasonParentNotFound: CodeParentNotFound,
		"PortUnavailable":              CodePortUnavailable,
	}
	conditionFallback = map[string]Code{
		"ResolvedRefs":     CodeBackendNotFound,
		"Conflicted":       CodeConflicted,
		"PartiallyInvalid": CodePartiallyInvalid,
		"Programmed":       CodeNotProgrammed,
	}
}

// problemCode picks the code of a problem: by its reason, else by its
// condition, else NotAccepted.
func problemCode(p translate.Problem) Code {
	if p.Condition == "" {
		if c, ok := unconditionedByReason[p.Reason]; ok {
			return c
		}
		return CodeNotAccepted
	}
	if p.Condition == "PartiallyInvalid" {
		return CodePartiallyInvalid
	}
	if p.Key.Kind == "EnvoyPatchPolicy" && p.Condition == "Programmed" {
		return CodePatchNotApplied
	}
	if c, ok := codeByReason[p.Reason]; ok {
		return c
	}
	if c, ok := conditionFallback[p.Condition]; ok {
		return c
	}
	return CodeNotAccepted
}

// Codes lists every code, by ID.
func Codes() []Code {
	out := append([]Code(nil), allCodes...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Reasons lists the status reasons that map to c (for the docs).
func Reasons(c Code) []string { return reasonsWithCodes[c] }

// lookup finds a code by ID or name.
func lookup(s string) (Code, bool) {
	for _, c := range allCodes {
		if c.ID == s || c.Name == s {
			return c, true
		}
	}
	return Code{}, false
}
