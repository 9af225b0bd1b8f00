package manifest

import (
	"crypto/sha256"
	"sync"
)

// Cache remembers what each file decoded to, so that a program loading the
// same paths again and again (egctl x serve, recompiling on every edit)
// decodes and validates only the files whose bytes changed. Decoding and
// API validation are most of the front end's time; reading and hashing a
// file is a small part of it.
//
// The objects of an unchanged file are handed out again, the same
// pointers: whoever loads with a Cache must treat the Set as read-only,
// which the translator does (its tests check that translating leaves the
// Set as decoded).
//
// A Cache keeps only the files of the last Load that used it, so it never
// grows beyond one input's decoded objects. It is safe for concurrent use,
// though concurrent Loads of different inputs evict each other's files.
type Cache struct {
	mu    sync.Mutex
	files map[string]*cachedFile
	// hits and misses count files, for tests and metrics.
	hits, misses int
}

// cachedFile is one file's decoded objects and warnings. Files with errors
// are not kept: a run that has them fails, and the next one reads them
// again anyway.
type cachedFile struct {
	sum     [sha256.Size]byte
	ns      string
	skipAPI bool
	results []unitResult
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{files: map[string]*cachedFile{}} }

// Stats returns how many files the last Loads found unchanged (hits) and
// decoded again (misses), counted since the Cache was made.
func (c *Cache) Stats() (hits, misses int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// cacheRun is one Load's use of the Cache: the files it found and the ones
// it decoded, written back by store.
type cacheRun struct {
	c       *Cache
	ns      string
	skipAPI bool
	sums    [][sha256.Size]byte
	seen    map[string]*cachedFile
}

func (c *Cache) begin(n int, ns string, skipAPI bool) *cacheRun {
	if c == nil {
		return nil
	}
	return &cacheRun{c: c, ns: ns, skipAPI: skipAPI, sums: make([][sha256.Size]byte, n), seen: make(map[string]*cachedFile, n)}
}

// lookup returns the results of src when its bytes are those decoded last
// time, with the file's position in this input written into them.
func (r *cacheRun) lookup(src *source) ([]unitResult, bool) {
	if r == nil {
		return nil, false
	}
	r.sums[src.index] = sha256.Sum256(src.data)
	r.c.mu.Lock()
	f := r.c.files[src.name]
	if f != nil && f.sum == r.sums[src.index] && f.ns == r.ns && f.skipAPI == r.skipAPI {
		r.c.hits++
		r.seen[src.name] = f
	} else {
		f = nil
		r.c.misses++
	}
	r.c.mu.Unlock()
	if f == nil {
		return nil, false
	}
	out := make([]unitResult, len(f.results))
	for i, res := range f.results {
		// The objects' position among the files orders duplicate
		// reports; it changes when a file before this one comes or goes.
		objs := make([]loadedObj, len(res.objs))
		copy(objs, res.objs)
		for j := range objs {
			objs[j].fileIndex = src.index
		}
		out[i] = unitResult{objs: objs, warns: res.warns}
	}
	return out, true
}

// remember keeps src's freshly decoded results when they hold no error.
func (r *cacheRun) remember(src *source, results []unitResult) {
	if r == nil {
		return
	}
	for _, res := range results {
		if len(res.errs) > 0 {
			return
		}
	}
	r.seen[src.name] = &cachedFile{sum: r.sums[src.index], ns: r.ns, skipAPI: r.skipAPI, results: results}
}

// store makes the files of this run the Cache's content.
func (r *cacheRun) store() {
	if r == nil {
		return
	}
	r.c.mu.Lock()
	r.c.files = r.seen
	r.c.mu.Unlock()
}
