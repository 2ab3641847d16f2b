package console

func (h *Handler) settingsRoutes() []route { return nil }
