package xds

import (
	"math/bits"
	"sync"
)

// The units of a render (marshal_parallel.go) each write their text into a
// buffer of their own, handed to the output when the writer reaches them:
// at 10,000 routes that is more buffer than output (107 MB of buffers for
// 75 MB of YAML, 286 MB for the SecurityPolicy workload's 246 MB), all of
// it garbage a moment later, and the allocation that sets how often the
// collector runs. A unit's buffers go back to these pools once written
// and the next units write into them: the render allocates about what
// is rendered ahead of the writer, not the whole output.

const (
	minTextBufShift = 12 // 4 KB: smaller buffers are not worth keeping
	textBufClasses  = 13 // up to 16 MB: larger ones go back to the collector
)

// textBufPools[k] holds buffers of capacity at least 1<<(k+minTextBufShift).
var textBufPools [textBufClasses]sync.Pool

// getTextBuf returns an empty buffer with room for at least n bytes.
func getTextBuf(n int) []byte {
	k := max(bits.Len(uint(n-1)), minTextBufShift) - minTextBufShift
	if n <= 0 || k >= textBufClasses {
		return make([]byte, 0, max(n, 0))
	}
	if p, ok := textBufPools[k].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<(k+minTextBufShift))
}

// putTextBuf gives back a buffer no one reads any more.
func putTextBuf(b []byte) {
	k := bits.Len(uint(cap(b))) - 1 - minTextBufShift
	if k < 0 || k >= textBufClasses {
		return
	}
	b = b[:0]
	textBufPools[k].Put(&b)
}
