package webpubsub_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// spanView is what the test compares of a recorded span.
type spanView struct {
	Name    string
	Kind    trace.SpanKind
	Status  codes.Code
	Attrs   map[string]string
	Tries   int
	TryLast map[string]string
}

func viewOf(s sdktrace.ReadOnlySpan) spanView {
	v := spanView{Name: s.Name(), Kind: s.SpanKind(), Status: s.Status().Code, Attrs: map[string]string{}}
	for _, a := range s.Attributes() {
		v.Attrs[string(a.Key)] = a.Value.Emit()
	}
	for _, e := range s.Events() {
		if e.Name == "webpubsub.try" {
			v.Tries++
			v.TryLast = map[string]string{}
			for _, a := range e.Attributes {
				v.TryLast[string(a.Key)] = a.Value.Emit()
			}
		}
	}
	return v
}

// TestTracingSpans records spans with azotel and the OpenTelemetry SDK's
// in-memory recorder: one span per operation (one per page when listing)
// with the Azure SDK attributes, retries as events, failures marked with
// error.type, and the access token never in url.full.
func TestTracingSpans(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	c, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "hub", webpubsub.WithRetry(fastRetry),
		webpubsub.WithTracingProvider(azotel.NewTracingProvider(tp, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := webpubsub.WithClientRequestID(context.Background(), "rid-1")
	host, port, _ := strings.Cut(strings.TrimPrefix(srv.URL(), "http://"), ":")
	base := map[string]string{"az.namespace": "Microsoft.SignalRService", "server.address": host, "server.port": port, "az.client_request_id": "rid-1"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	sendURL := srv.URL() + "/api/hubs/hub/:send?api-version=" + webpubsub.APIVersion

	// A send that succeeds on its third try.
	srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Status: http.StatusTooManyRequests, Count: 2})
	if err := c.SendToAll(ctx, webpubsub.Text("x"), nil); err != nil {
		t.Fatal(err)
	}
	// A failed call, an existence check answered 404, a dropped connection.
	srv.InjectFault(webpubsubtest.Fault{Operation: "AddUserToGroup", Status: http.StatusBadRequest})
	_ = c.AddUserToGroup(ctx, "g", "u")
	if _, err := c.UserExists(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Drop: true, Count: 10})
	_ = c.SendToAll(ctx, webpubsub.Text("x"), nil)
	srv.ClearFaults()
	// A listing of 3 pages.
	for i := range 5 {
		conn := srv.Connect(t, "hub", "user", webpubsubtest.WithGroups("room"))
		_ = i
		defer conn.Close()
	}
	n := 0
	for _, err := range c.ListConnectionsInGroup(ctx, "room", &webpubsub.ListConnectionsOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("listed %d members, want 5", n)
	}

	spans := rec.Ended()
	var got []spanView
	for _, s := range spans {
		got = append(got, viewOf(s))
	}
	listURL := func(q string) string { return srv.URL() + "/api/hubs/hub/groups/room/connections?" + q }
	want := []spanView{
		{Name: "Client.SendToAll", Kind: trace.SpanKindClient, Attrs: with(map[string]string{"http.request.method": "POST", "url.full": sendURL,
			"http.response.status_code": "202", "http.request.resend_count": "2"}), Tries: 3, TryLast: map[string]string{"attempt": "3", "http.response.status_code": "202"}},
		{Name: "Client.AddUserToGroup", Kind: trace.SpanKindClient, Status: codes.Error, Attrs: with(map[string]string{"http.request.method": "PUT",
			"url.full": srv.URL() + "/api/hubs/hub/users/u/groups/g?api-version=" + webpubsub.APIVersion, "http.response.status_code": "400", "error.type": "400"}),
			Tries: 1, TryLast: map[string]string{"attempt": "1", "http.response.status_code": "400"}},
		{Name: "Client.UserExists", Kind: trace.SpanKindClient, Attrs: with(map[string]string{"http.request.method": "HEAD",
			"url.full": srv.URL() + "/api/hubs/hub/users/nobody?api-version=" + webpubsub.APIVersion, "http.response.status_code": "404"}),
			Tries: 1, TryLast: map[string]string{"attempt": "1", "http.response.status_code": "404"}},
		{Name: "Client.SendToAll", Kind: trace.SpanKindClient, Status: codes.Error, Attrs: with(map[string]string{"http.request.method": "POST", "url.full": sendURL,
			"error.type": "io.EOF"}),
			Tries: 1, TryLast: map[string]string{"attempt": "1", "error.type": "io.EOF"}}, // a POST that may have arrived is not retried
	}
	if len(got) != len(want)+3 {
		t.Fatalf("%d spans, want %d:\n%+v", len(got), len(want)+3, got)
	}
	// A dropped connection reads as EOF, or as a reset if the server closed
	// with unread bytes: both name the cause.
	for _, m := range []map[string]string{got[3].Attrs, got[3].TryLast} {
		if m["error.type"] == "syscall.ECONNRESET" {
			m["error.type"] = "io.EOF"
		}
	}
	if diff := cmp.Diff(want, got[:4]); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	for i, page := range got[4:] {
		if page.Name != "Client.ListConnectionsInGroup" || page.Kind != trace.SpanKindClient || page.Attrs["http.response.status_code"] != "200" ||
			!strings.HasPrefix(page.Attrs["url.full"], listURL("")) || page.Tries != 1 {
			t.Errorf("page %d: %+v", i+1, page)
		}
	}
	for _, s := range spans {
		if s.Parent().IsValid() {
			t.Errorf("span %s has a parent; operations are root spans here", s.Name())
		}
		for _, a := range s.Attributes() {
			if a.Value.Type() == attribute.STRING && strings.Contains(a.Value.AsString(), "eyJ") {
				t.Errorf("span %s attribute %s holds a JWT", s.Name(), a.Key)
			}
		}
	}
}
