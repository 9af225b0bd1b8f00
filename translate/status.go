package translate

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/egctl/egctl/resource"
)

// conditions accumulates the conditions of one status block (a Gateway, a
// listener, a route parent) in a fixed order: the order they are first set.
type conditions struct {
	gen  int64
	now  metav1.Time
	list []metav1.Condition
}

func newConditions(gen int64, now metav1.Time) *conditions {
	return &conditions{gen: gen, now: now}
}

// set writes a condition, replacing an earlier one of the same type.
func (c *conditions) set(typ string, ok bool, reason, msg string) {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	cond := metav1.Condition{
		Type:               typ,
		Status:             st,
		ObservedGeneration: c.gen,
		LastTransitionTime: c.now,
		Reason:             reason,
		Message:            msg,
	}
	for i := range c.list {
		if c.list[i].Type == typ {
			c.list[i] = cond
			return
		}
	}
	c.list = append(c.list, cond)
}

// fail writes a failure only if no failure of that type is recorded yet:
// the first reason found is the one reported, later ones join its message.
func (c *conditions) fail(typ, reason, msg string) {
	for i := range c.list {
		if c.list[i].Type == typ && c.list[i].Status == metav1.ConditionFalse {
			if msg != "" && !strings.Contains(c.list[i].Message, msg) {
				c.list[i].Message += "; " + msg
			}
			return
		}
	}
	c.set(typ, false, reason, msg)
}

// order puts the named condition types first, in that order, so statuses
// read the same whatever path set them.
func (c *conditions) order(types ...string) {
	out := make([]metav1.Condition, 0, len(c.list))
	for _, t := range types {
		if cd := c.get(t); cd != nil {
			out = append(out, *cd)
		}
	}
	for _, cd := range c.list {
		if !slices.Contains(types, cd.Type) {
			out = append(out, cd)
		}
	}
	c.list = out
}

func (c *conditions) get(typ string) *metav1.Condition {
	for i := range c.list {
		if c.list[i].Type == typ {
			return &c.list[i]
		}
	}
	return nil
}

func (c *conditions) isFalse(typ string) bool {
	cd := c.get(typ)
	return cd != nil && cd.Status == metav1.ConditionFalse
}

// bad reports whether a condition says "not OK". Conflicted and
// PartiallyInvalid are the condition types where True is the bad polarity
// (a PartiallyInvalid route had rules dropped); a True Accepted with reason
// ListenersNotValid still means part of the Gateway was rejected.
func bad(c metav1.Condition) bool {
	if c.Type == "Conflicted" || c.Type == "PartiallyInvalid" {
		return c.Status == metav1.ConditionTrue
	}
	if c.Reason == "ListenersNotValid" {
		return true
	}
	return c.Status != metav1.ConditionTrue
}

// problemSink collects Problems, one per distinct bad condition of an object.
type problemSink struct {
	set  *resource.Set
	seen map[Problem]bool
	list []Problem
}

func (p *problemSink) add(k resource.Key, conds []metav1.Condition, prefix string) {
	others := 0
	for _, c := range conds {
		if bad(c) && c.Type != "Programmed" {
			others++
		}
	}
	for _, c := range conds {
		if !bad(c) {
			continue
		}
		// Programmed=False only echoes the other failures; listing it too
		// would double every listener problem.
		if c.Type == "Programmed" && others > 0 {
			continue
		}
		pr := Problem{Key: k, Origin: p.set.Origin(k), Condition: c.Type, Reason: c.Reason, Message: prefix + c.Message}
		if p.seen == nil {
			p.seen = map[Problem]bool{}
		}
		if p.seen[pr] {
			continue
		}
		p.seen[pr] = true
		p.list = append(p.list, pr)
	}
}
