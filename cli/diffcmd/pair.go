package diffcmd

import (
	"fmt"
	"strings"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/diff"
)

// Pair keys both inputs so that one proxy has one key on both sides:
//
//   - --gateway NS/NAME keeps that gateway only (an input holding a single
//     unnamed proxy, a live one or a dump, is taken to be it);
//   - one proxy on each side, one of them not from manifests: they are
//     compared, whatever their keys (two manifest sets pair by name: a
//     renamed Gateway is another proxy);
//   - otherwise a proxy whose key is not on the other side is renamed to
//     the alias (node id) that is; a single live proxy facing several
//     gateways none of which it names is a usage error asking for
//     --gateway.
//
// When one side of a pair is a static-bootstrap proxy and the other is not,
// the other is put in static form (see diff.Snapshot.ToStatic); warn
// receives a note when that is impossible.
func Pair(a, b *Input, gateway string, warn func(string, ...any)) (diff.Side, diff.Side, error) {
	// Work on copies: harmonize replaces snapshots, and an input may be
	// paired again (status compares one manifest set with many proxies).
	as, bs := copySide(a.Side), copySide(b.Side)
	if gateway != "" {
		var err error
		if as, err = pick(a, as, gateway); err != nil {
			return nil, nil, err
		}
		if bs, err = pick(b, bs, gateway); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case len(as) == 1 && len(bs) == 1 && !(a.named() && b.named()):
		ak, bk := only(as), only(bs)
		if ak != bk {
			name := ak
			if !a.named() && (b.named() || contains(a.Aliases[ak], bk)) {
				name = bk
			}
			as = diff.Side{name: as[ak]}
			bs = diff.Side{name: bs[bk]}
		}
	default:
		as = rename(as, a.Aliases, bs)
		bs = rename(bs, b.Aliases, as)
		for _, x := range []struct {
			one, many *Input
			side      diff.Side
			other     diff.Side
		}{{a, b, as, bs}, {b, a, bs, as}} {
			if len(x.side) == 1 && len(x.other) > 1 && !x.one.named() {
				if _, ok := x.other[only(x.side)]; !ok {
					return nil, nil, cli.UsageErrorf("%s is one proxy (%s) but %s has %d gateways (%s) and none is named by the proxy's node id; pick one with --gateway NAMESPACE/NAME",
						x.one.Arg, describe(x.one, only(x.side)), x.many.Arg, len(x.other), strings.Join(x.other.Keys(), ", "))
				}
			}
		}
	}
	as, bs = harmonize(as, bs, warn)
	return as, bs, nil
}

// pick keeps the entry of in named gateway (by key or alias).
func pick(in *Input, s diff.Side, gateway string) (diff.Side, error) {
	for _, k := range s.Keys() {
		if k == gateway || contains(in.Aliases[k], gateway) {
			return diff.Side{k: s[k]}, nil
		}
	}
	if len(s) == 1 && !in.named() {
		return s, nil
	}
	have := strings.Join(s.Keys(), ", ")
	if have == "" {
		have = "none"
	}
	return nil, cli.UsageErrorf("--gateway %s: not in %s (have: %s)", gateway, in.Arg, have)
}

// rename moves entries of s whose key is not in other to the first alias
// that is, unless that key is taken.
func rename(s diff.Side, aliases map[string][]string, other diff.Side) diff.Side {
	out := diff.Side{}
	for _, k := range s.Keys() {
		name := k
		if _, ok := other[k]; !ok {
			for _, a := range aliases[k] {
				if _, ok := other[a]; ok {
					if _, taken := s[a]; !taken {
						if _, taken := out[a]; !taken {
							name = a
						}
					}
					break
				}
			}
		}
		out[name] = s[k]
	}
	return out
}

// harmonize puts the dynamic side of a static/dynamic pair in static form.
func harmonize(a, b diff.Side, warn func(string, ...any)) (diff.Side, diff.Side) {
	fix := func(k string, dyn *diff.Snapshot) *diff.Snapshot {
		st, err := dyn.ToStatic(k)
		if err != nil {
			if warn != nil {
				warn("%v; comparing as is", err)
			}
			return dyn
		}
		return st
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x == nil || y == nil || x.Static == y.Static {
			continue
		}
		if x.Static {
			b[k] = fix(k, y)
		} else {
			a[k] = fix(k, x)
		}
	}
	return a, b
}

func copySide(s diff.Side) diff.Side {
	out := make(diff.Side, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

func only(s diff.Side) string {
	for k := range s {
		return k
	}
	return ""
}

func describe(in *Input, key string) string {
	if al := in.Aliases[key]; len(al) > 0 {
		return fmt.Sprintf("%s, node %s", key, strings.Join(al, ", "))
	}
	return key
}
