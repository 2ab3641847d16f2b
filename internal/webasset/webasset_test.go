package webasset

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestServe(t *testing.T) {
	s := Load(fstest.MapFS{
		"web/static/a.js":      {Data: []byte("console.log(1)")},
		"web/static/b.css":     {Data: []byte("body{}")},
		"web/static/sub/c.css": {Data: []byte("p{}")},
	}, "web/static")
	if got := s.Names(".css"); len(got) != 2 || got[0] != "b.css" || got[1] != "c.css" {
		t.Fatalf("Names = %q", got)
	}
	u := s.URL("/x/", "a.js")
	if u != "/x/a.js?v="+s["a.js"].Hash || len(s["a.js"].Hash) != 16 {
		t.Fatalf("URL = %q", u)
	}
	if s.URL("/x/", "missing.js") != "" {
		t.Fatal("URL of a missing file")
	}
	cases := []struct {
		name, target, inm string
		status            int
		cache             string
	}{
		{"a.js", "/x/a.js?v=" + s["a.js"].Hash, "", 200, "public, max-age=31536000, immutable"},
		{"a.js", "/x/a.js?v=old", "", 200, "public, max-age=300"},
		{"a.js", "/x/a.js", `"` + s["a.js"].Hash + `"`, 304, "public, max-age=300"},
		{"nope.js", "/x/nope.js", "", 404, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, c.target, nil)
		if c.inm != "" {
			r.Header.Set("If-None-Match", c.inm)
		}
		w := httptest.NewRecorder()
		s.Serve(w, r, c.name)
		if w.Code != c.status || w.Header().Get("Cache-Control") != c.cache {
			t.Errorf("%s: HTTP %d, Cache-Control %q", c.target, w.Code, w.Header().Get("Cache-Control"))
		}
		if c.status == 200 && w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.target, w.Header().Get("Content-Type"))
		}
	}
}
