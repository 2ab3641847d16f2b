package console

func (h *Handler) webhookRoutes() []route { return nil }
