package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/webpubsub"
)

// entraCred stands in for an azidentity credential: unsigned tokens with
// the Web PubSub audience.
type entraCred struct{}

func (entraCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	exp := time.Now().Add(time.Hour)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"aud": "https://webpubsub.azure.com", "exp": exp.Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, err
}

func TestServeAllowEntra(t *testing.T) {
	sendWithEntra := func(t *testing.T, connStr string) error {
		t.Helper()
		cs, err := webpubsub.ParseConnectionString(connStr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := webpubsub.NewClient(cs.Endpoint, testHub, entraCred{}, webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: -1}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.SendToAll(ctx, webpubsub.Text("hi"), nil)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "entra.json")
	if err := os.WriteFile(cfg, []byte(`{"allowEntraTokens":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"refused by default", nil, false},
		{"--allow-entra", []string{"--allow-entra"}, true},
		{"config file", []string{"--config", cfg}, true},
		{"flag overrides the file", []string{"--config", cfg, "--allow-entra=false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, connStr := startServe(t, tt.args...)
			err := sendWithEntra(t, connStr)
			var re *webpubsub.ResponseError
			switch {
			case tt.ok && err != nil:
				t.Errorf("send with an Entra token: %v", err)
			case !tt.ok && (!errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized):
				t.Errorf("send with an Entra token: %v, want 401", err)
			}
			b.cancel()
			if r := b.wait(t); r.code != exitOK || strings.Contains(r.stderr, "eyJ") {
				t.Errorf("serve: exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}
