// Package admin is a client for Envoy's admin API: config dumps, server
// info, readiness, clusters, listeners and stats, with a timeout on every
// call and errors that say which proxy and what went wrong.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds every call unless WithTimeout says otherwise. A
// config dump of a large proxy takes well under a second; ten seconds
// leaves room for a busy one without hanging a CI job.
const DefaultTimeout = 10 * time.Second

// maxBody caps an answer; Envoy's largest dumps are tens of MiB.
const maxBody = 512 << 20

// sharedTransport pools connections for every Client: a Transport per
// client would leave idle connections (and their goroutines) behind for
// each proxy ever queried. No HTTP proxy: admin ports are reached
// directly (typically loopback or a port-forward).
var sharedTransport = &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	MaxIdleConnsPerHost: 2,
	IdleConnTimeout:     30 * time.Second,
}

// Client talks to one Envoy admin endpoint (host:port, plain HTTP).
type Client struct {
	addr    string
	timeout time.Duration
	hc      *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout sets the per-call timeout.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithHTTPClient replaces the HTTP client (its Timeout is overridden).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { cp := *hc; c.hc = &cp }
}

// New returns a client for addr ("127.0.0.1:19000"; an "http://" prefix is
// accepted and dropped).
func New(addr string, opts ...Option) (*Client, error) {
	a := strings.TrimSuffix(strings.TrimPrefix(addr, "http://"), "/")
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("admin address %q: want HOST:PORT", addr)
	}
	c := &Client{addr: a, timeout: DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: sharedTransport}
	}
	c.hc.Timeout = c.timeout
	return c, nil
}

// Address is the host:port the client talks to.
func (c *Client) Address() string { return c.addr }

// Sentinel errors; match with errors.Is.
var (
	// ErrUnreachable: nothing answered (refused, no route, timeout).
	ErrUnreachable = errors.New("Envoy admin unreachable")
	// ErrNotEnvoy: something answered, but not with what Envoy's admin
	// API sends.
	ErrNotEnvoy = errors.New("not an Envoy admin answer")
	// ErrTruncated: the answer stopped part way (proxy restarting,
	// connection cut); what was read is unusable.
	ErrTruncated = errors.New("answer truncated")
)

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Addr, Path string
	Status     int
	Body       string // first bytes, for the message
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("Envoy admin at %s: GET %s: %d %s", e.Addr, e.Path, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// PartialError accompanies a result that decoded but lost some values:
// Any types this binary does not know became empty placeholders.
type PartialError struct {
	Addr         string
	UnknownTypes []string
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("Envoy admin at %s: %d type(s) unknown to egctl, shown without their contents: %s",
		e.Addr, len(e.UnknownTypes), strings.Join(e.UnknownTypes, ", "))
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.ReplaceAll(s, "\n", `\n`)
}

// response is a fully read answer.
type response struct {
	status      int
	contentType string
	body        []byte
}

// get fetches path (with query) and reads the whole body under the
// call's deadline. Non-2xx answers are returned, not turned into errors,
// because /ready answers 503 with a meaningful body.
func (c *Client) get(ctx context.Context, path string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("Envoy admin at %s: GET %s: %w after %d bytes: no complete answer within %s", c.addr, path, ErrTruncated, len(body), c.timeout)
		}
		return nil, fmt.Errorf("Envoy admin at %s: GET %s: %w after %d bytes: %v", c.addr, path, ErrTruncated, len(body), err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("Envoy admin at %s: GET %s: answer larger than %d MiB", c.addr, path, maxBody>>20)
	}
	return &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}, nil
}

func (c *Client) transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &kindError{ErrUnreachable, err, fmt.Sprintf("no Envoy admin at %s: connection refused", c.addr)}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		return &kindError{ErrUnreachable, err, fmt.Sprintf("no answer from Envoy admin at %s within %s", c.addr, c.timeout)}
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("Envoy admin at %s: %w", c.addr, context.Canceled)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &kindError{ErrUnreachable, err, fmt.Sprintf("no Envoy admin at %s: %v", c.addr, err)}
}

// kindError reads as its own message yet matches a sentinel with
// errors.Is, so the sentinel's words are not tacked onto every message.
type kindError struct {
	kind  error
	cause error
	msg   string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }
func (e *kindError) Unwrap() error        { return e.cause }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// getJSON fetches a JSON endpoint and checks that the answer is JSON.
func (c *Client) getJSON(ctx context.Context, path string) ([]byte, error) {
	r, err := c.get(ctx, path)
	if err != nil {
		return nil, err
	}
	if r.status/100 != 2 {
		return nil, &HTTPError{Addr: c.addr, Path: path, Status: r.status, Body: snippet(r.body)}
	}
	if !strings.HasPrefix(r.contentType, "application/json") {
		return nil, fmt.Errorf("Envoy admin at %s: GET %s: %w (content-type %q): %s", c.addr, path, ErrNotEnvoy, r.contentType, snippet(r.body))
	}
	return r.body, nil
}

// decodeError explains why a JSON body did not decode: cut short, or not
// the shape Envoy sends.
func (c *Client) decodeError(path string, body []byte, err error) error {
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") && !strings.HasSuffix(trimmed, "}") {
		return fmt.Errorf("Envoy admin at %s: GET %s: %w after %d bytes", c.addr, path, ErrTruncated, len(body))
	}
	return fmt.Errorf("Envoy admin at %s: GET %s: %w: %v", c.addr, path, ErrNotEnvoy, err)
}
