package webpubsub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// APIVersion is the REST api-version the client uses unless WithAPIVersion
// chooses another.
const APIVersion = wire.APIVersion20241201

// SDKVersion is the version of this package, sent in the User-Agent.
const SDKVersion = "0.1.0"

// supportedAPIVersions are the api-versions WithAPIVersion accepts.
var supportedAPIVersions = []string{
	wire.APIVersion20241201, wire.APIVersion20240101, wire.APIVersion20230701,
	wire.APIVersion20221101, wire.APIVersion20211001,
}

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
	appID      string
	errs       []error
}

// Option configures a Client. Options are checked by the constructor, which
// returns the first problem as an error wrapping ErrInvalidArgument.
type Option func(*clientOptions)

// WithHTTPClient sends requests with a copy of hc (its Transport, Timeout,
// Jar and CheckRedirect are kept). The default is a client with
// http.DefaultTransport and no timeout: use contexts for deadlines.
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
		u, err := normalizeEndpoint(proxyURL, "")
		if err != nil {
			o.errs = append(o.errs, invalidArg("WithReverseProxy: %v", strings.TrimPrefix(err.Error(), "webpubsub: invalid argument: ")))
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

// NewClient returns a client for hub at endpoint (an http or https URL,
// optionally with a port and a path prefix). cred is either a
// *KeyCredential (access key) or an azcore.TokenCredential (Microsoft Entra
// ID, e.g. from azidentity), whose tokens for the scope
// https://webpubsub.azure.com/.default are cached and refreshed before they
// expire. Entra ID needs an https endpoint (http only to localhost or a
// loopback address), so bearer tokens never cross the network in clear.
func NewClient(endpoint, hub string, cred any, opts ...Option) (*Client, error) {
	ep, err := normalizeEndpoint(endpoint, "")
	if err != nil {
		return nil, err
	}
	switch c := cred.(type) {
	case *KeyCredential:
		if c == nil || c.secret() == nil {
			return nil, invalidArg("NewClient: the *KeyCredential is nil or was not made with NewKeyCredential")
		}
		return newClient(ep, hub, c, nil, opts)
	case azcore.TokenCredential:
		if c == nil {
			return nil, invalidArg("NewClient: the credential is nil")
		}
		if !secureOrLoopback(ep) {
			return nil, invalidArg("NewClient: Microsoft Entra ID tokens are only sent over https (or http to localhost), not to %s", ep)
		}
		return newClient(ep, hub, nil, c, opts)
	case nil:
		return nil, invalidArg("NewClient: the credential is nil; pass a *KeyCredential or an azcore.TokenCredential")
	default:
		return nil, invalidArg("NewClient: credential of type %T is neither a *KeyCredential nor an azcore.TokenCredential", cred)
	}
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
		o.httpClient = &http.Client{}
	}
	p := &pipeline{
		http:      o.httpClient,
		retry:     o.retry.resolved(),
		logger:    o.logger,
		userAgent: userAgent(o.appID),
		uaValue:   []string{userAgent(o.appID)},
		now:       time.Now,
		sleep:     sleepCtx,
	}
	if o.proxy != "" {
		if tc != nil && !secureOrLoopback(o.proxy) {
			return nil, invalidArg("WithReverseProxy: Microsoft Entra ID tokens are only sent over https (or http to localhost), not to %s", o.proxy)
		}
		var err1, err2 error
		p.proxyURL, err1 = url.Parse(o.proxy)
		p.serviceURL, err2 = url.Parse(endpoint)
		if err := errors.Join(err1, err2); err != nil {
			return nil, invalidArg("WithReverseProxy: %v", err)
		}
	}
	if key != nil {
		p.auth = &keyAuthorizer{cred: key, now: time.Now}
	} else {
		p.auth = &entraAuthorizer{cred: tc, now: time.Now}
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

// ---- validation ----

func validHub(hub string) error {
	if !hubPattern.MatchString(hub) {
		return invalidArg("hub %q must start with a letter and have at most 128 letters, digits or _`,.[] (no hyphens)", hub)
	}
	return nil
}

// firstError returns the first non-nil error among checks: argument checks,
// which are cheap and free of side effects, evaluated in order.
func firstError(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return invalidArg("context is nil; pass context.Background() or a request context")
	}
	return nil
}

func validGroup(group string) error {
	switch n := utf8.RuneCountInString(group); {
	case group == "":
		return invalidArg("group name is empty")
	case n > 1024:
		return invalidArg("group name is %d characters; the service allows at most 1024", n)
	case strings.TrimSpace(group) == "":
		return invalidArg("group name is only whitespace")
	case isDotSegment(group):
		return invalidArg("group name %q cannot be used: in a URL path it is read as a step to the same or the parent folder, which would send the request to another operation", group)
	}
	return nil
}

func validID(kind, id string) error {
	switch {
	case id == "":
		return invalidArg("%s is empty", kind)
	case isDotSegment(id):
		return invalidArg("%s %q cannot be used: in a URL path it is read as a step to the same or the parent folder, which would send the request to another operation", kind, id)
	}
	return nil
}

// isDotSegment reports whether s is "." or "..", which URL resolution
// removes from a path (RFC 3986, section 5.2.4) however it is escaped.
func isDotSegment(s string) bool { return s == "." || s == ".." }

func validExcluded(ids []string) ([]string, error) {
	for i, id := range ids {
		if id == "" {
			return nil, invalidArg("excluded connection id %d is empty", i+1)
		}
	}
	if len(ids) == 0 {
		return nil, nil // an empty non-nil slice would send "excluded="
	}
	return ids, nil
}

// needVersion refuses what needs api-version min when the client uses an
// older one.
func (c *Client) needVersion(min, what string) error {
	if c.apiVersion < min {
		return invalidArg("%s needs api-version %s or later, but the client uses %s (see WithAPIVersion)", what, min, c.apiVersion)
	}
	return nil
}

// ttlSeconds checks a TTL and converts it to the query value.
func (c *Client) ttlSeconds(ttl time.Duration) (*int32, error) {
	if ttl == 0 {
		return nil, nil
	}
	if ttl < 0 || ttl > wire.MaxMessageTTLSeconds*time.Second {
		return nil, invalidArg("TTL %v must be between 1s and 5m0s (0 means the message never expires)", ttl)
	}
	if ttl%time.Second != 0 {
		return nil, invalidArg("TTL %v must be a whole number of seconds", ttl)
	}
	if err := c.needVersion(wire.APIVersion20240101, "TTL (messageTtlSeconds)"); err != nil {
		return nil, err
	}
	s := int32(ttl / time.Second)
	return &s, nil
}

func (c *Client) filterParam(f string) (*string, error) {
	if f == "" {
		return nil, nil
	}
	if err := c.needVersion(wire.APIVersion20221101, "Filter"); err != nil {
		return nil, err
	}
	return &f, nil
}

// ---- request execution ----

// run sends req and expects a 2xx status.
func (c *Client) run(ctx context.Context, op string, req *http.Request, err error) error {
	if err != nil {
		return invalidArg("%s: building the request: %v", op, err)
	}
	resp, err := c.pipe.do(ctx, op, req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return newResponseError(op, resp, c.pipe.auth.secrets())
	}
	discard(resp)
	return nil
}

// exists sends a HEAD request: 200 is true, 404 false, anything else an
// error.
func (c *Client) exists(ctx context.Context, op string, req *http.Request, err error) (bool, error) {
	if err != nil {
		return false, invalidArg("%s: building the request: %v", op, err)
	}
	resp, err := c.pipe.do(ctx, op, req)
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		discard(resp)
		return true, nil
	case http.StatusNotFound:
		discard(resp)
		return false, nil
	}
	return false, newResponseError(op, resp, c.pipe.auth.secrets())
}

// sendBody prepares msg for req-building and makes a seekable stream
// replayable.
func sendBody(msg *Message) (io.Reader, func(*http.Request), error) {
	r, err := msg.bodyReader()
	if err != nil {
		return nil, nil, err
	}
	if msg.reader == nil {
		return r, nil, nil
	}
	rs, ok := msg.reader.(io.ReadSeeker)
	if !ok {
		return r, nil, nil
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return r, nil, nil // not really seekable: treat as a one-shot reader
	}
	size := int64(-1)
	if end, err := rs.Seek(0, io.SeekEnd); err == nil {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, nil, invalidArg("Stream message: seeking back to the start failed: %v", err)
		}
		size = end - start
	}
	return r, func(req *http.Request) {
		if size >= 0 {
			req.ContentLength = size // a known length avoids chunked encoding
			if size == 0 {
				req.Body = http.NoBody
			}
		}
		req.GetBody = func() (io.ReadCloser, error) {
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
			return io.NopCloser(rs), nil
		}
	}, nil
}

// ---- sends ----

// SendToAllOptions are the optional parameters of SendToAll.
type SendToAllOptions struct {
	// Filter is an OData filter that selects which connections receive the
	// message; build it with Filter to quote values safely. Needs
	// api-version 2022-11-01 or later.
	Filter string
	// Excluded lists connection ids that do not receive the message.
	Excluded []string
	// TTL is how long the message may wait for a slow client before the
	// service drops it: whole seconds from 1s to 5m. 0 means it never
	// expires. Needs api-version 2024-01-01 or later.
	TTL time.Duration
}

// SendToUserOptions are the optional parameters of SendToUser.
type SendToUserOptions struct {
	// Filter selects which of the user's connections receive the message.
	// Needs api-version 2022-11-01 or later.
	Filter string
	// TTL is as in SendToAllOptions.
	TTL time.Duration
}

// SendToConnectionOptions are the optional parameters of SendToConnection.
type SendToConnectionOptions struct {
	// TTL is as in SendToAllOptions.
	TTL time.Duration
}

// SendToGroupOptions are the optional parameters of SendToGroup.
type SendToGroupOptions struct {
	// Filter selects which of the group's connections receive the message.
	// Needs api-version 2022-11-01 or later.
	Filter string
	// Excluded lists connection ids that do not receive the message.
	Excluded []string
	// TTL is as in SendToAllOptions.
	TTL time.Duration
}

// SendToAll sends msg to every connection of the hub (POST
// /api/hubs/{hub}/:send). The service accepts the message (202) and
// delivers it asynchronously. Errors: ErrInvalidArgument for bad input,
// *ResponseError for an unexpected status.
func (c *Client) SendToAll(ctx context.Context, msg Message, opts *SendToAllOptions) error {
	const op = "SendToAll"
	if err := checkCtx(ctx); err != nil {
		return err
	}
	var o SendToAllOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToAllParams{APIVersion: c.apiVersion}
	var err error
	if params.Excluded, err = validExcluded(o.Excluded); err != nil {
		return err
	}
	if params.Filter, err = c.filterParam(o.Filter); err != nil {
		return err
	}
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	body, replay, err := sendBody(&msg)
	if err != nil {
		return err
	}
	if params.Excluded == nil && params.Filter == nil && params.MessageTTLSeconds == nil {
		if req, ok, err := c.newSendToAllRequest(ctx, &msg); ok {
			return c.run(ctx, op, req, err)
		}
	}
	req, err := gen.NewSendToAllRequestWithBody(c.server, c.hub, &params, msg.contentType, body)
	if err == nil && replay != nil {
		replay(req)
	}
	return c.run(ctx, op, req, err)
}

// SendToUser sends msg to every connection of userID (POST
// /api/hubs/{hub}/users/{userId}/:send). A user with no connections is not
// an error. Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) SendToUser(ctx context.Context, userID string, msg Message, opts *SendToUserOptions) error {
	const op = "SendToUser"
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return err
	}
	var o SendToUserOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToUserParams{APIVersion: c.apiVersion}
	var err error
	if params.Filter, err = c.filterParam(o.Filter); err != nil {
		return err
	}
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	body, replay, err := sendBody(&msg)
	if err != nil {
		return err
	}
	req, err := gen.NewSendToUserRequestWithBody(c.server, c.hub, userID, &params, msg.contentType, body)
	if err == nil && replay != nil {
		replay(req)
	}
	return c.run(ctx, op, req, err)
}

// SendToConnection sends msg to one connection (POST
// /api/hubs/{hub}/connections/{connectionId}/:send). An unknown connection
// is not an error. Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) SendToConnection(ctx context.Context, connectionID string, msg Message, opts *SendToConnectionOptions) error {
	const op = "SendToConnection"
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID)); err != nil {
		return err
	}
	var o SendToConnectionOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToConnectionParams{APIVersion: c.apiVersion}
	var err error
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	body, replay, err := sendBody(&msg)
	if err != nil {
		return err
	}
	req, err := gen.NewSendToConnectionRequestWithBody(c.server, c.hub, connectionID, &params, msg.contentType, body)
	if err == nil && replay != nil {
		replay(req)
	}
	return c.run(ctx, op, req, err)
}

// SendToGroup sends msg to every connection in group (POST
// /api/hubs/{hub}/groups/{group}/:send). An empty group is not an error.
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) SendToGroup(ctx context.Context, group string, msg Message, opts *SendToGroupOptions) error {
	const op = "SendToGroup"
	if err := firstError(checkCtx(ctx), validGroup(group)); err != nil {
		return err
	}
	var o SendToGroupOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToGroupParams{APIVersion: c.apiVersion}
	var err error
	if params.Excluded, err = validExcluded(o.Excluded); err != nil {
		return err
	}
	if params.Filter, err = c.filterParam(o.Filter); err != nil {
		return err
	}
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	body, replay, err := sendBody(&msg)
	if err != nil {
		return err
	}
	req, err := gen.NewSendToGroupRequestWithBody(c.server, c.hub, group, &params, msg.contentType, body)
	if err == nil && replay != nil {
		replay(req)
	}
	return c.run(ctx, op, req, err)
}

// ---- connections and users ----

// CloseConnectionOptions are the optional parameters of CloseConnection.
type CloseConnectionOptions struct {
	// Reason is shown to the client in its disconnected message.
	Reason string
}

// CloseConnectionsOptions are the optional parameters of
// CloseAllConnections, CloseGroupConnections and CloseUserConnections.
type CloseConnectionsOptions struct {
	// Reason is shown to the clients in their disconnected message.
	Reason string
	// Excluded lists connection ids that stay open.
	Excluded []string
}

func reasonParam(r string) *string {
	if r == "" {
		return nil
	}
	return &r
}

// CloseConnection closes one connection (DELETE
// /api/hubs/{hub}/connections/{connectionId}). Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) CloseConnection(ctx context.Context, connectionID string, opts *CloseConnectionOptions) error {
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID)); err != nil {
		return err
	}
	params := gen.CloseConnectionParams{APIVersion: c.apiVersion}
	if opts != nil {
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseConnectionRequest(c.server, c.hub, connectionID, &params)
	return c.run(ctx, "CloseConnection", req, err)
}

// CloseAllConnections closes every connection of the hub (POST
// /api/hubs/{hub}/:closeConnections). Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) CloseAllConnections(ctx context.Context, opts *CloseConnectionsOptions) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	params := gen.CloseAllConnectionsParams{APIVersion: c.apiVersion}
	if opts != nil {
		var err error
		if params.Excluded, err = validExcluded(opts.Excluded); err != nil {
			return err
		}
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseAllConnectionsRequest(c.server, c.hub, &params)
	return c.run(ctx, "CloseAllConnections", req, err)
}

// CloseUserConnections closes every connection of userID (POST
// /api/hubs/{hub}/users/{userId}/:closeConnections). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) CloseUserConnections(ctx context.Context, userID string, opts *CloseConnectionsOptions) error {
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return err
	}
	params := gen.CloseUserConnectionsParams{APIVersion: c.apiVersion}
	if opts != nil {
		var err error
		if params.Excluded, err = validExcluded(opts.Excluded); err != nil {
			return err
		}
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseUserConnectionsRequest(c.server, c.hub, userID, &params)
	return c.run(ctx, "CloseUserConnections", req, err)
}

// ConnectionExists reports whether the connection is open (HEAD
// /api/hubs/{hub}/connections/{connectionId}): 200 is true, 404 is false
// with a nil error, any other status is a *ResponseError.
func (c *Client) ConnectionExists(ctx context.Context, connectionID string) (bool, error) {
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID)); err != nil {
		return false, err
	}
	req, err := gen.NewConnectionExistsRequest(c.server, c.hub, connectionID, &gen.ConnectionExistsParams{APIVersion: c.apiVersion})
	return c.exists(ctx, "ConnectionExists", req, err)
}

// UserExists reports whether userID has at least one connection (HEAD
// /api/hubs/{hub}/users/{userId}): 200 is true, 404 is false, anything
// else a *ResponseError.
func (c *Client) UserExists(ctx context.Context, userID string) (bool, error) {
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return false, err
	}
	req, err := gen.NewUserExistsRequest(c.server, c.hub, userID, &gen.UserExistsParams{APIVersion: c.apiVersion})
	return c.exists(ctx, "UserExists", req, err)
}

// GroupExists reports whether group has at least one connection (HEAD
// /api/hubs/{hub}/groups/{group}): 200 is true, 404 is false, anything
// else a *ResponseError.
func (c *Client) GroupExists(ctx context.Context, group string) (bool, error) {
	if err := firstError(checkCtx(ctx), validGroup(group)); err != nil {
		return false, err
	}
	req, err := gen.NewGroupExistsRequest(c.server, c.hub, group, &gen.GroupExistsParams{APIVersion: c.apiVersion})
	return c.exists(ctx, "GroupExists", req, err)
}

// ---- group membership ----

// AddConnectionToGroup adds a connection to group (PUT
// /api/hubs/{hub}/groups/{group}/connections/{connectionId}). Errors:
// ErrInvalidArgument, *ResponseError (404 if the connection is unknown).
func (c *Client) AddConnectionToGroup(ctx context.Context, group, connectionID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("connection id", connectionID)); err != nil {
		return err
	}
	req, err := gen.NewAddConnectionToGroupRequest(c.server, c.hub, group, connectionID, &gen.AddConnectionToGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "AddConnectionToGroup", req, err)
}

// RemoveConnectionFromGroup removes a connection from group (DELETE
// /api/hubs/{hub}/groups/{group}/connections/{connectionId}). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) RemoveConnectionFromGroup(ctx context.Context, group, connectionID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("connection id", connectionID)); err != nil {
		return err
	}
	req, err := gen.NewRemoveConnectionFromGroupRequest(c.server, c.hub, group, connectionID, &gen.RemoveConnectionFromGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "RemoveConnectionFromGroup", req, err)
}

// RemoveConnectionFromAllGroups removes a connection from every group it
// is in (DELETE /api/hubs/{hub}/connections/{connectionId}/groups). Needs
// api-version 2022-11-01 or later. Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) RemoveConnectionFromAllGroups(ctx context.Context, connectionID string) error {
	const op = "RemoveConnectionFromAllGroups"
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID), c.needVersion(wire.APIVersion20221101, op)); err != nil {
		return err
	}
	req, err := gen.NewRemoveConnectionFromAllGroupsRequest(c.server, c.hub, connectionID, &gen.RemoveConnectionFromAllGroupsParams{APIVersion: c.apiVersion})
	return c.run(ctx, op, req, err)
}

// AddUserToGroup adds every connection userID has open to group
// (PUT /api/hubs/{hub}/users/{userId}/groups/{group}). The service stores
// nothing for the user: connections it opens later do not join, so add
// those when they connect (for example from a connected event handler, or
// with groups in the client access token). A user with no open connection
// is a *ResponseError with StatusCode 404 and ErrorCode
// "Warning.User.NotExisted". Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) AddUserToGroup(ctx context.Context, group, userID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("user id", userID)); err != nil {
		return err
	}
	req, err := gen.NewAddUserToGroupRequest(c.server, c.hub, userID, group, &gen.AddUserToGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "AddUserToGroup", req, err)
}

// RemoveUserFromGroup removes userID from group (DELETE
// /api/hubs/{hub}/users/{userId}/groups/{group}). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) RemoveUserFromGroup(ctx context.Context, group, userID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("user id", userID)); err != nil {
		return err
	}
	req, err := gen.NewRemoveUserFromGroupRequest(c.server, c.hub, userID, group, &gen.RemoveUserFromGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "RemoveUserFromGroup", req, err)
}

// RemoveUserFromAllGroups removes userID from every group (DELETE
// /api/hubs/{hub}/users/{userId}/groups). Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) RemoveUserFromAllGroups(ctx context.Context, userID string) error {
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return err
	}
	req, err := gen.NewRemoveUserFromAllGroupsRequest(c.server, c.hub, userID, &gen.RemoveUserFromAllGroupsParams{APIVersion: c.apiVersion})
	return c.run(ctx, "RemoveUserFromAllGroups", req, err)
}

func validGroups(groups []string) error {
	if len(groups) == 0 {
		return invalidArg("no groups given")
	}
	for _, g := range groups {
		if err := validGroup(g); err != nil {
			return err
		}
	}
	return nil
}

// AddConnectionsToGroups adds every connection that filter selects to each
// of groups (POST /api/hubs/{hub}/:addToGroups). An empty filter selects
// every connection of the hub. Needs api-version 2024-01-01 or later.
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) AddConnectionsToGroups(ctx context.Context, groups []string, filter string) error {
	const op = "AddConnectionsToGroups"
	if err := firstError(checkCtx(ctx), validGroups(groups), c.needVersion(wire.APIVersion20240101, op)); err != nil {
		return err
	}
	body := gen.AddToGroupsRequest{Groups: groups, Filter: reasonParam(filter)}
	req, err := gen.NewAddConnectionsToGroupsRequest(c.server, c.hub, &gen.AddConnectionsToGroupsParams{APIVersion: c.apiVersion}, body)
	return c.run(ctx, op, req, err)
}

// RemoveConnectionsFromGroups removes every connection that filter selects
// from each of groups (POST /api/hubs/{hub}/:removeFromGroups). An empty
// filter selects every connection. Needs api-version 2024-01-01 or later.
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) RemoveConnectionsFromGroups(ctx context.Context, groups []string, filter string) error {
	const op = "RemoveConnectionsFromGroups"
	if err := firstError(checkCtx(ctx), validGroups(groups), c.needVersion(wire.APIVersion20240101, op)); err != nil {
		return err
	}
	body := gen.RemoveFromGroupsRequest{Groups: groups, Filter: reasonParam(filter)}
	req, err := gen.NewRemoveConnectionsFromGroupsRequest(c.server, c.hub, &gen.RemoveConnectionsFromGroupsParams{APIVersion: c.apiVersion}, body)
	return c.run(ctx, op, req, err)
}

// CloseGroupConnections closes every connection in group (POST
// /api/hubs/{hub}/groups/{group}/:closeConnections). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) CloseGroupConnections(ctx context.Context, group string, opts *CloseConnectionsOptions) error {
	if err := firstError(checkCtx(ctx), validGroup(group)); err != nil {
		return err
	}
	params := gen.CloseGroupConnectionsParams{APIVersion: c.apiVersion}
	if opts != nil {
		var err error
		if params.Excluded, err = validExcluded(opts.Excluded); err != nil {
			return err
		}
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseGroupConnectionsRequest(c.server, c.hub, group, &params)
	return c.run(ctx, "CloseGroupConnections", req, err)
}

// ---- permissions ----

// Permission is a right a connection can be granted.
type Permission string

// The permissions the service knows.
const (
	// PermissionSendToGroup lets a client send to a group.
	PermissionSendToGroup Permission = "sendToGroup"
	// PermissionJoinLeaveGroup lets a client join and leave a group.
	PermissionJoinLeaveGroup Permission = "joinLeaveGroup"
)

// PermissionOptions are the optional parameters of the permission
// operations.
type PermissionOptions struct {
	// TargetGroup limits the permission to one group; empty means every
	// group.
	TargetGroup string
}

func (c *Client) permissionArgs(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) (*string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if p != PermissionSendToGroup && p != PermissionJoinLeaveGroup {
		return nil, invalidArg("permission %q is neither %q nor %q", p, PermissionSendToGroup, PermissionJoinLeaveGroup)
	}
	if err := validID("connection id", connectionID); err != nil {
		return nil, err
	}
	if opts == nil || opts.TargetGroup == "" {
		return nil, nil
	}
	if err := validGroup(opts.TargetGroup); err != nil {
		return nil, err
	}
	t := opts.TargetGroup
	return &t, nil
}

// GrantPermission grants a permission to a connection (PUT
// /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}).
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) GrantPermission(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) error {
	target, err := c.permissionArgs(ctx, p, connectionID, opts)
	if err != nil {
		return err
	}
	req, err := gen.NewGrantPermissionRequest(c.server, c.hub, gen.Permission(p), connectionID, &gen.GrantPermissionParams{APIVersion: c.apiVersion, TargetName: target})
	return c.run(ctx, "GrantPermission", req, err)
}

// RevokePermission revokes a permission from a connection (DELETE
// /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}).
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) RevokePermission(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) error {
	target, err := c.permissionArgs(ctx, p, connectionID, opts)
	if err != nil {
		return err
	}
	req, err := gen.NewRevokePermissionRequest(c.server, c.hub, gen.Permission(p), connectionID, &gen.RevokePermissionParams{APIVersion: c.apiVersion, TargetName: target})
	return c.run(ctx, "RevokePermission", req, err)
}

// HasPermission reports whether a connection has a permission (HEAD
// /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}):
// 200 is true, 404 is false, anything else a *ResponseError.
func (c *Client) HasPermission(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) (bool, error) {
	target, err := c.permissionArgs(ctx, p, connectionID, opts)
	if err != nil {
		return false, err
	}
	req, err := gen.NewCheckPermissionRequest(c.server, c.hub, gen.Permission(p), connectionID, &gen.CheckPermissionParams{APIVersion: c.apiVersion, TargetName: target})
	return c.exists(ctx, "HasPermission", req, err)
}

// ---- health ----

// CheckHealth asks whether the service is up (HEAD /api/health). It
// returns nil when the service answers 200, a *ResponseError for another
// status, and a transport error when it cannot be reached.
func (c *Client) CheckHealth(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	req, err := gen.NewGetServiceStatusRequest(c.server, &gen.GetServiceStatusParams{APIVersion: c.apiVersion})
	return c.run(ctx, "CheckHealth", req, err)
}
