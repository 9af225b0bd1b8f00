package xds

import (
	"fmt"
	"time"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/ratelimitcfg"
)

// Rate limits (BackendTrafficPolicy spec.rateLimit): ratelimit_local.go
// (Envoy's local_ratelimit filter) and ratelimit_global.go (the ratelimit
// filter and the rate-limit service's cluster). This file turns the
// descriptor entries ratelimitcfg plans into Envoy rate limit actions, so
// the actions and the service's configuration cannot drift apart.

const (
	localRateLimitFilterName  = "envoy.filters.http.local_ratelimit"
	globalRateLimitFilterName = "envoy.filters.http.ratelimit"
	// rateLimitClusterName is Envoy Gateway's name for the service's cluster.
	rateLimitClusterName = "ratelimit_cluster"
)

// rateLimitCache holds what is built once per proxy: the per-route config
// of a local rate limit depends only on the (shared) IR rate limit, and a
// shared global rule's config only on its rule set.
type rateLimitCache struct {
	local  map[*ir.LocalRateLimit]*anyMsg
	shared map[sharedKey]*anyMsg
}

type sharedKey struct {
	g      *ir.GlobalRateLimit
	domain string
}

// rateLimitActions turns descriptor entries into actions, in order.
func rateLimitActions(entries []ratelimitcfg.Entry) ([]*routev3.RateLimit_Action, error) {
	out := make([]*routev3.RateLimit_Action, 0, len(entries))
	for _, e := range entries {
		a, err := rateLimitAction(e)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func rateLimitAction(e ratelimitcfg.Entry) (*routev3.RateLimit_Action, error) {
	switch e.Kind {
	case ratelimitcfg.Generic:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{
			GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: e.Key, DescriptorValue: e.Value},
		}}, nil
	case ratelimitcfg.Header, ratelimitcfg.Method, ratelimitcfg.Path:
		name := e.Match.Name
		switch e.Kind {
		case ratelimitcfg.Method:
			name = ":method"
		case ratelimitcfg.Path:
			name = ":path"
		}
		if e.Match.Type == ir.RateLimitDistinct {
			return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{
				RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: name, DescriptorKey: e.Key},
			}}, nil
		}
		sm, err := rateLimitStringMatcher(e.Match)
		if err != nil {
			return nil, err
		}
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{
			HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
				DescriptorKey: e.Key, DescriptorValue: e.Value,
				ExpectMatch: wrapperspb.Bool(!e.Match.Invert),
				Headers: []*routev3.HeaderMatcher{{
					Name:                 name,
					HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
				}},
			},
		}}, nil
	case ratelimitcfg.Query:
		if e.Match.Type == ir.RateLimitDistinct {
			return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_QueryParameters_{
				QueryParameters: &routev3.RateLimit_Action_QueryParameters{QueryParameterName: e.Match.Name, DescriptorKey: e.Key},
			}}, nil
		}
		sm, err := rateLimitStringMatcher(e.Match)
		if err != nil {
			return nil, err
		}
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_QueryParameterValueMatch_{
			QueryParameterValueMatch: &routev3.RateLimit_Action_QueryParameterValueMatch{
				DescriptorKey: e.Key, DescriptorValue: e.Value,
				ExpectMatch: wrapperspb.Bool(!e.Match.Invert),
				QueryParameters: []*routev3.QueryParameterMatcher{{
					Name:                         e.Match.Name,
					QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm},
				}},
			},
		}}, nil
	case ratelimitcfg.Source, ratelimitcfg.SourceAddress:
		value := e.Value
		if e.Kind == ratelimitcfg.SourceAddress {
			// Each address in the range counts on its own.
			value = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
		}
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddressMatch_{
			RemoteAddressMatch: &routev3.RateLimit_Action_RemoteAddressMatch{
				DescriptorKey: e.Key, DescriptorValue: value,
				AddressMatcher: &matcherv3.AddressMatcher{
					Ranges:      []*xdscorev3.CidrRange{{AddressPrefix: e.CIDR.Prefix, PrefixLen: wrapperspb.UInt32(e.CIDR.MaskLen)}},
					InvertMatch: e.CIDR.Invert,
				},
			},
		}}, nil
	}
	return nil, fmt.Errorf("descriptor entry %s: unknown kind %d", e.Key, e.Kind)
}

func rateLimitStringMatcher(m *ir.RateLimitMatch) (*matcherv3.StringMatcher, error) {
	switch m.Type {
	case ir.RateLimitExact:
		return exactMatcher(m.Value), nil
	case ir.RateLimitRegex:
		return regexMatcher(m.Value), nil
	case ir.RateLimitPrefix:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: m.Value}}, nil
	}
	return nil, fmt.Errorf("unknown match type %q", m.Type)
}

// rateLimitCost is the hits addend of a cost.
func rateLimitCost(c *ir.RateLimitCost) *routev3.RateLimit_HitsAddend {
	if c.Number != nil {
		return &routev3.RateLimit_HitsAddend{Number: wrapperspb.UInt64(*c.Number)}
	}
	return &routev3.RateLimit_HitsAddend{Format: "%DYNAMIC_METADATA(" + c.Metadata.Namespace + ":" + c.Metadata.Key + ")%"}
}

func xRateLimitOption(x ir.XRateLimitHeaders) routev3.RateLimit_XRateLimitOption {
	switch x {
	case ir.XRateLimitHeadersOff:
		return routev3.RateLimit_OFF
	case ir.XRateLimitHeadersDraft03:
		return routev3.RateLimit_DRAFT_VERSION_03
	}
	return routev3.RateLimit_UNSPECIFIED
}

// limitOverride takes the limit from dynamic metadata.
func limitOverride(md *ir.MetadataKey) *routev3.RateLimit_Override {
	return &routev3.RateLimit_Override{OverrideSpecifier: &routev3.RateLimit_Override_DynamicMetadata_{
		DynamicMetadata: &routev3.RateLimit_Override_DynamicMetadata{MetadataKey: &metadatav3.MetadataKey{
			Key:  md.Namespace,
			Path: []*metadatav3.MetadataKey_PathSegment{{Segment: &metadatav3.MetadataKey_PathSegment_Key{Key: md.Key}}},
		}},
	}}
}

// unitDuration is a unit as Envoy's fill interval.
func unitDuration(u ir.RateLimitUnit) *durationpb.Duration {
	return durationpb.New(time.Duration(u.Seconds()) * time.Second)
}
