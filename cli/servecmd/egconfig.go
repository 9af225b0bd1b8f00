package servecmd

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"sigs.k8s.io/yaml"
)

// egConfig is what serve takes from Envoy Gateway's EnvoyGateway
// configuration.
type egConfig struct {
	paths          []string
	controllerName string
	// ignored names settings that mean something to Envoy Gateway but
	// that serve does not apply.
	ignored []string
}

// readEnvoyGatewayConfig reads an EnvoyGateway (gateway.envoyproxy.io/
// v1alpha1) file strictly. It must use the custom provider with a File
// resource provider: that is what host mode is.
func readEnvoyGatewayConfig(path string) (*egConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config-path: %w", err)
	}
	var eg egv1a1.EnvoyGateway
	if err := yaml.UnmarshalStrict(raw, &eg); err != nil {
		return nil, fmt.Errorf("--config-path %s: %w", path, err)
	}
	if eg.Kind != "EnvoyGateway" || eg.APIVersion != "gateway.envoyproxy.io/v1alpha1" {
		return nil, fmt.Errorf("--config-path %s: want kind EnvoyGateway, apiVersion gateway.envoyproxy.io/v1alpha1; got %q %q", path, eg.Kind, eg.APIVersion)
	}
	s := eg.EnvoyGatewaySpec
	p := s.Provider
	if p == nil || p.Type != egv1a1.ProviderTypeCustom || p.Custom == nil ||
		p.Custom.Resource.Type != egv1a1.ResourceProviderTypeFile || p.Custom.Resource.File == nil {
		return nil, fmt.Errorf("--config-path %s: provider must be type Custom with resource type File (host mode)", path)
	}
	c := &egConfig{}
	for _, fp := range p.Custom.Resource.File.Paths {
		// Relative paths are relative to the configuration file, which is
		// where a reader of the file would look for them.
		if !filepath.IsAbs(fp) {
			fp = filepath.Join(filepath.Dir(path), fp)
		}
		c.paths = append(c.paths, fp)
	}
	if len(c.paths) == 0 {
		return nil, fmt.Errorf("--config-path %s: provider.custom.resource.file.paths is empty", path)
	}
	if s.Gateway != nil {
		c.controllerName = s.Gateway.ControllerName
	}
	if p.Custom.Infrastructure != nil {
		c.ignored = append(c.ignored, "provider.custom.infrastructure is not applied: serve does not start Envoys, they connect to it")
	}
	for name, set := range map[string]bool{
		"logging":          s.Logging != nil,
		"admin":            s.Admin != nil,
		"telemetry":        s.Telemetry != nil,
		"xdsServer":        s.XDSServer != nil,
		"rateLimit":        s.RateLimit != nil,
		"extensionManager": s.ExtensionManager != nil || len(s.ExtensionManagers) > 0,
		"extensionApis":    s.ExtensionAPIs != nil,
		"gatewayAPI":       s.GatewayAPI != nil,
	} {
		if set {
			c.ignored = append(c.ignored, name+" is not applied by egctl x serve (flags set what serve needs)")
		}
	}
	sort.Strings(c.ignored)
	return c, nil
}
