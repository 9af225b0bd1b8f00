package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// syncEndpointSlices writes one slice per Service with a selector, listing
// the matching Pods at their IPs and container ports.
func (b *Backends) syncEndpointSlices(ctx context.Context) error {
	var svcs corev1.ServiceList
	if err := b.store.List(ctx, &svcs); err != nil {
		return err
	}
	want := map[string]*discoveryv1.EndpointSlice{}
	for i := range svcs.Items {
		svc := &svcs.Items[i]
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		var pods []*podProc
		for _, p := range b.pods {
			if p.namespace == svc.Namespace && sel.Matches(labels.Set(p.labels)) {
				pods = append(pods, p)
			}
		}
		sort.Slice(pods, func(i, j int) bool { return pods[i].name < pods[j].name })
		es := sliceFor(svc, pods)
		want[es.Namespace+"/"+es.Name] = es
	}
	var have discoveryv1.EndpointSliceList
	if err := b.store.List(ctx, &have, client.MatchingLabels{discoveryv1.LabelManagedBy: managedBy}); err != nil {
		return err
	}
	for i := range have.Items {
		cur := &have.Items[i]
		k := cur.Namespace + "/" + cur.Name
		w, ok := want[k]
		if !ok {
			if err := b.store.Delete(ctx, cur); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			continue
		}
		delete(want, k)
		if equalSlices(cur, w) {
			continue
		}
		w.ResourceVersion = cur.ResourceVersion
		if err := b.store.Update(ctx, w); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := b.store.Create(ctx, want[k]); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

func sliceFor(svc *corev1.Service, pods []*podProc) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: svc.Namespace,
			Name:      svc.Name + "-" + managedBy,
			Labels:    map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: managedBy},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	for _, p := range pods {
		ready := true
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.namespace, Name: p.name},
		})
	}
	for _, sp := range svc.Spec.Ports {
		port := sp.TargetPort.IntVal
		switch {
		case sp.TargetPort.Type == intstr.String:
			port = 0
			if len(pods) > 0 {
				port = pods[0].named[sp.TargetPort.StrVal]
			}
		case port == 0:
			port = sp.Port
		}
		if port == 0 {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto, AppProtocol: sp.AppProtocol})
	}
	return es
}

func equalSlices(a, b *discoveryv1.EndpointSlice) bool {
	ja, _ := json.Marshal([]any{a.Labels, a.AddressType, a.Endpoints, a.Ports})
	jb, _ := json.Marshal([]any{b.Labels, b.AddressType, b.Endpoints, b.Ports})
	return bytes.Equal(ja, jb)
}
