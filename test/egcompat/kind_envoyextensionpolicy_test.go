package egcompat

// EnvoyExtensionPolicy and EnvoyPatchPolicy cases are compared: both kinds
// are translated (ConfigMaps hold Lua scripts).
func init() {
	supportedKeys["envoyExtensionPolicies"] = true
	supportedKeys["envoyPatchPolicies"] = true
	supportedKeys["configMaps"] = true
}

// Why the differences in these kinds' cases are accepted.
const (
	// (b) EG behaviour; egctl does better or says more.
	whyWasmFetch = "EG downloads Wasm modules into its cache while translating (its test harness fakes a missing one); " +
		"egctl works offline: Envoy fetches the module itself, checked by sha256, and the extension's failOpen decides what a failed fetch does"
	whyWasmChecksum = "egctl requires code.http.sha256 (Envoy checks the module it fetches against it; EG computes one from its download) " +
		"and resolves OCI images only when egctl runs with a resolver; without one the extension fails, as it does not fail open"
	whyTargetNotFound = "a target missing from the input: egctl reports Accepted=False/TargetNotFound (offline the input is all there is, " +
		"so it is almost always a typo); EG stays silent in case another controller owns it"
	whyDuplicateName = "the input has two objects of one kind, namespace and name (impossible in a cluster); egctl keeps the first read, EG processes both"
	whyPolicyOrder   = "policies without creationTimestamp tie; EG's test harness keeps input order, egctl sorts ties by namespace/name as EG's provider does, so the other policy wins the conflict"
	whyTargetKindRef = "an unsupported targetRef kind: egctl names the ancestor as the targetRef does (kind MyGateway), EG writes kind Gateway"
	whySameNamespace = "spec: allowedRoutes from Same admits routes in the Gateway's namespace (apis/v1/gateway_types.go FromNamespaces); EG refuses this one"

	// (c) unsupported in egctl.
)

// eepExpectations are the accepted differences for these kinds' cases.
var eepExpectations = join(
	each([]string{"envoyextensionpolicy-failopen"}, "", "b", whyWasmFetch),
	each([]string{"envoyextensionpolicy-with-wasm", "envoyextensionpolicy-with-wasm-env-vars"}, "", "b", whyWasmChecksum),
	each([]string{"envoyextensionpolicy-with-lua-configmap", "envoyextensionpolicy-with-wasm-invalid-configuration"}, "", "b", whyDuplicateName),
	[]expectation{
		{"envoyextensionpolicy-invalid-cross-ns-ref", "ancestor status only in egctl", "b", whyTargetNotFound},
		{"envoyextensionpolicy-status-conditions", "ancestor status only in egctl", "b", whyTargetNotFound},
		{"envoyextensionpolicy-status-conditions", "target-httproute-in-gateway-1 ancestor envoy-gateway/gateway-1", "b", whyPolicyOrder},
		{"envoyextensionpolicy-status-conditions", "listener https: Accepted EG=absent egctl=False/UnsupportedValue", "b", whyCRDInvalidEG},
		{"envoyextensionpolicy-status-conditions", "listener https: attachedRoutes EG=1 egctl=0", "b", whyCRDInvalidEG},
		{"envoyextensionpolicy-status-conditions", "not-same-namespace", "b", whySameNamespace},
		{"envoypatchpolicy-cross-ns-target", "ancestor status only in egctl", "b", whyTargetNotFound},
		{"envoypatchpolicy-invalid-target-name", "ancestor status only in egctl", "b", whyTargetNotFound},
		{"envoypatchpolicy-no-status-for-unknown-gateway", "ancestor status only in egctl", "b", whyTargetNotFound},
		{"envoypatchpolicy-invalid-target-kind", "", "b", whyTargetKindRef},
		// Comparable once ConfigMaps are: the case holds one.
		{"httproute-dynamic-resolver", "", "c", whyDynamic},
	},
)
