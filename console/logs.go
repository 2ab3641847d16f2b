package console

func (h *Handler) logRoutes() []route { return nil }
