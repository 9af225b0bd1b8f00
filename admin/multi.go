package admin

import (
	"context"
	"sync"
)

// Result is one proxy's answer in Each.
type Result[T any] struct {
	Value T
	Err   error
}

// maxParallel bounds concurrent admin calls: enough for a fleet, few
// enough not to open hundreds of sockets at once.
const maxParallel = 16

// Each calls fn for every address in parallel and returns the results
// keyed by address. A bad address or a failing proxy gives that entry an
// error; the others are unaffected. Duplicates are queried once.
func Each[T any](ctx context.Context, addrs []string, opts []Option, fn func(context.Context, *Client) (T, error)) map[string]Result[T] {
	out := make(map[string]Result[T], len(addrs))
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxParallel)
	)
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			continue
		}
		seen[a] = true
		wg.Add(1)
		go func(addr string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var r Result[T]
			c, err := New(addr, opts...)
			if err != nil {
				r.Err = err
			} else {
				r.Value, r.Err = fn(ctx, c)
			}
			mu.Lock()
			out[addr] = r
			mu.Unlock()
		}(a)
	}
	wg.Wait()
	return out
}
