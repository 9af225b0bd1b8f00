package translate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/egctl/egctl/ir"
)

// Two kinds of trouble inside a route rule, handled differently:
//
//   - invalid (rs.invalid): the rule's own values are wrong — a regex RE2
//     rejects, a header name or hostname the CRD pattern rejects, a
//     duration that does not parse, filters the CRD forbids together.
//     When the route has at least one valid rule, the invalid ones are
//     dropped (not programmed) and the route is Accepted=True with
//     PartiallyInvalid=True, message "Dropped Rule(s) [i, j]: ...", the
//     spec's "Drop Rule(s)" approach (apis/v1/shared_types.go
//     RouteConditionPartiallyInvalid). Dropping only removes matches, so it
//     never opens anything the user did not already route. When every rule
//     is invalid, nothing in the route is implementable: Accepted=False /
//     UnsupportedValue and the rules fail closed with a direct 500, as
//     before.
//
//   - unsupported (rs.unsupported): the user asked for something we cannot
//     do (sessionPersistence, ExtensionRef, ExternalAuth, a backendRef
//     filter) or used an enum value the spec says must set Accepted=False
//     (unknown filter type, redirect scheme or status code, path/header
//     match type, method, path modifier type). The rule fails closed with a
//     direct 500 and the route is Accepted=False / UnsupportedValue.
//     PartiallyInvalid does not fit: its two approaches are dropping the
//     rule or falling back to the last good state, and a rule that answers
//     500 is neither; Accepted=True would also tell a CI gate the route is
//     implemented when part of it is deliberately broken. Both kinds are
//     reported as Problems.

// unknownValueError marks a value the spec says must set Accepted=False
// (rather than drop the rule): an enum value we do not know.
type unknownValueError struct{ error }

func unknownValuef(format string, a ...any) error {
	return unknownValueError{fmt.Errorf(format, a...)}
}

func isUnknownValue(err error) bool {
	var u unknownValueError
	return errors.As(err, &u)
}

// grpcMatchError is a GRPCRoute match that could not be spelled as an
// HTTPRoute match (grpcroute.go); unknown marks an unknown enum value.
type grpcMatchError struct {
	rule    int
	msg     string
	unknown bool
}

// preInvalid records an invalid value of rule i found before compiling
// (GRPCRoute conversion); beginRule files it with its rule.
func (rs *routeState) preInvalid(i int, msg string) {
	if rs.preInvalidMsgs == nil {
		rs.preInvalidMsgs = map[int][]string{}
	}
	rs.preInvalidMsgs[i] = append(rs.preInvalidMsgs[i], msg)
}

// invalidRule is one rule found invalid while compiling.
type invalidRule struct {
	cr   *compiledRule
	msgs []string
	// badFrom, badTo delimit the unsupported messages recorded while the
	// rule compiled; they go away with the rule if it is dropped.
	badFrom, badTo int
}

// invalid records that the rule being compiled is invalid.
func (rs *routeState) invalid(msg string) {
	rs.ruleInvalid = append(rs.ruleInvalid, msg)
}

// beginRule starts tracking rule i; it returns the mark endRule needs.
func (rs *routeState) beginRule(i int) int {
	rs.ruleInvalid = append([]string(nil), rs.preInvalidMsgs[i]...)
	return len(rs.badMsgs)
}

// endRule files the rule as invalid if rs.invalid was called while it
// compiled. An invalid rule answers 500 until settleRules decides to drop it.
func (rs *routeState) endRule(cr *compiledRule, mark int) {
	if len(rs.ruleInvalid) == 0 {
		return
	}
	// Fail closed for the matches that did compile.
	cr.tmpl = ir.HTTPRoute{Metadata: cr.tmpl.Metadata, DirectResponse: &ir.DirectResponse{StatusCode: 500}}
	rs.invalidRules = append(rs.invalidRules, invalidRule{cr: cr, msgs: rs.ruleInvalid, badFrom: mark, badTo: len(rs.badMsgs)})
	rs.ruleInvalid = nil
}

// settleRules drops the invalid rules when some rule is valid; otherwise
// the route is not accepted and its rules keep answering 500.
func (rs *routeState) settleRules() {
	if len(rs.invalidRules) == 0 {
		return
	}
	if len(rs.invalidRules) == len(rs.rules) {
		for _, inv := range rs.invalidRules {
			for _, m := range inv.msgs {
				rs.unsupported("UnsupportedValue", m)
			}
		}
		return
	}
	idx := make([]string, 0, len(rs.invalidRules))
	var msgs []string
	// Remove the dropped rules' unsupported messages, last range first so
	// earlier indexes stay valid.
	for k := len(rs.invalidRules) - 1; k >= 0; k-- {
		inv := rs.invalidRules[k]
		rs.badMsgs = slices.Delete(rs.badMsgs, inv.badFrom, inv.badTo)
	}
	if len(rs.badMsgs) == 0 {
		rs.badReason = ""
	}
	for _, inv := range rs.invalidRules {
		idx = append(idx, itoa(inv.cr.idx))
		msgs = append(msgs, inv.msgs...)
		rs.rules = slices.DeleteFunc(rs.rules, func(c *compiledRule) bool { return c == inv.cr })
	}
	rs.droppedMsg = "Dropped Rule(s) [" + strings.Join(idx, ", ") + "]: " + strings.Join(msgs, "; ")
}

// wrapKeep prefixes err with a location, keeping it an unknownValueError
// if it was one.
func wrapKeep(err error, format string, a ...any) error {
	w := fmt.Errorf(format+": %v", append(a, err)...)
	if isUnknownValue(err) {
		return unknownValueError{w}
	}
	return w
}

// uncount takes a route that will be Accepted=False off the attachedRoutes
// of its listeners (apis/v1/gateway_types.go ListenerStatus.AttachedRoutes:
// routes with Accepted=False MUST NOT be counted). Its rules stay
// programmed: they answer 500 (fail closed). Listeners it lost a hostname
// conflict on were already uncounted by lose.
func (rs *routeState) uncount() {
	for _, l := range rs.attachedTo {
		if !slices.Contains(rs.lost, l) {
			l.attached--
		}
	}
}

// rejectValue records msg for a value translate cannot use: an unknown
// enum value is unsupported (the rule answers 500), anything else is an
// invalid value (the rule may be dropped).
func (rs *routeState) rejectValue(err error, msg string) {
	if isUnknownValue(err) {
		rs.unsupported("UnsupportedValue", msg)
		return
	}
	rs.invalid(msg)
}
