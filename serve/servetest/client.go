// Package servetest is a small ADS client for tests and benchmarks of
// `egctl x serve`: it subscribes to every resource type as Envoy does
// (state of the world or delta), acknowledges each response, and keeps what
// it was sent. It is not a proxy; behaviour tests use real Envoys.
package servetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// Types are the resource types a client subscribes to, in Envoy's order.
var Types = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType}

// Client is one ADS stream.
type Client struct {
	Node    *corev3.Node
	Delta   bool
	conn    *grpc.ClientConn
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	cond    *sync.Cond
	version map[string]string          // by type URL: the version acknowledged last
	names   map[string]map[string]bool // by type URL: resource names held
	raw     map[string]map[string]*anypb.Any
	err     error
	gen     int // bumped on every response, under mu
	// reject, when set, is asked about every response: a message rejects
	// it (NACK), as Envoy rejects a configuration, keeping what it held.
	reject func(typeURL string, resources []*anypb.Any) string
}

// RejectWith makes the client reject (NACK, with the message f returns)
// every response for which f returns a message; nil accepts everything.
func (c *Client) RejectWith(f func(typeURL string, resources []*anypb.Any) string) {
	c.mu.Lock()
	c.reject = f
	c.mu.Unlock()
}

// rejects asks the reject hook about a response.
func (c *Client) rejects(typeURL string, resources []*anypb.Any) string {
	c.mu.Lock()
	f := c.reject
	c.mu.Unlock()
	if f == nil {
		return ""
	}
	return f(typeURL, resources)
}

// Dial connects to addr and opens one ADS stream for a node of the given id
// and cluster (the Gateway). opts replace the default plaintext credentials.
func Dial(addr, id, cluster string, delta bool, opts ...grpc.DialOption) (*Client, error) {
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	// A state-of-the-world response holds a whole type: tens of MB at
	// 10,000 routes. Envoy takes messages of any size; so does this client.
	opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{Node: &corev3.Node{Id: id, Cluster: cluster}, Delta: delta, conn: conn, cancel: cancel, done: make(chan struct{}),
		version: map[string]string{}, names: map[string]map[string]bool{}, raw: map[string]map[string]*anypb.Any{}}
	c.cond = sync.NewCond(&c.mu)
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if delta {
		s, err := ads.DeltaAggregatedResources(ctx)
		if err != nil {
			cancel()
			conn.Close()
			return nil, err
		}
		go c.runDelta(s)
	} else {
		s, err := ads.StreamAggregatedResources(ctx)
		if err != nil {
			cancel()
			conn.Close()
			return nil, err
		}
		go c.runSotW(s)
	}
	return c, nil
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *Client) runSotW(s discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient) {
	defer close(c.done)
	for i, t := range Types {
		req := &discoveryv3.DiscoveryRequest{TypeUrl: t}
		if i == 0 {
			req.Node = c.Node
		}
		if err := s.Send(req); err != nil {
			c.fail(err)
			return
		}
	}
	for {
		resp, err := s.Recv()
		if err != nil {
			c.fail(err)
			return
		}
		t := resp.GetTypeUrl()
		if msg := c.rejects(t, resp.GetResources()); msg != "" {
			c.mu.Lock()
			kept := c.version[t]
			c.mu.Unlock()
			// A NACK names the version kept and the response rejected.
			if err := s.Send(&discoveryv3.DiscoveryRequest{TypeUrl: t, VersionInfo: kept, ResponseNonce: resp.GetNonce(),
				ErrorDetail: &status.Status{Code: int32(codes.InvalidArgument), Message: msg}}); err != nil {
				c.fail(err)
				return
			}
			continue
		}
		held := map[string]*anypb.Any{}
		for _, r := range resp.GetResources() {
			held[resourceName(r)] = r
		}
		c.mu.Lock()
		c.raw[t] = held
		c.names[t] = map[string]bool{}
		for n := range held {
			c.names[t][n] = true
		}
		c.version[t] = resp.GetVersionInfo()
		c.gen++
		c.cond.Broadcast()
		c.mu.Unlock()
		if err := s.Send(&discoveryv3.DiscoveryRequest{TypeUrl: t, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()}); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *Client) runDelta(s discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient) {
	defer close(c.done)
	for i, t := range Types {
		req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: t}
		if i == 0 {
			req.Node = c.Node
		}
		if err := s.Send(req); err != nil {
			c.fail(err)
			return
		}
	}
	for {
		resp, err := s.Recv()
		if err != nil {
			c.fail(err)
			return
		}
		t := resp.GetTypeUrl()
		var sent []*anypb.Any
		for _, r := range resp.GetResources() {
			sent = append(sent, r.GetResource())
		}
		if msg := c.rejects(t, sent); msg != "" {
			if err := s.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.GetNonce(),
				ErrorDetail: &status.Status{Code: int32(codes.InvalidArgument), Message: msg}}); err != nil {
				c.fail(err)
				return
			}
			continue
		}
		c.mu.Lock()
		if c.raw[t] == nil {
			c.raw[t] = map[string]*anypb.Any{}
			c.names[t] = map[string]bool{}
		}
		for _, r := range resp.GetResources() {
			c.raw[t][r.GetName()] = r.GetResource()
			c.names[t][r.GetName()] = true
		}
		for _, n := range resp.GetRemovedResources() {
			delete(c.raw[t], n)
			delete(c.names[t], n)
		}
		c.version[t] = resp.GetSystemVersionInfo()
		c.gen++
		c.cond.Broadcast()
		c.mu.Unlock()
		if err := s.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.GetNonce()}); err != nil {
			c.fail(err)
			return
		}
	}
}

// resourceName reads the name of a listener, route configuration, cluster,
// load assignment or secret without knowing its type: each has it as field
// 1.
func resourceName(a *anypb.Any) string {
	b := a.GetValue()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ""
			}
			return string(v)
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return ""
		}
		b = b[n:]
	}
	return ""
}

// Versions returns the version last received per type URL.
func (c *Client) Versions() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.version))
	for k, v := range c.version {
		out[k] = v
	}
	return out
}

// Resource returns the resource of type typ named name, or nil.
func (c *Client) Resource(typ, name string) *anypb.Any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raw[typ][name]
}

// Wait blocks until cond holds (checked on every response) or the timeout.
func (c *Client) Wait(timeout time.Duration, cond func(c *Client) bool) error {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	for {
		c.mu.Lock()
		gen := c.gen
		c.mu.Unlock()
		if cond(c) {
			return nil
		}
		c.mu.Lock()
		if c.gen != gen {
			c.mu.Unlock()
			continue
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return err
		}
		if time.Now().After(deadline) {
			c.mu.Unlock()
			return fmt.Errorf("timed out after %s", timeout)
		}
		c.cond.Wait()
		c.mu.Unlock()
	}
}

// HasVersion reports whether every type the client got a response for is at
// the version in want (by type URL).
func (c *Client) HasVersion(want map[string]string) bool {
	got := c.Versions()
	for t, v := range want {
		if g, ok := got[t]; ok && g != v {
			return false
		}
	}
	return len(got) > 0
}

// Close ends the stream.
func (c *Client) Close() {
	c.cancel()
	<-c.done
	c.conn.Close()
}
