package xds

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/anypb"
)

// jsonResourceBuf is the buffer a resource's JSON starts in: most are
// clusters and load assignments of a few KB.
const jsonResourceBuf = 4 << 10

// WriteJSON writes the dump as Envoy Gateway's egctl prints it in
// `x translate -o json` (AppendJSON: compact, keys in byte order). The
// resources are written in parallel and handed to w in order as they are
// ready, so memory holds a few resources' text, not the whole dump's.
func (v *DumpView) WriteJSON(w io.Writer) error {
	type seg struct {
		text []byte
		a    *anypb.Any
		p    *packedAny
		err  error
		done chan struct{}
	}
	var segs []*seg
	jw := &jsonWriter{anys: v.anys}
	jw.cut = func(a *anypb.Any, p *packedAny) {
		segs = append(segs, &seg{text: jw.buf}, &seg{a: a, p: p, done: make(chan struct{})})
		jw.buf = nil
	}
	if err := jw.message(v.printed().ProtoReflect(), ""); err != nil {
		return err
	}
	segs = append(segs, &seg{text: jw.buf})
	var jobs []*seg
	for _, s := range segs {
		if s.p != nil {
			jobs = append(jobs, s)
		}
	}
	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	defer func() {
		stopped.Store(true)
		wg.Wait()
	}()
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			// One writer per goroutine: shared per-route Anys are
			// written once per goroutine and copied after.
			rw := &jsonWriter{anys: v.anys}
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				if s := jobs[i]; !stopped.Load() {
					rw.buf = getTextBuf(jsonResourceBuf)
					s.err = rw.message(s.p.msg.ProtoReflect(), s.a.GetTypeUrl())
					s.text = rw.buf
				}
				close(jobs[i].done)
			}
		})
	}
	for _, s := range segs {
		if s.done != nil {
			<-s.done
		}
		if s.err != nil {
			return s.err
		}
		if _, err := w.Write(s.text); err != nil {
			return err
		}
		if s.p != nil {
			putTextBuf(s.text) // written: the next resource's (yaml_bufpool.go)
		}
		s.text = nil
	}
	return nil
}
