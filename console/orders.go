package console

func (h *Handler) orderRoutes() []route { return nil }
