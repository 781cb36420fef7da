package webpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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
