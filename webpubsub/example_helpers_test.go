package webpubsub_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// exampleService is a tiny in-memory stand-in for the service, enough for
// the examples to run without Azure. It knows the connections in conns
// (connection id → user id) and remembers group membership.
type exampleService struct {
	*httptest.Server
	mu     sync.Mutex
	conns  map[string]string
	groups map[string][]string // group → connection ids
	seen   []string
}

func newExampleService() *exampleService {
	s := &exampleService{
		conns:  map[string]string{"conn-1": "alice", "conn-2": "bob"},
		groups: map[string][]string{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// connectionString returns a connection string for the fake.
func (s *exampleService) connectionString() string {
	return "Endpoint=" + s.URL + ";AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;"
}

// last returns the last request the fake saw, as "METHOD path content-type body".
func (s *exampleService) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[len(s.seen)-1]
}

func (s *exampleService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	seg := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/api/"), "/")
	for i := range seg {
		seg[i], _ = url.PathUnescape(seg[i])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	line := r.Method + " " + r.URL.EscapedPath()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		line += " " + ct + " " + string(body)
	}
	s.seen = append(s.seen, line)
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	// seg: hubs, {hub}, kind, id, ...
	switch {
	case len(seg) >= 4 && seg[2] == "connections" && r.Method == http.MethodHead:
		s.found(w, s.conns[seg[3]] != "")
	case len(seg) == 4 && seg[2] == "groups" && r.Method == http.MethodHead:
		s.found(w, len(s.groups[seg[3]]) > 0)
	case len(seg) == 4 && seg[2] == "users" && r.Method == http.MethodHead:
		exists := false
		for _, u := range s.conns {
			exists = exists || u == seg[3]
		}
		s.found(w, exists)
	case len(seg) == 6 && seg[2] == "groups" && seg[4] == "connections" && r.Method == http.MethodPut:
		if s.conns[seg[5]] == "" {
			w.Header().Set("x-ms-error-code", "ConnectionNotFound")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if !slices.Contains(s.groups[seg[3]], seg[5]) {
			s.groups[seg[3]] = append(s.groups[seg[3]], seg[5])
		}
	case len(seg) == 6 && seg[2] == "groups" && seg[4] == "connections" && r.Method == http.MethodDelete:
		s.groups[seg[3]] = slices.DeleteFunc(s.groups[seg[3]], func(c string) bool { return c == seg[5] })
		w.WriteHeader(http.StatusNoContent)
	case len(seg) == 5 && seg[2] == "groups" && seg[4] == "connections" && r.Method == http.MethodGet:
		type member struct {
			ConnectionID string `json:"connectionId"`
			UserID       string `json:"userId,omitempty"`
		}
		page := struct {
			Value []member `json:"value"`
		}{Value: []member{}}
		for _, c := range s.groups[seg[3]] {
			page.Value = append(page.Value, member{c, s.conns[c]})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	case len(seg) == 3 && seg[2] == ":generateToken":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"token":"service-minted-token"}`)
	case strings.HasSuffix(r.URL.Path, ":send"):
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, ":closeConnections"):
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *exampleService) found(w http.ResponseWriter, ok bool) {
	if !ok {
		w.WriteHeader(http.StatusNotFound)
	}
}
