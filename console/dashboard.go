package console

func (h *Handler) dashboardRoutes() []route { return nil }
