package webpubsub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// ClientProtocol selects the kind of client a token is for, and so the
// client path of its URL.
type ClientProtocol string

// The client protocols.
const (
	// ClientProtocolDefault is for Web PubSub WebSocket clients
	// (/client/hubs/{hub}). The empty ClientProtocol means the same.
	ClientProtocolDefault ClientProtocol = "default"
	// ClientProtocolMQTT is for MQTT clients (/clients/mqtt/hubs/{hub}).
	ClientProtocolMQTT ClientProtocol = "mqtt"
	// ClientProtocolSocketIO is for Web PubSub for Socket.IO clients
	// (/clients/socketio/hubs/{hub}).
	ClientProtocolSocketIO ClientProtocol = "socketio"
)

// DefaultTokenExpiry is the lifetime of a client access token when
// TokenOptions.Expiry is 0.
const DefaultTokenExpiry = time.Hour

// TokenOptions are the optional parameters of ClientAccessToken.
type TokenOptions struct {
	// UserID is the user the client connects as (the sub claim).
	UserID string
	// Roles are granted to the client, e.g. "webpubsub.joinLeaveGroup.chat".
	Roles []string
	// Groups are joined as soon as the client connects. With Microsoft
	// Entra ID this needs api-version 2022-11-01 or later.
	Groups []string
	// Expiry is the token's lifetime; 0 means one hour. With Microsoft
	// Entra ID it is rounded up to whole minutes.
	Expiry time.Duration
	// Protocol selects the client path; empty means ClientProtocolDefault.
	// With Microsoft Entra ID, MQTT and Socket.IO need api-version
	// 2024-01-01 or later.
	Protocol ClientProtocol
	// JWTHeaders are extra JWT header fields, such as "kid". Only for
	// tokens signed with an access key; "alg" and "typ" cannot be changed.
	JWTHeaders map[string]any
}

// ClientAccessToken is what a WebSocket (or MQTT, or Socket.IO) client
// needs to connect.
type ClientAccessToken struct {
	// Token is the JWT. Treat it as a secret: never log it.
	Token string
	// BaseURL is the ws:// or wss:// URL of the hub's client endpoint,
	// e.g. wss://<name>.webpubsub.azure.com/client/hubs/chat.
	BaseURL string
	// URL is BaseURL + "?access_token=" + the URL-escaped token.
	URL string
	// ExpiresAt is when the token stops being accepted.
	ExpiresAt time.Time
}

// String describes the token without revealing it.
func (t ClientAccessToken) String() string {
	return "webpubsub.ClientAccessToken{BaseURL: " + t.BaseURL + ", ExpiresAt: " + t.ExpiresAt.UTC().Format(time.RFC3339) + ", Token: [REDACTED]}"
}

// GoString is String, so %#v does not reveal the token either.
func (t ClientAccessToken) GoString() string { return t.String() }

// clientPath returns the client path prefix for p.
func clientPath(p ClientProtocol) (string, string, error) {
	switch p {
	case "", ClientProtocolDefault:
		return wire.ClientPathDefault, wire.ClientTypeDefault, nil
	case ClientProtocolMQTT:
		return wire.ClientPathMQTT, wire.ClientTypeMQTT, nil
	case ClientProtocolSocketIO:
		return wire.ClientPathSocketIO, wire.ClientTypeSocketIO, nil
	}
	return "", "", invalidArg("client protocol %q is not %q, %q or %q", p, ClientProtocolDefault, ClientProtocolMQTT, ClientProtocolSocketIO)
}

// ClientAccessToken returns a token and URL a client uses to connect to
// the hub. With an access key the token is signed locally (HS256; claims
// aud = the http(s) client URL, iat, exp, and sub, role and
// webpubsub.group when set) and ctx is unused. With Microsoft Entra ID the
// service mints it (POST /api/hubs/{hub}/:generateToken). The URLs always
// point at the service, never at a reverse proxy. Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) ClientAccessToken(ctx context.Context, opts *TokenOptions) (*ClientAccessToken, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var o TokenOptions
	if opts != nil {
		o = *opts
	}
	path, clientType, err := clientPath(o.Protocol)
	if err != nil {
		return nil, err
	}
	if o.Expiry < 0 {
		return nil, invalidArg("token Expiry %v is negative (0 means one hour)", o.Expiry)
	}
	if o.Expiry == 0 {
		o.Expiry = DefaultTokenExpiry
	}
	for _, r := range o.Roles {
		if r == "" {
			return nil, invalidArg("token role is empty")
		}
	}
	for _, g := range o.Groups {
		if err := validGroup(g); err != nil {
			return nil, err
		}
	}
	bases := c.clientBases(path)
	httpBase := bases.http
	var tok string
	var exp time.Time
	if c.key != nil {
		tok, exp, err = c.signClientToken(httpBase, &o)
	} else {
		tok, exp, err = c.generateClientToken(ctx, &o, clientType)
	}
	if err != nil {
		return nil, err
	}
	base := bases.ws
	escaped := tok
	if c.key == nil {
		// A token signed here is base64url segments joined by dots, which a
		// query never escapes (QueryEscape's scan was 3% of minting); one
		// from the service is escaped in case it is anything else.
		escaped = url.QueryEscape(tok)
	}
	return &ClientAccessToken{
		Token:     tok,
		BaseURL:   base,
		URL:       base + "?" + wire.QueryAccessToken + "=" + escaped,
		ExpiresAt: exp,
	}, nil
}

// clientClaims are the claims of a client access token. A struct instead of
// jwt.MapClaims makes signing about a third cheaper (no map to build, sort
// and encode by reflection); the names are wire.ClaimAudience,
// wire.ClaimIssuedAt, wire.ClaimExpiry, wire.ClaimSubject, wire.ClaimRole
// and wire.ClaimGroup (struct tags cannot name constants; token_test.go
// checks the encoded names).
type clientClaims struct {
	Aud   string   `json:"aud"`
	Iat   int64    `json:"iat"`
	Exp   int64    `json:"exp"`
	Sub   string   `json:"sub,omitempty"`
	Role  []string `json:"role,omitempty"`
	Group []string `json:"webpubsub.group,omitempty"`
}

// The Get methods make clientClaims a jwt.Claims.

func (c clientClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c clientClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Iat, 0)), nil
}
func (clientClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (clientClaims) GetIssuer() (string, error)              { return "", nil }
func (c clientClaims) GetSubject() (string, error)           { return c.Sub, nil }
func (c clientClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

// signClientToken signs a client token with the access key.
func (c *Client) signClientToken(aud string, o *TokenOptions) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(o.Expiry)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, clientClaims{
		Aud:   aud,
		Iat:   now.Unix(),
		Exp:   exp.Unix(),
		Sub:   o.UserID,
		Role:  o.Roles,
		Group: o.Groups,
	})
	for k, v := range o.JWTHeaders {
		if k == "alg" || k == "typ" {
			return "", time.Time{}, invalidArg("JWTHeaders cannot set %q", k)
		}
		t.Header[k] = v
	}
	s, err := t.SignedString(c.key.secret().bytes)
	if err != nil {
		return "", time.Time{}, invalidArg("signing the client token: a JWT header or claim cannot be encoded")
	}
	return s, time.Unix(exp.Unix(), 0), nil
}

// generateClientToken asks the service for a token.
func (c *Client) generateClientToken(ctx context.Context, o *TokenOptions, clientType string) (string, time.Time, error) {
	const op = "ClientAccessToken"
	if len(o.JWTHeaders) > 0 {
		return "", time.Time{}, invalidArg("JWTHeaders need an access key: the service mints tokens for Microsoft Entra ID clients")
	}
	params := gen.GenerateClientTokenParams{APIVersion: c.apiVersion}
	if o.UserID != "" {
		u := o.UserID
		params.UserID = &u
	}
	if len(o.Roles) > 0 {
		params.Role = o.Roles
	}
	if len(o.Groups) > 0 {
		if err := c.needVersion(wire.APIVersion20221101, "token Groups with Microsoft Entra ID"); err != nil {
			return "", time.Time{}, err
		}
		params.Group = o.Groups
	}
	if clientType != wire.ClientTypeDefault {
		if err := c.needVersion(wire.APIVersion20240101, "an MQTT or Socket.IO token with Microsoft Entra ID"); err != nil {
			return "", time.Time{}, err
		}
		params.ClientType = &clientType
	}
	minutes := (o.Expiry + time.Minute - 1) / time.Minute
	if minutes < 1 {
		minutes = 1
	}
	if minutes > 1<<31-1 {
		return "", time.Time{}, invalidArg("token Expiry %v is too long", o.Expiry)
	}
	m := int32(minutes)
	params.MinutesToExpire = &m
	req, err := gen.NewGenerateClientTokenRequest(c.server, c.hub, &params)
	if err != nil {
		return "", time.Time{}, invalidArg("%s: building the request: %v", op, err)
	}
	start := time.Now()
	resp, err := c.pipe.do(ctx, op, req)
	if err != nil {
		return "", time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, newResponseError(op, resp, c.pipe.auth.secrets())
	}
	defer discard(resp)
	var body gen.ClientTokenResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody*4)).Decode(&body); err != nil || body.Token == nil || *body.Token == "" {
		return "", time.Time{}, newTransportError(op, req.Method, req.URL.String(), req.Header.Get(wire.HeaderClientRequestID), errorString("the service's response holds no token"), nil)
	}
	tok := strings.TrimSpace(*body.Token)
	exp := start.Add(time.Duration(minutes) * time.Minute)
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err == nil && claims.ExpiresAt != nil {
		exp = claims.ExpiresAt.Time
	}
	return tok, exp, nil
}

// clientBaseURLs are the http(s) and ws(s) URLs of one client path of the
// hub: the token's audience and the URL's base.
type clientBaseURLs struct{ http, ws string }

// clientBases returns the base URLs for the client path prefix path,
// computed once per client and path (two string builds per token less).
func (c *Client) clientBases(path string) *clientBaseURLs {
	if m := c.tokenBases.Load(); m != nil {
		if b, ok := (*m)[path]; ok {
			return b
		}
	}
	httpBase := c.endpoint + path + url.PathEscape(c.hub)
	b := &clientBaseURLs{http: httpBase, ws: wire.WebSocketScheme(httpBase)}
	for { // copy on write: at most three paths
		old := c.tokenBases.Load()
		next := map[string]*clientBaseURLs{path: b}
		if old != nil {
			for k, v := range *old {
				next[k] = v
			}
		}
		if c.tokenBases.CompareAndSwap(old, &next) {
			return b
		}
	}
}
