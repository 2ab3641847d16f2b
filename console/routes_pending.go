package console

// Screens under construction register their routes here until their own
// files take over.
func (h *Handler) dashboardRoutes() []route { return nil }
func (h *Handler) settingsRoutes() []route  { return nil }
func (h *Handler) orderRoutes() []route     { return nil }
func (h *Handler) customerRoutes() []route  { return nil }
func (h *Handler) logRoutes() []route       { return nil }
func (h *Handler) webhookRoutes() []route   { return nil }
