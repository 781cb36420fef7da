package contract

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/webpubsub-go/sdk/gen"
)

// documentPath is api/webpubsub.yaml seen from this package's directory,
// which is where go test runs.
const documentPath = "../../api/webpubsub.yaml"

// loadRouter loads and validates our document once per test binary.
var loadRouter = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(documentPath)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	doc.Servers = nil // match any host: httptest listens on 127.0.0.1
	return gorillamux.NewRouter(doc)
})

// wire is one request as it arrived at the server, before any decoding.
type wire struct {
	Method      string
	Path        string // escaped, exactly as in the request line
	Query       string // raw, exactly as in the request line
	ContentType string
	Body        string
}

// harness is a generated client talking to the generated strict server
// through request and response validation.
type harness struct {
	client *gen.ClientWithResponses
	fake   *fakeService
	url    string // the server's base URL

	mu             sync.Mutex
	wires          []wire
	requestErrors  []error // the validator rejected a request (it then never reaches the fake)
	responseErrors []error // the validator rejected a response
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	router, err := loadRouter()
	if err != nil {
		t.Fatalf("load %s: %v", documentPath, err)
	}
	h := &harness{fake: &fakeService{}}
	server := gen.HandlerFromMux(gen.NewStrictHandler(h.fake, nil), http.NewServeMux())
	srv := httptest.NewServer(h.validate(router, server))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	h.client, err = gen.NewClientWithResponses(srv.URL, gen.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// validate checks each request against the document, records it, passes it
// on, and checks the response against the document too. A rejected request
// gets 400 and never reaches next.
func (h *harness) validate(router routers.Router, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		path, query, _ := strings.Cut(r.RequestURI, "?")
		h.mu.Lock()
		h.wires = append(h.wires, wire{Method: r.Method, Path: path, Query: query, ContentType: r.Header.Get("Content-Type"), Body: string(body)})
		h.mu.Unlock()

		route, pathParams, err := router.FindRoute(r)
		if err != nil {
			h.fail(&h.requestErrors, err)
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		// The gorillamux router returns path values still escaped
		// ("Chat_%60%2C.%5B%5D"); the pattern applies to the real value.
		for name, v := range pathParams {
			if pathParams[name], err = url.PathUnescape(v); err != nil {
				h.fail(&h.requestErrors, err)
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		in := &openapi3filter.RequestValidationInput{
			Request: r, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			h.fail(&h.requestErrors, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		out.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			h.fail(&h.responseErrors, err)
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (h *harness) fail(list *[]error, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	*list = append(*list, err)
}

// errs returns the validation errors so far.
func (h *harness) errs() (request, response error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return errors.Join(h.requestErrors...), errors.Join(h.responseErrors...)
}

// recordedWires returns the requests seen on the wire so far.
func (h *harness) recordedWires() []wire {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]wire(nil), h.wires...)
}
