package egcompat

func init() { supportedKeys["clientTrafficPolicies"] = true }

// Reasons for ClientTrafficPolicy cases.
const (
	// (b) EG behaviour; egctl does better.
	whyCTPCurve = "EG passes tls.ecdhCurves to Envoy unchecked (\"curve1\"); Envoy 1.40 refuses such a listener " +
		"(\"Failed to initialize ECDH curves\"), so egctl refuses the policy and its listeners fail closed"
	whyCTPCRDInvalid = "input the ClientTrafficPolicy CRD rejects (a header name twice in one listType=map/set list, " +
		"xForwardedClientCert.certDetailsToAdd with mode Sanitize): egctl refuses the policy and its listeners fail closed, " +
		"EG drops the repeats or the field silently"
	whyCTPTargetNotFound = "a policy target that does not exist: egctl reports TargetNotFound (offline the input is all there is, " +
		"so it is almost always a typo), EG stays silent since another controller may own it"
	whyDupObject = "the input defines TCPRoute default/tcp-route-1 twice; egctl keeps the first object of a name, as for any " +
		"duplicate, EG translates both"
	whyRefusedPartly = "a refused policy: EG still programs part of its settings on the listener (whose routes answer 500), " +
		"egctl none of them"
	// Cases of other kinds that taking ListenerSets (load_test.go) brings in.
	whyOverriddenNoRoute = "EG marks a ListenerSet-wide policy Overridden as soon as a policy targets one of its listeners; " +
		"egctl records what overrides a policy for the traffic it covers, and no route is attached here"
	whyLSAncestors = "a policy on a route attached to a whole ListenerSet: EG reports one ancestor per ListenerSet listener, " +
		"egctl the parentRef as the route wrote it (as for a Gateway parentRef without sectionName)"
	whyExpiredCRL = "EG refuses a CRL whose nextUpdate has passed; egctl does not read the clock (the same input must compile to " +
		"the same output, and certificates are not checked for expiry either) and Envoy then refuses every client certificate " +
		"checked against the expired list (fails closed)"
)

// ctpExpectations are the accepted differences for this kind's cases.
// "CTP settings" lines come from ctp_settings_test.go.
var ctpExpectations = join(
	[]expectation{
		{"envoyextensionpolicy-listenerset-invalid", "ancestor ListenerSet:envoy-gateway/ext-listeners: Overridden EG=True/Overridden egctl=absent", "b", whyOverriddenNoRoute},
		{"securitypolicy-listenerset-invalid", "ancestor ListenerSet:envoy-gateway/ext-listeners: Overridden EG=True/Overridden egctl=absent", "b", whyOverriddenNoRoute},
		{"securitypolicy-listenerset-merge", "child-route-merge ancestor ListenerSet:envoy-gateway/ext-listeners#", "b", whyLSAncestors},
	},
	each([]string{"clienttrafficpolicy-for-tcp-listeners", "clienttrafficpolicy-tls-settings"}, "CTP settings", "b", whyCTPCurve),
	each([]string{"clienttrafficpolicy-headers-add-if-absent", "clienttrafficpolicy-headers", "clienttrafficpolicy-invalid-settings",
		"clienttrafficpolicy-mtls-cert-bundle-both-valid", "clienttrafficpolicy-mtls-cert-bundle",
		"clienttrafficpolicy-mtls-forward-client-cert-custom-data", "clienttrafficpolicy-mtls-forward-client-cert"},
		"CTP settings", "b", whyCTPCRDInvalid),
	each([]string{"clienttrafficpolicy-headers-error", "clienttrafficpolicy-mtls-cert-bundle-both-invalid"}, "CTP settings", "b", whyRefusedPartly),
	each([]string{"clienttrafficpolicy-mtls-client-verification-expired-crl"}, "CTP settings", "b", whyExpiredCRL),
	[]expectation{
		{"clienttrafficpolicy-for-tcp-listeners", "IR tcp envoy-gateway/gateway-1/tls-1: route tcproute", "b", whyCTPCurve},
		{"clienttrafficpolicy-for-tcp-listeners", "Accepted EG=True/Accepted egctl=False/Invalid", "b", whyCTPCurve},
		{"clienttrafficpolicy-for-tcp-listeners", "IR tcp envoy-gateway/gateway-1/tcp-1: route tcproute", "b", whyCTPCurve},
		{"clienttrafficpolicy-tls-settings", "Accepted EG=True/Accepted egctl=False/Invalid", "b", whyCTPCurve},

		{"clienttrafficpolicy-invalid-settings", "listener tcp-2: attachedRoutes", "b", whyDupObject},
		{"clienttrafficpolicy-invalid-settings", "TCPRoute default/tcp-route-1 parent", "b", whyDupObject},
		{"clienttrafficpolicy-invalid-settings", "IR tcp default/gateway-1/tcp-2", "b", whyDupObject},
		{"clienttrafficpolicy-invalid-settings", "IR tcp default/gateway-1/tcp-1: route tcproute/default/tcp-route-1 only in egctl", "b", whyCTPCRDInvalid},
		{"clienttrafficpolicy-invalid-settings", "http-2: route httproute/default/httproute-3/rule/0/match/0/* only in egctl (direct 500)", "b", whyCTPCRDInvalid},

		{"clienttrafficpolicy-mtls-client-verification-expired-crl", "ancestor envoy-gateway/gateway-1: Accepted EG=False/Invalid egctl=True/Accepted", "b", whyExpiredCRL},

		{"clienttrafficpolicy-status-conditions", "listener https: Accepted EG=absent egctl=False/UnsupportedValue", "b", whyCRDInvalidEG},
		{"clienttrafficpolicy-status-conditions", "ancestor status only in egctl", "b", whyCTPTargetNotFound},
	},
	each([]string{"clienttrafficpolicy-headers", "clienttrafficpolicy-headers-add-if-absent",
		"clienttrafficpolicy-mtls-cert-bundle", "clienttrafficpolicy-mtls-cert-bundle-both-valid",
		"clienttrafficpolicy-mtls-forward-client-cert", "clienttrafficpolicy-mtls-forward-client-cert-custom-data"},
		"Accepted EG=True/Accepted egctl=False/Invalid", "b", whyCTPCRDInvalid),
	each([]string{"clienttrafficpolicy-mtls-cert-bundle", "clienttrafficpolicy-mtls-cert-bundle-both-valid"},
		"match/0/* only in egctl (direct 500)", "b", whyCTPCRDInvalid),
	each([]string{"clienttrafficpolicy-invalid-settings",
		"clienttrafficpolicy-mtls-cert-bundle-both-invalid", "clienttrafficpolicy-mtls-cert-bundle",
		"clienttrafficpolicy-mtls-cert-bundle-both-valid", "clienttrafficpolicy-mtls-dup-ca-refs"},
		"match/-1/* missing in egctl", "b", whyEmptyMatch),
	each([]string{"clienttrafficpolicy-invalid-settings",
		"clienttrafficpolicy-mtls-cert-bundle-both-invalid", "clienttrafficpolicy-mtls-dup-ca-refs"},
		"match/0/* only in egctl", "b", whyEmptyMatch),
)
