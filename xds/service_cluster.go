package xds

import (
	"fmt"
	"reflect"

	"github.com/egctl/egctl/ir"
)

// serviceClusters records the settings each external service's cluster
// was built with (ext auth, ext proc, JWKS, OIDC token endpoint).
type serviceClusters map[string]*ir.ClusterSettings

// addServiceCluster adds the one cluster of an external service d; its
// backendSettings (d.Cluster) are applied by the same cluster features as
// a route's. Services of different policies can name one cluster (a JWKS
// URI's "host_port", an OIDC token endpoint on the same host): they must
// then ask the same of it, or one policy's settings would be dropped.
func (b *builder) addServiceCluster(d *ir.RouteDestination) error {
	seen := *featureState(b, "serviceClusters", func() *serviceClusters { return &serviceClusters{} })
	if prev, ok := seen[d.Name]; ok {
		if prev != d.Cluster && !reflect.DeepEqual(prev, d.Cluster) {
			return fmt.Errorf("cluster %q is shared by external services whose backendSettings differ; give them the same settings (or none)", d.Name)
		}
		return nil
	}
	seen[d.Name] = d.Cluster
	return b.addCluster(d, d.Name, d.Backends)
}
