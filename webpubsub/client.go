package webpubsub

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// APIVersion is the REST api-version the client uses unless WithAPIVersion
// chooses another: the one the SDK was generated from.
const APIVersion = "2024-12-01"

// SDKVersion is the version of this package, sent in the User-Agent.
const SDKVersion = "0.1.0"

// supportedAPIVersions are the api-versions WithAPIVersion accepts, newest
// first.
var supportedAPIVersions = func() []string {
	v := wire.APIVersions()
	slices.Reverse(v)
	return v
}()

var hubPattern = regexp.MustCompile(wire.HubPattern)

// Client calls the REST API of one hub of a Web PubSub service. It is safe
// for concurrent use; create one per hub and reuse it.
//
// Every method takes a context first, validates its arguments before any
// I/O (errors wrap ErrInvalidArgument), and returns *ResponseError when the
// service answers with a status the operation does not expect.
type Client struct {
	hub        string
	endpoint   string // service base URL, no trailing slash
	server     string // endpoint + "/", for the generated request builders
	apiVersion string
	key        *KeyCredential // nil with Microsoft Entra ID
	pipe       *pipeline
	// sendAllTemplates are SendToAll requests built once (sendtemplate.go).
	sendAllTemplates requestTemplates
	// tokenBases caches client base URLs by client path (token.go).
	tokenBases atomic.Pointer[map[string]*clientBaseURLs]
}

// clientOptions collects what the Option functions set.
type clientOptions struct {
	httpClient *http.Client
	apiVersion string
	proxy      string
	retry      RetryOptions
	logger     *slog.Logger
	tracer     tracing.Tracer
	appID      string
	scope      string
	errs       []error
}

// Option configures a Client. Options are checked by the constructor, which
// returns the first problem as an error wrapping ErrInvalidArgument.
type Option func(*clientOptions)

// WithHTTPClient sends requests with a copy of hc (its Transport, Timeout,
// Jar and CheckRedirect are kept; hc itself is not changed). A redirect to
// another scheme, host or port is refused before hc's CheckRedirect is
// asked, so credentials never follow a redirect elsewhere.
//
// The default is a client with no timeout (use contexts for deadlines)
// over one transport shared by all clients: a clone of
// http.DefaultTransport keeping 128 idle connections per host, with 10 s
// dial and TLS handshake timeouts, speaking HTTP/1.1 over a pool of
// connections (measured faster than HTTP/2 for concurrent senders; see
// docs/PERFORMANCE.md).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *clientOptions) {
		if hc == nil {
			o.errs = append(o.errs, invalidArg("WithHTTPClient: the *http.Client is nil"))
			return
		}
		c := *hc
		o.httpClient = &c
	}
}

// WithAPIVersion chooses the REST api-version: "2024-12-01" (the default,
// APIVersion), "2024-01-01", "2023-07-01", "2022-11-01" or "2021-10-01".
// Operations and parameters the chosen version lacks are refused with
// ErrInvalidArgument before any I/O: ListConnectionsInGroup needs
// 2024-12-01; AddConnectionsToGroups, RemoveConnectionsFromGroups, TTL and
// MQTT/Socket.IO tokens minted by the service need 2024-01-01; Filter,
// token groups minted by the service and RemoveConnectionFromAllGroups need
// 2022-11-01.
func WithAPIVersion(v string) Option {
	return func(o *clientOptions) {
		for _, s := range supportedAPIVersions {
			if v == s {
				o.apiVersion = v
				return
			}
		}
		o.errs = append(o.errs, invalidArg("WithAPIVersion: %q is not a supported api-version (use one of %s)", v, strings.Join(supportedAPIVersions, ", ")))
	}
}

// WithReverseProxy sends every REST request to proxyURL (for example an
// Azure API Management gateway) instead of the service endpoint: the proxy
// URL's scheme, host and path prefix replace the endpoint's. The JWT's aud
// stays the service URL, and client access URLs still point at the service.
func WithReverseProxy(proxyURL string) Option {
	return func(o *clientOptions) {
		u, err := normalizeEndpoint(proxyURL, "", "WithReverseProxy: the proxy URL")
		if err != nil {
			o.errs = append(o.errs, err)
			return
		}
		o.proxy = u
	}
}

// WithRetry replaces the retry policy; see RetryOptions.
func WithRetry(r RetryOptions) Option {
	return func(o *clientOptions) {
		if r.RetryDelay < 0 || r.MaxRetryDelay < 0 {
			o.errs = append(o.errs, invalidArg("WithRetry: delays must not be negative"))
			return
		}
		o.retry = r
	}
}

// WithLogger logs every try (operation, method, URL with secret query
// values redacted, status or error, duration, attempt) to l. Headers and
// bodies are never logged. Without this option, or with a nil logger,
// nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *clientOptions) { o.logger = l }
}

// WithTokenScope sets the Microsoft Entra ID scope a NewClient client asks
// its credential for; the default is "https://webpubsub.azure.com/.default"
// (the public Azure cloud). A sovereign or private cloud that documents
// another audience for the Web PubSub data plane needs its scope here, in
// the form "<audience>/.default". It applies to NewClient only: with an
// access key (NewClientWithKey, NewClientFromConnectionString) the option
// is refused, as no token is requested. scope must be non-empty and
// without spaces.
func WithTokenScope(scope string) Option {
	return func(o *clientOptions) {
		if scope == "" || strings.IndexFunc(scope, unicode.IsSpace) >= 0 || !utf8.ValidString(scope) {
			o.errs = append(o.errs, invalidArg("WithTokenScope: the scope must be a non-empty string without spaces, e.g. https://webpubsub.azure.com/.default"))
			return
		}
		o.scope = scope
	}
}

// WithUserAgent puts appID in front of the User-Agent, as in the Azure SDK
// convention "<appID> azsdk-go-webpubsub/<version> (<go version>; <GOOS>)".
// appID must be 1 to 24 printable characters without spaces.
func WithUserAgent(appID string) Option {
	return func(o *clientOptions) {
		bad := appID == "" || len(appID) > 24 || strings.IndexFunc(appID, func(r rune) bool {
			return unicode.IsSpace(r) || !unicode.IsPrint(r) || r > unicode.MaxASCII
		}) >= 0
		if bad {
			o.errs = append(o.errs, invalidArg("WithUserAgent: application id %q must be 1 to 24 printable ASCII characters without spaces", appID))
			return
		}
		o.appID = appID
	}
}

// NewClientFromConnectionString returns a client for hub, authenticated
// with the access key of the connection string (see ParseConnectionString).
func NewClientFromConnectionString(conn, hub string, opts ...Option) (*Client, error) {
	cs, err := ParseConnectionString(conn)
	if err != nil {
		return nil, err
	}
	key, err := NewKeyCredential(cs.AccessKey)
	if err != nil {
		return nil, err
	}
	return newClient(cs.Endpoint, hub, key, nil, opts)
}

// NewClient returns a client for hub at endpoint (an https URL, optionally
// with a port and a path prefix) that authenticates with Microsoft Entra ID:
// cred is any azcore.TokenCredential, for example one from azidentity. Its
// tokens (for the scope https://webpubsub.azure.com/.default unless
// WithTokenScope says otherwise) are cached and refreshed before they
// expire. The endpoint must be https, or http to localhost or a loopback
// address, so bearer tokens never cross the network in clear. For an
// access key use NewClientWithKey or NewClientFromConnectionString.
func NewClient(endpoint, hub string, cred azcore.TokenCredential, opts ...Option) (*Client, error) {
	ep, err := normalizeEndpoint(endpoint, "", "NewClient: the endpoint")
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, invalidArg("NewClient: the credential is nil; pass an azcore.TokenCredential (for an access key use NewClientWithKey)")
	}
	if !secureOrLoopback(ep) {
		return nil, invalidArg("NewClient: Microsoft Entra ID tokens are only sent over https (or http to localhost), and the endpoint is http to another host")
	}
	return newClient(ep, hub, nil, cred, opts)
}

// NewClientWithKey returns a client for hub at endpoint (an http or https
// URL, optionally with a port and a path prefix) that signs each request
// with the access key in key (see NewKeyCredential; rotate it with
// KeyCredential.Update).
func NewClientWithKey(endpoint, hub string, key *KeyCredential, opts ...Option) (*Client, error) {
	ep, err := normalizeEndpoint(endpoint, "", "NewClientWithKey: the endpoint")
	if err != nil {
		return nil, err
	}
	if key == nil || key.secret() == nil {
		return nil, invalidArg("NewClientWithKey: the *KeyCredential is nil or was not made with NewKeyCredential")
	}
	return newClient(ep, hub, key, nil, opts)
}

func newClient(endpoint, hub string, key *KeyCredential, tc azcore.TokenCredential, opts []Option) (*Client, error) {
	if err := validHub(hub); err != nil {
		return nil, err
	}
	o := clientOptions{apiVersion: APIVersion}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if len(o.errs) > 0 {
		return nil, o.errs[0]
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{Transport: defaultTransport}
	}
	o.httpClient.CheckRedirect = safeRedirect(o.httpClient.CheckRedirect) // a copy (WithHTTPClient)
	p := &pipeline{
		http:      o.httpClient,
		retry:     o.retry.resolved(),
		logger:    o.logger,
		tracer:    o.tracer,
		userAgent: userAgent(o.appID),
		uaValue:   []string{userAgent(o.appID)},
		now:       time.Now,
		sleep:     sleepCtx,
	}
	if o.proxy != "" {
		if tc != nil && !secureOrLoopback(o.proxy) {
			return nil, invalidArg("WithReverseProxy: Microsoft Entra ID tokens are only sent over https (or http to localhost), and the proxy URL is http to another host")
		}
		var err1, err2 error
		p.proxyURL, err1 = url.Parse(o.proxy)
		p.serviceURL, err2 = url.Parse(endpoint)
		if err := errors.Join(err1, err2); err != nil {
			return nil, invalidArg("WithReverseProxy: %v", err)
		}
	}
	if key != nil {
		if o.scope != "" {
			return nil, invalidArg("WithTokenScope: the client signs with an access key and requests no Microsoft Entra ID token; use the option with NewClient")
		}
		p.auth = &keyAuthorizer{cred: key, now: time.Now}
	} else {
		scope := o.scope
		if scope == "" {
			scope = wire.EntraScope
		}
		p.auth = &entraAuthorizer{cred: tc, now: time.Now, scopes: []string{scope}}
	}
	return &Client{
		hub:        hub,
		endpoint:   endpoint,
		server:     endpoint + "/",
		apiVersion: o.apiVersion,
		key:        key,
		pipe:       p,
	}, nil
}

// secureOrLoopback reports whether a bearer token may be sent to base: an
// https URL, or http to a loopback host (a local emulator).
func secureOrLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// userAgent builds "[appID ]azsdk-go-webpubsub/<version> (<go>; <GOOS>)".
func userAgent(appID string) string {
	ua := "azsdk-go-webpubsub/" + SDKVersion + " (" + runtime.Version() + "; " + runtime.GOOS + ")"
	if appID != "" {
		ua = appID + " " + ua
	}
	return ua
}

// Hub returns the hub the client is bound to.
func (c *Client) Hub() string { return c.hub }

// Endpoint returns the service endpoint (http or https, without a trailing
// slash).
func (c *Client) Endpoint() string { return c.endpoint }

// APIVersion returns the REST api-version the client sends.
func (c *Client) APIVersion() string { return c.apiVersion }
