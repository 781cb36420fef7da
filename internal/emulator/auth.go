package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// entraAudience is the audience of Microsoft Entra ID tokens for the
// data-plane API (the scope without "/.default").
var entraAudience = strings.TrimSuffix(wire.EntraScope, "/.default")

// authError is a 401 reason. It never contains the token.
type authError struct{ reason string }

func (e *authError) Error() string { return e.reason }

func unauthorized(format string, args ...any) error {
	return &authError{reason: fmt.Sprintf(format, args...)}
}

// bearerToken extracts the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get(wire.HeaderAuthorization)
	if h == "" {
		return "", unauthorized("the request has no Authorization header: send \"Authorization: Bearer <JWT signed with the access key>\"")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", unauthorized("the Authorization header is not of the form \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), nil
}

// requestURL rebuilds the URL the client sent: scheme://host + RequestURI.
func requestURL(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "http://") || strings.HasPrefix(r.RequestURI, "https://") {
		return r.RequestURI // absolute-form request target, as sent through a proxy
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.RequestURI
}

// parseKeyToken verifies an HS256 token against the access keys. It returns
// the claims of the first key whose signature matches.
func (e *Emulator) parseKeyToken(tok string) (jwt.MapClaims, error) {
	var lastErr error
	for _, key := range e.opts.accessKeys {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(key), nil },
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(5*time.Second))
		if err == nil {
			return claims, nil
		}
		lastErr = err
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			break // the same for every key
		}
	}
	return nil, describeJWTError(lastErr)
}

func describeJWTError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("the bearer token is not a well-formed JWT")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthorized("the token's signature does not match any access key: sign it with HS256 and the UTF-8 bytes of the access key")
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrSignatureInvalid):
		return unauthorized("the token cannot be verified: it must be signed with HS256 and the access key")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthorized("the token has no exp claim: add an expiry")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("the token has expired: sign a new one for each request")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("the token is not valid yet (nbf/iat in the future): check the clock")
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return unauthorized("the token's claims are malformed: exp, nbf and iat must be numbers of seconds, aud a string or a list of strings")
	}
	return unauthorized("the token is invalid")
}

// authenticateREST checks a REST request's bearer token.
func (e *Emulator) authenticateREST(r *http.Request) error {
	tok, err := bearerToken(r)
	if err != nil {
		return err
	}
	claims, keyErr := e.parseKeyToken(tok)
	if keyErr != nil {
		if e.opts.allowEntra && !isHS256(tok) {
			return e.acceptEntra(tok)
		}
		return keyErr
	}
	want := requestURL(r)
	aud, _ := claims.GetAudience()
	for _, a := range aud {
		if a == want {
			return nil
		}
	}
	if len(aud) == 0 {
		return unauthorized("the token has no aud claim: set aud to the request URL %q", want)
	}
	return unauthorized("the token's aud %q does not match the request URL %q: sign the final URL, query included", aud[0], want)
}

func isHS256(tok string) bool {
	t, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	return err == nil && t.Method.Alg() == jwt.SigningMethodHS256.Alg()
}

// acceptEntra accepts an Entra ID token without verifying its signature:
// only its audience and expiry are checked.
func (e *Emulator) acceptEntra(tok string) error {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return unauthorized("the bearer token is not a well-formed JWT")
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return unauthorized("the Entra token has no valid exp claim")
	}
	if time.Now().After(exp.Add(5 * time.Second)) {
		return unauthorized("the Entra token has expired")
	}
	aud, _ := claims.GetAudience()
	for _, a := range aud {
		if strings.TrimSuffix(a, "/") == entraAudience {
			return nil
		}
	}
	return unauthorized("the Entra token's audience must be %s: request it with scope %s", entraAudience, wire.EntraScope)
}

// clientClaims are the parts of a client access token the service reads.
type clientClaims struct {
	userID  string
	hasUser bool
	roles   []string
	groups  []string
	raw     jwt.MapClaims
}

// authenticateClient verifies a client token for hub. The audience may use
// any of the http, https, ws and wss schemes; host and path must match.
func (e *Emulator) authenticateClient(r *http.Request, hub string) (clientClaims, error) {
	tok := r.URL.Query().Get(wire.QueryAccessToken)
	if tok == "" {
		var err error
		if tok, err = bearerToken(r); err != nil {
			return clientClaims{}, unauthorized("no client access token: pass it as the %s query parameter or an Authorization: Bearer header", wire.QueryAccessToken)
		}
	}
	claims, err := e.parseKeyToken(tok)
	if err != nil {
		return clientClaims{}, err
	}
	aud, _ := claims.GetAudience()
	if !clientAudienceMatches(aud, r.Host, hub) {
		return clientClaims{}, unauthorized("the token's audience does not match this endpoint: use <scheme>://%s%s%s", r.Host, wire.ClientPathDefault, url.PathEscape(hub))
	}
	cc := clientClaims{raw: claims}
	if sub, ok := claims[wire.ClaimSubject]; ok && sub != nil {
		s, ok := sub.(string)
		if !ok {
			return clientClaims{}, unauthorized("the %s claim must be a string", wire.ClaimSubject)
		}
		cc.userID, cc.hasUser = s, s != ""
	}
	if cc.roles, err = stringList(claims, wire.ClaimRole); err != nil {
		return clientClaims{}, err
	}
	if cc.groups, err = stringList(claims, wire.ClaimGroup); err != nil {
		return clientClaims{}, err
	}
	for _, g := range cc.groups {
		if err := validateGroup(g); err != nil {
			return clientClaims{}, unauthorized("the %s claim holds an invalid group: %v", wire.ClaimGroup, err)
		}
	}
	return cc, nil
}

// stringList reads a claim that holds a string or an array of strings.
func stringList(claims jwt.MapClaims, name string) ([]string, error) {
	switch v := claims[name].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, unauthorized("the %s claim must be an array of strings", name)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, unauthorized("the %s claim must be an array of strings", name)
}

func clientAudienceMatches(aud []string, host, hub string) bool {
	for _, a := range aud {
		u, err := url.Parse(a)
		if err != nil || !strings.EqualFold(u.Host, host) {
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "http", "https", "ws", "wss":
		default:
			continue
		}
		p := strings.TrimSuffix(u.Path, "/")
		if p == strings.TrimSuffix(wire.ClientPathDefault, "/")+"/"+hub || p == wire.ClientPathMQTT+hub {
			return true
		}
		if p == strings.TrimSuffix(wire.ClientPathQueryHub, "/") && u.Query().Get(wire.QueryHub) == hub {
			return true
		}
	}
	return false
}
