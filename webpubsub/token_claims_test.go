package webpubsub

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// TestClientClaimsRoundTrip parses a locally signed client token back into
// clientClaims with a validating parser, which reads every claim through
// the jwt.Claims methods: a wrong method would fail the validation.
func TestClientClaimsRoundTrip(t *testing.T) {
	c, err := NewClientFromConnectionString("Endpoint=https://x.webpubsub.azure.com;AccessKey="+testKey, "chat")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ClientAccessToken(context.Background(), &TokenOptions{UserID: "alice", Roles: []string{"webpubsub.sendToGroup"}, Groups: []string{"g"}, Expiry: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const aud = "https://x.webpubsub.azure.com/client/hubs/chat"
	var got clientClaims
	_, err = jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired(),
		jwt.WithAudience(aud), jwt.WithSubject("alice"),
	).ParseWithClaims(tok.Token, &got, func(*jwt.Token) (any, error) { return []byte(testKey), nil })
	if err != nil {
		t.Fatalf("validating the token through clientClaims: %v", err)
	}
	want := clientClaims{Aud: aud, Iat: got.Iat, Exp: got.Iat + 300, Sub: "alice", Role: []string{"webpubsub.sendToGroup"}, Group: []string{"g"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}

	exp, _ := got.GetExpirationTime()
	iat, _ := got.GetIssuedAt()
	nbf, _ := got.GetNotBefore()
	iss, _ := got.GetIssuer()
	sub, _ := got.GetSubject()
	auds, _ := got.GetAudience()
	if exp.Unix() != got.Exp || iat.Unix() != got.Iat || nbf != nil || iss != "" || sub != "alice" || !cmp.Equal(auds, jwt.ClaimStrings{aud}) {
		t.Errorf("claims methods: exp %v iat %v nbf %v iss %q sub %q aud %v", exp, iat, nbf, iss, sub, auds)
	}

	// An expired token fails validation through GetExpirationTime.
	expired := clientClaims{Aud: aud, Iat: time.Now().Add(-2 * time.Hour).Unix(), Exp: time.Now().Add(-time.Hour).Unix()}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, expired).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.ParseWithClaims(signed, &clientClaims{}, func(*jwt.Token) (any, error) { return []byte(testKey), nil }); err == nil {
		t.Error("an expired clientClaims token validated")
	}
}
