package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodLogs serves the output of a simulated Pod's process.
type PodLogs interface {
	// Logs returns the lines written at or after since, and false if no
	// such Pod runs.
	Logs(namespace, pod string, since time.Time) ([]byte, bool)
}

// APIServer serves the Kubernetes REST API from a Store on a loopback port.
type APIServer struct {
	Store  *Store
	Scheme *runtime.Scheme
	Mapper meta.RESTMapper
	Logs   PodLogs

	codecs serializer.CodecFactory
	srv    *httptest.Server
}

// StartAPIServer serves st on 127.0.0.1. Close stops it.
func StartAPIServer(st *Store, logs PodLogs) *APIServer {
	a := &APIServer{Store: st, Scheme: st.scheme, Mapper: NewRESTMapper(st.scheme), Logs: logs, codecs: serializer.NewCodecFactory(st.scheme)}
	a.srv = httptest.NewServer(a) // httptest binds 127.0.0.1
	return a
}

func (a *APIServer) Close() { a.srv.Close() }

// RESTConfig is a config for clients of this server. JSON only (no
// protobuf, no CBOR) and no client-side rate limit, which would only slow
// the suite down.
func (a *APIServer) RESTConfig() *rest.Config {
	return &rest.Config{
		Host: a.srv.URL,
		ContentConfig: rest.ContentConfig{
			ContentType:        runtime.ContentTypeJSON,
			AcceptContentTypes: runtime.ContentTypeJSON,
		},
		QPS:     1000,
		Burst:   2000,
		Timeout: 30 * time.Second,
	}
}

// ClientOptions are the options the suite must build its clients with: the
// static mapper replaces discovery.
func (a *APIServer) ClientOptions() client.Options {
	return client.Options{Scheme: a.Scheme, Mapper: a.Mapper}
}

// apiRequest is a parsed REST path.
type apiRequest struct {
	gvr         schema.GroupVersionResource
	gvk         schema.GroupVersionKind
	namespace   string
	name        string
	subresource string
}

func (a *APIServer) parse(path string) (*apiRequest, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var gv schema.GroupVersion
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		gv, parts = schema.GroupVersion{Version: parts[1]}, parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		gv, parts = schema.GroupVersion{Group: parts[1], Version: parts[2]}, parts[3:]
	default:
		return nil, apierrors.NewNotFound(schema.GroupResource{}, path)
	}
	r := &apiRequest{}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		r.namespace, parts = parts[1], parts[2:]
	}
	if len(parts) > 3 {
		return nil, apierrors.NewNotFound(schema.GroupResource{}, path)
	}
	r.gvr = gv.WithResource(parts[0])
	if len(parts) > 1 {
		r.name = parts[1]
	}
	if len(parts) > 2 {
		r.subresource = parts[2]
	}
	gvk, err := a.Mapper.KindFor(r.gvr)
	if err != nil {
		return nil, apierrors.NewNotFound(r.gvr.GroupResource(), "")
	}
	r.gvk = gvk
	return r, nil
}

func (a *APIServer) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	ctx := hr.Context()
	r, err := a.parse(hr.URL.Path)
	if err != nil {
		writeError(w, err)
		return
	}
	if hr.URL.Query().Get("watch") == "true" {
		writeError(w, apierrors.NewMethodNotSupported(r.gvr.GroupResource(), "watch"))
		return
	}
	switch {
	case hr.Method == http.MethodGet && r.subresource == "log" && r.gvk.Kind == "Pod":
		a.serveLogs(w, hr, r)
	case r.subresource != "" && r.subresource != "status":
		writeError(w, apierrors.NewNotFound(r.gvr.GroupResource(), r.name+"/"+r.subresource))
	case hr.Method == http.MethodGet && r.name == "":
		a.list(ctx, w, hr, r)
	case hr.Method == http.MethodGet:
		obj, err := a.newObject(r.gvk)
		if err == nil {
			err = a.Store.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: r.name}, obj)
		}
		a.reply(w, http.StatusOK, obj, r.gvk, err)
	case hr.Method == http.MethodPost && r.name == "":
		obj, err := a.decode(hr, r)
		if err == nil {
			err = a.Store.Create(ctx, obj)
		}
		a.reply(w, http.StatusCreated, obj, r.gvk, err)
	case hr.Method == http.MethodPut && r.name != "":
		obj, err := a.decode(hr, r)
		if err == nil {
			if r.subresource == "status" {
				err = a.Store.Status().Update(ctx, obj)
			} else {
				err = a.Store.Update(ctx, obj)
			}
		}
		a.reply(w, http.StatusOK, obj, r.gvk, err)
	case hr.Method == http.MethodPatch && r.name != "":
		a.patch(ctx, w, hr, r)
	case hr.Method == http.MethodDelete && r.name != "":
		obj, err := a.newObject(r.gvk)
		if err == nil {
			obj.SetNamespace(r.namespace)
			obj.SetName(r.name)
			err = a.Store.Delete(ctx, obj)
		}
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess})
	default:
		writeError(w, apierrors.NewMethodNotSupported(r.gvr.GroupResource(), hr.Method))
	}
}

func (a *APIServer) list(ctx context.Context, w http.ResponseWriter, hr *http.Request, r *apiRequest) {
	lgvk := r.gvk.GroupVersion().WithKind(r.gvk.Kind + "List")
	o, err := a.Scheme.New(lgvk)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	list, ok := o.(client.ObjectList)
	if !ok {
		writeError(w, apierrors.NewInternalError(fmt.Errorf("%s is not a list", lgvk)))
		return
	}
	q := hr.URL.Query()
	if fs := q.Get("fieldSelector"); fs != "" {
		writeError(w, apierrors.NewBadRequest("fieldSelector is not supported by the conformance harness: "+fs))
		return
	}
	opts := []client.ListOption{client.InNamespace(r.namespace)}
	if ls := q.Get("labelSelector"); ls != "" {
		sel, err := labels.Parse(ls)
		if err != nil {
			writeError(w, apierrors.NewBadRequest(err.Error()))
			return
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	}
	err = a.Store.List(ctx, list, opts...)
	a.reply(w, http.StatusOK, list, lgvk, err)
}

func (a *APIServer) patch(ctx context.Context, w http.ResponseWriter, hr *http.Request, r *apiRequest) {
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		writeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	obj, err := a.newObject(r.gvk)
	if err != nil {
		writeError(w, err)
		return
	}
	obj.SetNamespace(r.namespace)
	obj.SetName(r.name)
	ct := hr.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	p := client.RawPatch(types.PatchType(ct), body)
	if r.subresource == "status" {
		err = a.Store.Status().Patch(ctx, obj, p)
	} else {
		err = a.Store.Patch(ctx, obj, p)
	}
	a.reply(w, http.StatusOK, obj, r.gvk, err)
}

func (a *APIServer) serveLogs(w http.ResponseWriter, hr *http.Request, r *apiRequest) {
	var since time.Time
	if s := hr.URL.Query().Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, apierrors.NewBadRequest("sinceTime: "+err.Error()))
			return
		}
		since = t
	}
	var out []byte
	ok := false
	if a.Logs != nil {
		out, ok = a.Logs.Logs(r.namespace, r.name, since)
	}
	if !ok {
		writeError(w, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, r.name))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(out)
}

func (a *APIServer) newObject(gvk schema.GroupVersionKind) (client.Object, error) {
	o, err := a.Scheme.New(gvk)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	obj, ok := o.(client.Object)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("%s is not an object", gvk))
	}
	return obj, nil
}

// decode reads a typed object of the request's kind from the body; the
// namespace and name in the path win, as on a real API server.
func (a *APIServer) decode(hr *http.Request, r *apiRequest) (client.Object, error) {
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	obj, err := a.newObject(r.gvk)
	if err != nil {
		return nil, err
	}
	if _, _, err := a.codecs.UniversalDeserializer().Decode(body, &r.gvk, obj); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("decoding %s: %v", r.gvk.Kind, err))
	}
	if r.namespace != "" {
		if ns := obj.GetNamespace(); ns != "" && ns != r.namespace {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace %q in the body does not match %q in the path", ns, r.namespace))
		}
		obj.SetNamespace(r.namespace)
	}
	if r.name != "" {
		obj.SetName(r.name)
	}
	return obj, nil
}

func (a *APIServer) reply(w http.ResponseWriter, code int, obj runtime.Object, gvk schema.GroupVersionKind, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	writeJSON(w, code, obj)
}

func writeError(w http.ResponseWriter, err error) {
	var st metav1.Status
	if s, ok := err.(apierrors.APIStatus); ok {
		st = s.Status()
	} else {
		st = apierrors.NewInternalError(err).ErrStatus
	}
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	writeJSON(w, int(st.Code), &st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", runtime.ContentTypeJSON)
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
