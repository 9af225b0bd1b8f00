// Package egcompat holds a differential test: Envoy Gateway's own translator
// test cases (read from the Go module cache at test time, never copied here)
// are run through egctl's translator and the statuses and route structure are
// compared with what Envoy Gateway expects. Every accepted difference is
// listed, with its reason, in expect_test.go; anything else fails the test.
// docs/egcompat.md summarises the results.
package egcompat
