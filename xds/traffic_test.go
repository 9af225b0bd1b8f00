package xds

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/egctl/egctl/ir"
)

// The status regex of a response override matches exactly the statuses
// of its ranges.
func TestStatusRegex(t *testing.T) {
	for _, ranges := range [][]ir.StatusRange{
		{{Start: 404, End: 404}},
		{{Start: 500, End: 599}},
		{{Start: 401, End: 403}, {Start: 500, End: 503}},
		{{Start: 100, End: 599}},
		{{Start: 195, End: 312}},
	} {
		re := regexp.MustCompile(statusRegex(ranges))
		for c := 100; c <= 599; c++ {
			in := false
			for _, r := range ranges {
				in = in || (uint32(c) >= r.Start && uint32(c) <= r.End)
			}
			if got := re.MatchString(strconv.Itoa(c)); got != in {
				t.Errorf("%v (%s): %d matched=%v, want %v", ranges, re, c, got, in)
			}
		}
	}
	if got := statusRegex([]ir.StatusRange{{Start: 500, End: 599}}); got != "^(5[0-9][0-9])$" {
		t.Errorf("statusRegex(500-599) = %s", got)
	}
}

func TestStatusRanges(t *testing.T) {
	got := statusRanges([]uint32{204, 200, 201, 202, 503})
	want := [][2]int64{{200, 203}, {204, 205}, {503, 504}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, r := range got {
		if r.Start != want[i][0] || r.End != want[i][1] {
			t.Errorf("range %d = [%d,%d), want %v", i, r.Start, r.End, want[i])
		}
	}
}

func TestExpandStatName(t *testing.T) {
	r := &ir.HTTPRoute{
		Name:     "httproute/shop/web/rule/3/match/0/www_example_com",
		Metadata: &ir.Metadata{Kind: "HTTPRoute", Namespace: "shop", Name: "web", SectionName: "checkout"},
	}
	if got := expandStatName("%ROUTE_KIND%.%ROUTE_NAMESPACE%.%ROUTE_NAME%.%ROUTE_RULE_NAME%.%ROUTE_RULE_NUMBER%", r); got != "HTTPRoute.shop.web.checkout.3" {
		t.Errorf("got %q", got)
	}
	r.Metadata.SectionName = ""
	if got := expandStatName("%ROUTE_RULE_NAME%", r); got != "-" {
		t.Errorf("unnamed rule: got %q, want -", got)
	}
}
