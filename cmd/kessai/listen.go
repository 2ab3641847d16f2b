package main

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// serveUntilDone runs serve (srv.Serve or srv.ServeTLS on a listener)
// until it fails or ctx ends (SIGINT/SIGTERM in the commands); then it
// shuts srv down, giving requests in flight ten seconds. A clean
// shutdown returns nil.
func serveUntilDone(ctx context.Context, srv *http.Server, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		return nil
	}
}
