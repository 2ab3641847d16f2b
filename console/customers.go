package console

func (h *Handler) customerRoutes() []route { return nil }
