package webpubsub

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/gen"
)

// requestShape is what the service sees of a request.
type requestShape struct {
	Method, URL   string
	Header        http.Header
	ContentLength int64
	Body, Replay  string
}

func shapeOf(t *testing.T, req *http.Request) requestShape {
	t.Helper()
	read := func(r io.Reader) string {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	s := requestShape{Method: req.Method, URL: req.URL.String(), Header: req.Header, ContentLength: req.ContentLength, Body: read(req.Body)}
	if req.GetBody == nil {
		t.Fatal("GetBody is nil: a retry could not replay the body")
	}
	rb, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	s.Replay = read(rb)
	return s
}

// TestSendToAllTemplateMatchesGenerated checks that the cached SendToAll
// request is the one the generated builder makes, for every value message.
func TestSendToAllTemplateMatchesGenerated(t *testing.T) {
	c, err := NewClientFromConnectionString("Endpoint=https://x.webpubsub.azure.com/prefix;AccessKey="+testKey, "chat_1")
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]Message{
		"json": RawJSON([]byte(`{"a":1}`)), "text": Text("héllo"), "binary": Binary([]byte{0, 1, 2}),
		"empty text": Text(""), "empty binary": Binary(nil),
	}
	for name, msg := range msgs {
		t.Run(name, func(t *testing.T) {
			for range 2 { // the first call builds the template, the second copies it
				got, ok, err := c.newSendToAllRequest(context.Background(), &gen.SendToAllParams{APIVersion: c.apiVersion}, &msg)
				if err != nil || !ok {
					t.Fatalf("newSendToAllRequest: ok=%v err=%v", ok, err)
				}
				body, err := msg.bodyReader()
				if err != nil {
					t.Fatal(err)
				}
				want, err := gen.NewSendToAllRequestWithBody(c.server, c.hub, &gen.SendToAllParams{APIVersion: c.apiVersion}, msg.contentType, body)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(shapeOf(t, want), shapeOf(t, got)); diff != "" {
					t.Errorf("template request differs from the generated one (-generated +template):\n%s", diff)
				}
			}
		})
	}
	if _, ok, _ := c.newSendToAllRequest(context.Background(), &gen.SendToAllParams{APIVersion: c.apiVersion}, &Message{contentType: "application/json", reader: bytes.NewReader(nil)}); ok {
		t.Error("a Stream message used the template")
	}
}

// TestSendToAllFastPathKeepsEveryParameter sets each field of
// gen.SendToAllParams in turn, found by reflection so that a field the
// generator adds later is covered without editing this test, and checks
// that the request SendToAll builds is the one the generated builder makes
// from the same params: no parameter can be dropped by the template.
func TestSendToAllFastPathKeepsEveryParameter(t *testing.T) {
	c, err := NewClientFromConnectionString("Endpoint=https://x.webpubsub.azure.com;AccessKey="+testKey, "chat")
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[gen.SendToAllParams]()
	cases := map[string]gen.SendToAllParams{"no options": {APIVersion: c.apiVersion}}
	for i := range typ.NumField() {
		f := typ.Field(i)
		params := gen.SendToAllParams{APIVersion: c.apiVersion}
		setSample(t, reflect.ValueOf(&params).Elem().FieldByIndex(f.Index), typ.Name()+"."+f.Name)
		cases[f.Name] = params
	}
	if len(cases) < 4 {
		t.Fatalf("only %d cases: gen.SendToAllParams lost its fields?", len(cases))
	}
	for name, params := range cases {
		t.Run(name, func(t *testing.T) {
			for _, msg := range []Message{Text("hi"), RawJSON([]byte(`{"a":1}`)), Binary([]byte{1})} {
				got, err := c.sendToAllRequest(context.Background(), "SendToAll", &params, &msg)
				if err != nil {
					t.Fatal(err)
				}
				body, err := msg.bodyReader()
				if err != nil {
					t.Fatal(err)
				}
				want, err := gen.NewSendToAllRequestWithBody(c.server, c.hub, &params, msg.contentType, body)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(shapeOf(t, want), shapeOf(t, got)); diff != "" {
					t.Errorf("%s: the request SendToAll builds differs from the generated one (-generated +built):\n%s", msg.contentType, diff)
				}
			}
		})
	}
}

// setSample sets v, a field of a gen.*Params, to a value that is not its
// zero value and that the generated builder can encode.
func setSample(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		setSample(t, v.Elem(), name)
	case reflect.String:
		v.SetString("sample-" + strings.ToLower(name[strings.LastIndex(name, ".")+1:]))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			setSample(t, v.Index(i), name)
		}
	default:
		t.Fatalf("%s has kind %s: teach setSample a non-zero value for it", name, v.Kind())
	}
}

// TestSendToAllTemplateConcurrent sends from many goroutines at once; run
// with -race.
func TestSendToAllTemplateConcurrent(t *testing.T) {
	f := newFakeService(t, "")
	c, err := NewClientFromConnectionString("Endpoint="+f.srv.URL+";AccessKey="+testKey, "chat")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := c.SendToAll(context.Background(), Text(string(rune('a'+i))), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 8 {
		t.Fatalf("the service got %d requests, want 8", len(f.reqs))
	}
	seen := map[string]bool{}
	for _, r := range f.reqs {
		if r.URI != "/api/hubs/chat/:send?api-version="+APIVersion || r.ContentType != "text/plain" {
			t.Errorf("request %s %q", r.URI, r.ContentType)
		}
		seen[r.Body] = true
	}
	if len(seen) != 8 {
		t.Errorf("bodies %v: want 8 different ones", seen)
	}
}
