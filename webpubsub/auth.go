package webpubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// KeyCredential holds a Web PubSub access key. It is safe for concurrent
// use, and Update rotates the key while requests are in flight: every try
// started after Update signs with the new key. String and every fmt verb
// print a redacted form, never the key.
type KeyCredential struct {
	key atomic.Pointer[keyMaterial]
}

// keyMaterial is one immutable key version.
type keyMaterial struct {
	key   string
	bytes []byte // UTF-8 bytes of key, the HMAC secret
}

// NewKeyCredential returns a credential for the access key (the AccessKey
// of a connection string). The key must not be empty.
func NewKeyCredential(key string) (*KeyCredential, error) {
	k := &KeyCredential{}
	if err := k.Update(key); err != nil {
		return nil, err
	}
	return k, nil
}

// Update replaces the key, for example after the key was regenerated in the
// portal. It returns an error wrapping ErrInvalidArgument for an empty key
// and then keeps the old key.
func (k *KeyCredential) Update(key string) error {
	if key == "" {
		return invalidArg("access key is empty")
	}
	k.key.Store(&keyMaterial{key: key, bytes: []byte(key)})
	return nil
}

// String returns a fixed redacted description.
func (k *KeyCredential) String() string { return "webpubsub.KeyCredential([REDACTED])" }

// GoString returns the same redacted description as String.
func (k *KeyCredential) GoString() string { return k.String() }

// secret returns the current signing key.
func (k *KeyCredential) secret() *keyMaterial { return k.key.Load() }

// authorizer sets the Authorization header of one try.
type authorizer interface {
	// authorize sets the header; aud is the service URL of the request
	// (the URL the JWT must name, even when a reverse proxy is used).
	authorize(ctx context.Context, h headerSetter, aud string) error
	// secrets returns the strings that must never appear in errors: the
	// access key, or the current bearer token.
	secrets() []string
}

// headerSetter is the part of http.Header the authorizers need.
type headerSetter interface{ Set(key, value string) }

// restTokenLifetime is how long a REST JWT signed with a key stays valid.
const restTokenLifetime = 5 * time.Minute

// restClaims are the claims of a REST JWT: a struct instead of a map keeps
// signing cheap.
type restClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
}

// The Get methods make restClaims a jwt.Claims.

func (c restClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c restClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Iat, 0)), nil
}
func (restClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (restClaims) GetIssuer() (string, error)              { return "", nil }
func (restClaims) GetSubject() (string, error)             { return "", nil }
func (c restClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

// keyAuthorizer signs a fresh HS256 JWT for every try.
type keyAuthorizer struct {
	cred *KeyCredential
	now  func() time.Time
}

func (a *keyAuthorizer) secrets() []string { return []string{a.cred.secret().key} }

func (a *keyAuthorizer) authorize(_ context.Context, h headerSetter, aud string) error {
	km := a.cred.secret()
	now := a.now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, restClaims{
		Aud: aud,
		Exp: now.Add(restTokenLifetime).Unix(),
		Iat: now.Unix(),
	}).SignedString(km.bytes)
	if err != nil {
		return errors.New("webpubsub: signing the request token failed")
	}
	h.Set(wire.HeaderAuthorization, "Bearer "+tok)
	return nil
}

// entraRefreshMargin is how long before expiry a cached Entra token is
// renewed.
const entraRefreshMargin = 5 * time.Minute

// entraAuthorizer caches one Microsoft Entra ID token and refreshes it
// before it expires, one refresh at a time.
type entraAuthorizer struct {
	cred   azcore.TokenCredential
	now    func() time.Time
	scopes []string // the token scope, read-only

	mu         sync.Mutex
	tok        azcore.AccessToken
	refreshing chan struct{} // closed when the running refresh ends; nil if none
	lastErr    error
}

func (a *entraAuthorizer) secrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return []string{a.tok.Token}
}

func (a *entraAuthorizer) authorize(ctx context.Context, h headerSetter, _ string) error {
	tok, err := a.token(ctx)
	if err != nil {
		return err
	}
	h.Set(wire.HeaderAuthorization, "Bearer "+tok)
	return nil
}

// needsRefresh reports whether tok should be renewed at now.
func needsRefresh(tok azcore.AccessToken, now time.Time) bool {
	if tok.Token == "" {
		return true
	}
	if !tok.RefreshOn.IsZero() && !now.Before(tok.RefreshOn) {
		return true
	}
	return !now.Before(tok.ExpiresOn.Add(-entraRefreshMargin))
}

// token returns a valid token. Only one goroutine asks the credential at a
// time; others reuse the current token while it is still valid, or wait
// for the refresh.
func (a *entraAuthorizer) token(ctx context.Context) (string, error) {
	for {
		a.mu.Lock()
		now := a.now()
		if !needsRefresh(a.tok, now) {
			t := a.tok.Token
			a.mu.Unlock()
			return t, nil
		}
		if wait := a.refreshing; wait != nil {
			if a.tok.Token != "" && now.Before(a.tok.ExpiresOn) {
				t := a.tok.Token // still valid: use it while another goroutine refreshes
				a.mu.Unlock()
				return t, nil
			}
			a.mu.Unlock()
			if t, err, again := a.await(ctx, wait); !again {
				return t, err
			}
			continue
		}
		// Start the refresh and wait for it like every other caller. It
		// runs detached from this caller's context, so callers that give
		// up do not cancel it and cause a new token request each.
		done := make(chan struct{})
		a.refreshing = done
		a.mu.Unlock()
		go a.refresh(context.WithoutCancel(ctx), done)
		if t, err, again := a.await(ctx, done); !again {
			return t, err
		}
	}
}

// await waits for the refresh that closes done, or for ctx. It returns the
// token if one is valid, the refresh's error, or again when the refresh
// itself timed out and the caller should start another.
func (a *entraAuthorizer) await(ctx context.Context, done <-chan struct{}) (tok string, err error, again bool) {
	select {
	case <-done:
	case <-ctx.Done():
		return "", ctx.Err(), false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok.Token != "" && a.now().Before(a.tok.ExpiresOn) {
		return a.tok.Token, nil, false
	}
	if a.lastErr != nil && !errors.Is(a.lastErr, context.Canceled) && !errors.Is(a.lastErr, context.DeadlineExceeded) {
		return "", a.lastErr, false
	}
	return "", nil, true
}

// entraRefreshTimeout bounds one token request of a refresh.
const entraRefreshTimeout = 30 * time.Second

// refresh asks the credential for a token, stores the outcome and closes
// done.
func (a *entraAuthorizer) refresh(ctx context.Context, done chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, entraRefreshTimeout)
	defer cancel()
	tok, err := a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: a.scopes})
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshing = nil
	if err == nil && tok.Token == "" {
		err = errors.New("credential returned an empty token")
	}
	if err != nil {
		a.lastErr = &entraError{err: err} // the old token, if still valid, stays in use
	} else {
		a.tok, a.lastErr = tok, nil
	}
	close(done)
}

// entraError reports a credential failure without echoing any token.
type entraError struct{ err error }

func (e *entraError) Error() string {
	return "webpubsub: getting a Microsoft Entra ID token failed: " + redactTokens(e.err.Error())
}
func (e *entraError) Unwrap() error { return e.err }

// Format makes every fmt verb print the redacted form.
func (k *KeyCredential) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }
