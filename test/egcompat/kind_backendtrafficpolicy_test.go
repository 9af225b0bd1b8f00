package egcompat

// Envoy Gateway cases of this kind are compared once egctl translates it:
// add the in.yaml key to supportedKeys in an init func here, and list the
// classified differences below.

// btpExpectations are the accepted differences for this kind's cases.
var btpExpectations []expectation
