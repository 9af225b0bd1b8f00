package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/egctl/egctl/translate"
)

// OIDCDiscovery holds the flags that give the translator the OpenID
// provider configurations a SecurityPolicy's oidc.provider does not spell
// out. Envoy Gateway fetches <issuer>/.well-known/openid-configuration when
// the authorization or token endpoint is left out; egctl is offline, so it
// reads the document from a file (--oidc-discovery) and goes to the network
// only when told to (--oidc-discovery-fetch).
type OIDCDiscovery struct {
	Files []string
	Fetch bool

	// dial replaces the guarded dialer in tests.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// client replaces the HTTP client (and its trust store) in tests.
	client *http.Client
}

// AddFlags registers --oidc-discovery and --oidc-discovery-fetch.
func (d *OIDCDiscovery) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&d.Files, "oidc-discovery", nil, "an OpenID provider's configuration (its /.well-known/openid-configuration, JSON) for SecurityPolicies that leave oidc endpoints out; repeatable")
	fs.BoolVar(&d.Fetch, "oidc-discovery-fetch", false, "fetch <issuer>/.well-known/openid-configuration over HTTPS for SecurityPolicies that leave oidc endpoints out and that no --oidc-discovery file covers")
}

// Resolver reads the files and returns what translate.Options.OIDCDiscovery
// takes: nil when neither flag is given, so that such policies are refused
// with the hint to give one. An unreadable or invalid file is an error.
func (d *OIDCDiscovery) Resolver() (func(issuer string) (*translate.OIDCProviderConfig, error), error) {
	if len(d.Files) == 0 && !d.Fetch {
		return nil, nil
	}
	known := map[string]*translate.OIDCProviderConfig{}
	from := map[string]string{}
	for _, f := range d.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--oidc-discovery: %w", err)
		}
		c, err := translate.ParseOIDCProviderConfig(b)
		if err != nil {
			return nil, fmt.Errorf("--oidc-discovery %s: %w", f, err)
		}
		k := strings.TrimRight(c.Issuer, "/")
		if o, dup := known[k]; dup && *o != *c {
			return nil, fmt.Errorf("--oidc-discovery: %s and %s describe issuer %s differently", from[k], f, c.Issuer)
		}
		known[k], from[k] = c, f
	}
	var mu sync.Mutex
	type fetched struct {
		c   *translate.OIDCProviderConfig
		err error
	}
	cache := map[string]fetched{}
	return func(issuer string) (*translate.OIDCProviderConfig, error) {
		k := strings.TrimRight(issuer, "/")
		if c, ok := known[k]; ok {
			return c, nil
		}
		if !d.Fetch {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("no --oidc-discovery file describes this issuer (they describe: %s); give its configuration or allow --oidc-discovery-fetch", strings.Join(names, ", "))
		}
		mu.Lock()
		defer mu.Unlock()
		if f, ok := cache[k]; ok {
			return f.c, f.err
		}
		c, err := d.fetch(issuer)
		cache[k] = fetched{c, err}
		return c, err
	}, nil
}

const (
	discoveryTimeout  = 10 * time.Second
	discoveryMaxBytes = 1 << 20
)

// fetch gets an issuer's configuration over HTTPS, with Envoy Gateway's
// guards: https only, at most 3 redirects, each to an https URL, and no
// connection to loopback, link-local, multicast or unspecified addresses
// (a manifest must not make a CI runner probe its own metadata service).
func (d *OIDCDiscovery) fetch(issuer string) (*translate.OIDCProviderConfig, error) {
	u, err := translate.OIDCDiscoveryURL(issuer)
	if err != nil {
		return nil, err
	}
	client := d.client
	if client == nil {
		dial := d.dial
		if dial == nil {
			dial = guardedDial
		}
		// No proxy: the guard must see the address it connects to.
		client = &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: dial, TLSHandshakeTimeout: discoveryTimeout}}
	}
	c := *client
	c.Timeout = discoveryTimeout
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		if req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s: not https", req.URL)
		}
		return nil
	}
	resp, err := c.Get(u)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: status %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, discoveryMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	if len(b) > discoveryMaxBytes {
		return nil, fmt.Errorf("fetching %s: larger than %d bytes", u, discoveryMaxBytes)
	}
	cfg, err := translate.ParseOIDCProviderConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return cfg, nil
}

// guardedDial connects to the first allowed address of the host.
func guardedDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if blockedDiscoveryAddr(a) {
			return nil, fmt.Errorf("%s resolves to %s, which egctl does not fetch from", host, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	dialer := &net.Dialer{Timeout: discoveryTimeout}
	return dialer.DialContext(ctx, network, net.JoinHostPort(addrs[0].String(), port))
}

func blockedDiscoveryAddr(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast()
}
