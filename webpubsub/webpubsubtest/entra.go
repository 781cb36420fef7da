package webpubsubtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// WithEntraTokens makes the server's REST API also accept Microsoft Entra
// ID bearer tokens, as a service with Entra authentication does, so that
// code which builds its client with webpubsub.NewClient and an
// azcore.TokenCredential can be tested. The server does not verify the
// tokens' signatures (it cannot reach Entra ID): it checks only that the
// token is a JWT whose audience is https://webpubsub.azure.com and which has
// not expired. EntraCredential hands out such tokens. Access-key tokens keep
// working.
//
// Point the client at Server.URL, which is a loopback http:// address: the
// SDK refuses to send Entra tokens over plain http to any other host.
func WithEntraTokens() Option { return func(c *config) { c.entra = true } }

// EntraCredential is an azcore.TokenCredential for tests that stands in for
// an azidentity credential: it hands out unsigned JWTs that a server started
// WithEntraTokens accepts, valid for one hour, and records the scopes it was
// asked for. The zero value is ready to use and safe for concurrent use.
type EntraCredential struct {
	// Err, when set, is returned by GetToken instead of a token (set it
	// before the credential is shared between goroutines).
	Err error

	mu       sync.Mutex
	requests [][]string
}

// GetToken returns a token for opts.Scopes, or c.Err.
func (c *EntraCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	c.requests = append(c.requests, slices.Clone(opts.Scopes))
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return azcore.AccessToken{}, err
	}
	if c.Err != nil {
		return azcore.AccessToken{}, c.Err
	}
	if len(opts.Scopes) != 1 {
		return azcore.AccessToken{}, errors.New("webpubsubtest.EntraCredential: want exactly one scope, " + wire.EntraScope)
	}
	now := time.Now()
	exp := now.Add(time.Hour)
	return azcore.AccessToken{Token: entraToken(strings.TrimSuffix(opts.Scopes[0], "/.default"), now, exp), ExpiresOn: exp}, nil
}

// Requests returns the scopes of each GetToken call so far, oldest first,
// so a test can check how often its code asked for a token.
func (c *EntraCredential) Requests() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]string, len(c.requests))
	for i, r := range c.requests {
		out[i] = slices.Clone(r)
	}
	return out
}

// entraToken builds a JWT shaped like an Entra ID access token (RS256
// header, aud, iat, nbf, exp) with a signature nobody can verify.
func entraToken(aud string, now, exp time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"}) // plain strings always marshal
	claims, _ := json.Marshal(map[string]any{
		"aud": aud, "iss": "https://sts.windows.net/webpubsubtest/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
	})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte("unsigned"))
}
