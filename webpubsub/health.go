package webpubsub

import (
	"context"

	"github.com/webpubsub-go/sdk/gen"
)

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
