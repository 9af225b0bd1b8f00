package translate

// processGatewayClasses accepts every GatewayClass naming our controller.
// Classes of other controllers are not ours: no status, no Problem.
func (b *builder) processGatewayClasses() {
	for _, gc := range b.out.GatewayClasses {
		if string(gc.Spec.ControllerName) != b.opts.ControllerName {
			continue
		}
		b.classes[gc.Name] = true
		c := newConditions(gc.Generation, b.now)
		c.set("Accepted", true, "Accepted", "Valid GatewayClass")
		gc.Status.Conditions = c.list
	}
}
