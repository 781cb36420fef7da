package webpubsubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// refusedError describes a WebSocket handshake the service refused, with
// its status and the service's reason (for a rejected connect event, the
// event handler's): "the service refused the connection with 401
// Unauthorized: ...". Without a refusing response (a network error) it
// returns err.
func refusedError(resp *http.Response, err error) error {
	if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		return err
	}
	var b []byte
	if resp.Body != nil {
		b, _ = io.ReadAll(io.LimitReader(resp.Body, 4096)) // the dialer kept at most 1 KiB
	}
	var body struct {
		Message string `json:"message"`
	}
	reason := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &body) == nil && body.Message != "" {
		reason = body.Message
	}
	if reason == "" {
		reason = "no reason given"
	}
	return fmt.Errorf("the service refused the connection with %d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), reason)
}
