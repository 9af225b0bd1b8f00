package conformance

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// Controller is the in-process controller: it reads everything from the
// Store, runs egctl's translator, writes the statuses back and pushes the
// IR to the data plane. Each Gateway's proxy gets its own loopback address.
type Controller struct {
	store          *Store
	dp             *DataPlane
	controllerName string
	logf           func(string, ...any)

	mu    sync.Mutex
	addrs *addressPool
	// Problems of the last translation and data-plane errors, for the report.
	lastProblems []string
	lastErr      string
	// seen holds every distinct Problem of the run, with when it first
	// appeared, so a failure can be traced after the suite cleaned up.
	seen map[string]time.Time
}

// NewController returns a controller owning GatewayClasses that name
// controllerName.
func NewController(st *Store, dp *DataPlane, controllerName string, logf func(string, ...any)) *Controller {
	return &Controller{store: st, dp: dp, controllerName: controllerName, logf: logf, addrs: newAddressPool(), seen: map[string]time.Time{}}
}

// Reconcile runs one full pass: read, translate, write status, apply.
func (c *Controller) Reconcile(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	set, err := c.read(ctx)
	if err != nil {
		return err
	}
	res, err := translate.Translate(set, translate.Options{
		KeepPrivilegedPorts: true,
		ControllerName:      c.controllerName,
		Now:                 time.Now().UTC().Truncate(time.Second),
	})
	if err != nil {
		c.lastErr = err.Error()
		return err
	}
	c.lastProblems = c.lastProblems[:0]
	for _, p := range res.Problems {
		c.lastProblems = append(c.lastProblems, p.String())
		if _, ok := c.seen[p.String()]; !ok {
			c.seen[p.String()] = time.Now()
		}
	}

	// Addresses first: the status names them and the listeners bind them.
	// A Gateway asking for an address gets it or no proxy (addresses.go).
	gws := map[string]*gwv1.Gateway{}
	for _, gw := range res.Status.Gateways {
		gws[gw.Namespace+"/"+gw.Name] = gw
	}
	live := map[string]bool{}
	kept := res.IR.Proxies[:0]
	for _, p := range res.IR.Proxies {
		ip := ""
		if gw := gws[p.Name]; gw != nil {
			ip = requestedIP(gw)
		}
		if ip != "" {
			if err := c.addrs.claim(p.Name, ip); err != nil {
				msg := fmt.Sprintf("spec.addresses: %v", err)
				refuseAddress(gws[p.Name], msg, time.Now().UTC().Truncate(time.Second))
				pr := fmt.Sprintf("Gateway %s: Programmed AddressNotUsable: %s", p.Name, msg)
				c.lastProblems = append(c.lastProblems, pr)
				if _, ok := c.seen[pr]; !ok {
					c.seen[pr] = time.Now()
				}
				continue
			}
		} else {
			ip = c.addrs.get(p.Name)
		}
		live[p.Name] = true
		kept = append(kept, p)
		for _, l := range p.HTTP {
			l.Address = ip
		}
		for _, l := range p.TCP {
			l.Address = ip
		}
		for _, l := range p.UDP {
			l.Address = ip
		}
	}
	res.IR.Proxies = kept
	for _, gw := range res.Status.Gateways {
		if ip, ok := c.addrs.lookup(gw.Namespace + "/" + gw.Name); ok && live[gw.Namespace+"/"+gw.Name] {
			ipType := gwv1.IPAddressType
			gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: &ipType, Value: ip}}
		}
	}
	statusErr := c.writeStatuses(ctx, set, res.Status)

	dpErr := c.dp.Apply(ctx, res.IR)
	c.addrs.releaseAllBut(live)
	c.lastErr = ""
	if dpErr != nil {
		c.lastErr = dpErr.Error()
	}
	if statusErr != nil {
		return statusErr
	}
	return dpErr
}

// Problems returns the Problems of the last translation.
func (c *Controller) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lastProblems...)
}

// AllProblems returns every distinct Problem seen during the run, in the
// order they first appeared, each prefixed with that time.
func (c *Controller) AllProblems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	type tp struct {
		at time.Time
		p  string
	}
	all := make([]tp, 0, len(c.seen))
	for p, at := range c.seen {
		all = append(all, tp{at, p})
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].at.Equal(all[j].at) {
			return all[i].at.Before(all[j].at)
		}
		return all[i].p < all[j].p
	})
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.at.Format("15:04:05.000 ") + x.p
	}
	return out
}

// GatewayAddress returns the loopback address of a Gateway's proxy.
func (c *Controller) GatewayAddress(namespace, name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs.lookup(namespace + "/" + name)
}

// read lists every kind translate reads into a resource.Set, each sorted by
// namespace/name so translation sees a stable order.
func (c *Controller) read(ctx context.Context) (*resource.Set, error) {
	set := &resource.Set{}
	var err error
	list := func(l client.ObjectList) {
		if err == nil {
			err = c.store.List(ctx, l)
		}
	}
	var (
		gcs   gwv1.GatewayClassList
		gws   gwv1.GatewayList
		lss   gwv1.ListenerSetList
		hrs   gwv1.HTTPRouteList
		grs   gwv1.GRPCRouteList
		tlsrs gwv1.TLSRouteList
		tcprs gwv1.TCPRouteList
		udprs gwv1.UDPRouteList
		rgs   gwv1.ReferenceGrantList
		btps  gwv1.BackendTLSPolicyList
		nss   corev1.NamespaceList
		svcs  corev1.ServiceList
		eps   discoveryv1.EndpointSliceList
		secs  corev1.SecretList
		cms   corev1.ConfigMapList
	)
	for _, l := range []client.ObjectList{&gcs, &gws, &lss, &hrs, &grs, &tlsrs, &tcprs, &udprs, &rgs, &btps, &nss, &svcs, &eps, &secs, &cms} {
		list(l)
	}
	if err != nil {
		return nil, fmt.Errorf("controller: listing: %w", err)
	}
	set.GatewayClasses = ptrs(gcs.Items)
	set.Gateways = ptrs(gws.Items)
	set.ListenerSets = ptrs(lss.Items)
	set.HTTPRoutes = ptrs(hrs.Items)
	set.GRPCRoutes = ptrs(grs.Items)
	set.TLSRoutes = ptrs(tlsrs.Items)
	set.TCPRoutes = ptrs(tcprs.Items)
	set.UDPRoutes = ptrs(udprs.Items)
	set.ReferenceGrants = ptrs(rgs.Items)
	set.BackendTLSPolicies = ptrs(btps.Items)
	set.Namespaces = ptrs(nss.Items)
	set.Services = ptrs(svcs.Items)
	set.EndpointSlices = ptrs(eps.Items)
	set.Secrets = ptrs(secs.Items)
	set.ConfigMaps = ptrs(cms.Items)
	return set, nil
}

// ptrs returns pointers to the items, sorted by namespace then name.
func ptrs[T any, PT interface {
	*T
	client.Object
}](items []T) []PT {
	out := make([]PT, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out
}

// writeStatuses writes the status of every object whose computed status
// differs from the stored one. translate keeps input order, so out[i] is
// in[i] with its status filled. A conflict means the object changed since
// it was read; that change has already queued another pass.
func (c *Controller) writeStatuses(ctx context.Context, in, out *resource.Set) error {
	var errs []string
	write := func(old, cur client.Object) {
		changed, err := mergeStatus(old, cur)
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		if !changed {
			return
		}
		if err := c.store.Status().Update(ctx, cur); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Sprintf("status of %s %s/%s: %v", cur.GetObjectKind().GroupVersionKind().Kind, cur.GetNamespace(), cur.GetName(), err))
		}
	}
	pairs(in.GatewayClasses, out.GatewayClasses, write)
	pairs(in.Gateways, out.Gateways, write)
	pairs(in.ListenerSets, out.ListenerSets, write)
	pairs(in.HTTPRoutes, out.HTTPRoutes, write)
	pairs(in.GRPCRoutes, out.GRPCRoutes, write)
	pairs(in.TLSRoutes, out.TLSRoutes, write)
	pairs(in.TCPRoutes, out.TCPRoutes, write)
	pairs(in.UDPRoutes, out.UDPRoutes, write)
	pairs(in.BackendTLSPolicies, out.BackendTLSPolicies, write)
	if len(errs) > 0 {
		return fmt.Errorf("controller: %s", strings.Join(errs, "; "))
	}
	return nil
}

func pairs[T client.Object](in, out []T, f func(old, cur client.Object)) {
	for i := range out {
		if i < len(in) {
			f(in[i], out[i])
		}
	}
}

// mergeStatus keeps the lastTransitionTime of every condition whose type
// and status did not change (a transition is a change of status), and
// reports whether cur's status differs from old's after that.
func mergeStatus(old, cur client.Object) (bool, error) {
	ou, err := runtime.DefaultUnstructuredConverter.ToUnstructured(old)
	if err != nil {
		return false, err
	}
	cu, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cur)
	if err != nil {
		return false, err
	}
	keepTransitionTimes(ou["status"], cu["status"])
	if reflect.DeepEqual(ou["status"], cu["status"]) {
		return false, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(cu, cur); err != nil {
		return false, err
	}
	return true, nil
}

// keepTransitionTimes walks two status trees in parallel; lists pair up by
// index (translate's order is stable), conditions pair up by type.
func keepTransitionTimes(old, cur any) {
	switch c := cur.(type) {
	case map[string]any:
		o, ok := old.(map[string]any)
		if !ok {
			return
		}
		for k, v := range c {
			if k == "conditions" {
				keepConditionTimes(o[k], v)
				continue
			}
			keepTransitionTimes(o[k], v)
		}
	case []any:
		o, ok := old.([]any)
		if !ok {
			return
		}
		for i := range c {
			if i < len(o) {
				keepTransitionTimes(o[i], c[i])
			}
		}
	}
}

func keepConditionTimes(old, cur any) {
	ol, _ := old.([]any)
	cl, _ := cur.([]any)
	for _, cc := range cl {
		cm, _ := cc.(map[string]any)
		for _, oc := range ol {
			om, _ := oc.(map[string]any)
			if cm != nil && om != nil && cm["type"] == om["type"] && cm["status"] == om["status"] {
				cm["lastTransitionTime"] = om["lastTransitionTime"]
			}
		}
	}
}

// addressPool hands each proxy its own loopback address, 127.0.0.2 and up
// (127.0.0.1 is left to the backends and the xDS server), and the reserved
// UsableAddresses to the proxies that ask for them (addresses.go).
type addressPool struct {
	byProxy map[string]string
	used    map[string]bool
	static  map[string]bool
}

func newAddressPool() *addressPool {
	a := &addressPool{byProxy: map[string]string{}, used: map[string]bool{}, static: map[string]bool{}}
	for _, ip := range UsableAddresses {
		a.static[ip] = true
	}
	return a
}

func (a *addressPool) lookup(proxy string) (string, bool) {
	ip, ok := a.byProxy[proxy]
	return ip, ok
}

func (a *addressPool) get(proxy string) string {
	if ip, ok := a.byProxy[proxy]; ok {
		if !a.static[ip] {
			return ip
		}
		// It asked for a static address before and no longer does.
		delete(a.used, ip)
		delete(a.byProxy, proxy)
	}
	for n := 0; ; n++ {
		ip := fmt.Sprintf("127.0.%d.%d", n/253, n%253+2)
		if a.used[ip] || a.static[ip] {
			continue
		}
		a.used[ip] = true
		a.byProxy[proxy] = ip
		return ip
	}
}

func (a *addressPool) releaseAllBut(live map[string]bool) {
	for p, ip := range a.byProxy {
		if !live[p] {
			delete(a.byProxy, p)
			delete(a.used, ip)
		}
	}
}
