//go:build !unix

package freeport

// reserve cannot coordinate with other processes here; the bind check and
// this process's own bookkeeping are all there is.
func reserve(int) (release func(), ok bool) { return func() {}, true }
