package validate

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentFirstUse: Sessions on several goroutines reach rules no
// one has compiled yet at the same time; the ones that find another
// compiling come back to them (cel.go) and every object still gets every
// error, as on one goroutine.
func TestConcurrentFirstUse(t *testing.T) {
	crdIndexOnce.Do(loadIndex)
	var objs [][]byte
	for i := 0; i < 40; i++ {
		js := string(benchRoute(i))
		if i%3 == 1 { // a negative weight and a missing Service port
			js = strings.Replace(js, `{"name":"svc-a","port":8080,"weight":90}`, `{"name":"svc-a","weight":-90}`, 1)
		}
		objs = append(objs, []byte(js))
	}
	run := func(root *node, js []byte, s *Session) string {
		s.errs, s.path = s.errs[:0], s.path[:0]
		s.tree = &s.own
		if err := s.tree.parse(js); err != nil {
			t.Fatal(err)
		}
		s.budget = 1 << 40
		s.walk(root, &s.tree.nodes[0])
		s.finishDeferred()
		return fmt.Sprint(s.result())
	}
	fresh := func() *node {
		e := &crdEntry{file: crdIndex["gateway.networking.k8s.io/HTTPRoute"].file}
		e.once.Do(e.load)
		return e.versions["v1"]
	}
	want := make([]string, len(objs))
	seq := fresh()
	s := NewSession()
	for i, js := range objs {
		want[i] = run(seq, js, s)
	}
	if !strings.Contains(want[1], "must be greater than or equal to 0") || !strings.Contains(want[1], "Must have port") {
		t.Fatalf("the broken route's errors: %s", want[1])
	}
	for round := 0; round < 3; round++ {
		root := fresh() // nothing compiled yet
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := NewSession()
				for i := range objs {
					j := (i + w*10) % len(objs)
					if got := run(root, objs[j], s); got != want[j] {
						t.Errorf("object %d on goroutine %d:\n got %s\nwant %s", j, w, got, want[j])
					}
				}
			}()
		}
		wg.Wait()
	}
}
