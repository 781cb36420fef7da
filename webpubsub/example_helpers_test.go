package webpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// pending describes what c receives within a short wait: "nothing", as the
// examples expect, or the unexpected message.
func pending(c *webpubsubtest.Conn) string {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	msg, err := c.Receive(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return "nothing"
	}
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s %q", msg.DataType, msg.Data)
}

// entraCredential stands in for an azidentity credential.
type entraCredential struct{}

func (entraCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	fmt.Println("token requested for", o.Scopes)
	return azcore.AccessToken{Token: "entra-access-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// startEntraService stands in for the service in the Microsoft Entra ID
// examples, because webpubsubtest accepts only access-key tokens. It
// accepts any bearer token, answers sends with 202 and :generateToken with
// a fixed token.
func startEntraService() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer entra-access-token":
			w.WriteHeader(http.StatusUnauthorized)
		case strings.HasSuffix(r.URL.Path, "/:generateToken"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token":"service-minted-token"}`)
		case strings.HasSuffix(r.URL.Path, "/:send"):
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
}
