// Package webasset serves the static files (scripts, style sheets, images)
// embedded in kessai's web packages, with cache-busting URLs: each file's
// URL carries a hash of its content, so a browser may keep it for a year
// and a new build, which changes the hash, is fetched at once.
package webasset

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
)

// File is one embedded file.
type File struct {
	Name  string
	Body  []byte
	CType string
	// Hash is the first 16 hex digits of the content's SHA-256.
	Hash string
}

// Set is the files of one directory, by base name.
type Set map[string]File

// Load reads every file below dir of fsys (panicking on error: the files
// are embedded, so a failure is a build mistake found at start).
func Load(fsys fs.FS, dir string) Set {
	out := Set{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		out[name] = File{Name: name, Body: b, CType: contentType(name), Hash: hex.EncodeToString(sum[:])[:16]}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// URL is the cache-busting URL of a file under prefix ("" for an unknown
// file, which a page then simply does not load).
func (s Set) URL(prefix, name string) string {
	f, ok := s[name]
	if !ok {
		return ""
	}
	return prefix + name + "?v=" + f.Hash
}

// Names lists the files whose names end with ext (".css"), sorted.
func (s Set) Names(ext string) []string {
	var out []string
	for n := range s {
		if path.Ext(n) == ext {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Serve answers a request for the file named name: a URL with the file's
// current hash may be cached for a year, anything else for 5 minutes; an
// ETag lets a browser revalidate cheaply.
func (s Set) Serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := s[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.CType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+f.Hash+`"`)
	if r.URL.Query().Get("v") == f.Hash {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "public, max-age=300")
	}
	if r.Header.Get("If-None-Match") == `"`+f.Hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.Body)
}
