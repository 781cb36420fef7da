package emulator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// OperationConnect is the operation name of the WebSocket client endpoints.
const OperationConnect = "Connect"

// opHealth is the one REST operation that needs no token.
const opHealth = "GetServiceStatus"

// recordingMux is a gen.ServeMux that also remembers which generated
// wrapper method serves each pattern, so operation names come from the
// generated code instead of a hand-kept table.
type recordingMux struct {
	*http.ServeMux
	ops map[string]string
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	name := runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name() // ".../gen.(*ServerInterfaceWrapper).SendToAll-fm"
	name = strings.TrimSuffix(name[strings.LastIndexByte(name, '.')+1:], "-fm")
	m.ops[pattern] = name
	m.ServeMux.HandleFunc(pattern, h)
}

func (e *Emulator) routes() http.Handler {
	api := &recordingMux{ServeMux: http.NewServeMux(), ops: map[string]string{}}
	strict := gen.NewStrictHandlerWithOptions(&restAPI{e: e}, nil, gen.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeErrorFor(w, r, http.StatusBadRequest, "InvalidRequestBody", err.Error())
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			var ae *apiError
			if errors.As(err, &ae) {
				writeErrorFor(w, r, ae.status, ae.code, ae.message)
				return
			}
			e.opts.logger.Error("REST operation failed", "path", r.URL.Path, "error", err.Error())
			writeErrorFor(w, r, http.StatusInternalServerError, "InternalServerError", err.Error())
		},
	})
	gen.HandlerWithOptions(strict, gen.StdHTTPServerOptions{
		BaseRouter: api,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeErrorFor(w, r, http.StatusBadRequest, "InvalidParameter", err.Error())
		},
	})

	root := http.NewServeMux()
	root.Handle("/api/", e.restLayer(api))
	root.HandleFunc("GET "+wire.ClientPathDefault+"{hub}", e.serveClient)
	root.HandleFunc("GET "+wire.ClientPathQueryHub+"{$}", e.serveClient)
	root.HandleFunc("GET "+wire.ClientPathMQTT+"{hub}", e.serveMQTT)
	e.mux = root
	e.ops = map[string]string{
		"GET " + wire.ClientPathDefault + "{hub}": OperationConnect,
		"GET " + wire.ClientPathQueryHub + "{$}":  OperationConnect,
		"GET " + wire.ClientPathMQTT + "{hub}":    OperationConnect,
	}
	e.apiMux = api
	return root
}

// restLayer authenticates REST calls and reads their bodies (at most
// MaxRequestBodyBytes) before the generated router sees them.
func (e *Emulator) restLayer(api *recordingMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A client that sends half a body does not hold the connection,
		// whether the body is read here or discarded by net/http after a
		// refusal: the server has no ReadTimeout, which would cut WebSockets.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(requestBodyTimeout))
		_, pattern := api.Handler(r)
		op := api.ops[pattern]
		if op == "" {
			api.ServeHTTP(w, r) // 404 or 405 from the router
			return
		}
		// The service picks the route (and refuses its api-version) before
		// it authenticates the call.
		if msg := checkAPIVersion(r, op); msg != "" {
			writeErrorFor(w, r, http.StatusBadRequest, errUnsupportedAPIVersion, msg)
			return
		}
		if op != opHealth {
			if err := e.authenticateREST(r); err != nil {
				writeErrorFor(w, r, http.StatusUnauthorized, "Unauthorized", err.Error())
				return
			}
		}
		if r.ContentLength > MaxRequestBodyBytes {
			writeErrorFor(w, r, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body is larger than 1 MiB")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeErrorFor(w, r, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body is larger than 1 MiB")
				return
			}
			writeErrorFor(w, r, http.StatusBadRequest, "InvalidRequestBody", "reading the request body: "+err.Error())
			return
		}
		// Read: a handler may now take its time (a held request in tests).
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		collapseRepeatedAPIVersion(r)
		ctx := context.WithValue(r.Context(), requestKey, &restRequest{r: r, body: body})
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		api.ServeHTTP(sw, r.WithContext(ctx))
		// The path only: queries may carry filters with user data.
		e.opts.logger.Debug("REST call", "operation", op, "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

// statusWriter remembers the status of a REST response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// collapseRepeatedAPIVersion turns api-version=X&api-version=X (a pager
// that appends its api-version to a nextLink which already carries it) into
// one value. Differing values are left for the router to reject.
func collapseRepeatedAPIVersion(r *http.Request) {
	q := r.URL.Query()
	vs := q[wire.QueryAPIVersion]
	if len(vs) < 2 {
		return
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return
		}
	}
	q[wire.QueryAPIVersion] = vs[:1]
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
}
