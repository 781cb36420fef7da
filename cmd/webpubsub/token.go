package main

import (
	"context"
	"flag"
	"time"

	"github.com/webpubsub-go/sdk/webpubsub"
)

func tokenCommand() *command {
	return &command{
		name:    "token",
		summary: "print a client access URL and token",
		details: `Print the URL (with its token) a WebSocket client connects with, the token
alone, and when it expires. With an access key the token is signed locally.
Treat the output as a secret: anyone holding it can connect as the user.

Examples:
  webpubsub token --user alice
  webpubsub token --user bob --role webpubsub.joinLeaveGroup.lobby --group lobby --expiry 10m
  webpubsub token --protocol mqtt --output json`,
		setup: func(fs *flag.FlagSet) runFunc {
			user := fs.String("user", "", "user `id` the client connects as")
			var roles, groups stringList
			fs.Var(&roles, "role", "`role` to grant, e.g. webpubsub.sendToGroup.lobby; repeatable")
			fs.Var(&groups, "group", "`group` to join on connect; repeatable")
			protocol := newChoice(string(webpubsub.ClientProtocolDefault),
				string(webpubsub.ClientProtocolDefault), string(webpubsub.ClientProtocolMQTT), string(webpubsub.ClientProtocolSocketIO))
			fs.Var(protocol, "protocol", "client `protocol`: default, mqtt or socketio")
			expiry := fs.Duration("expiry", webpubsub.DefaultTokenExpiry, "token lifetime (`duration`)")
			return func(ctx context.Context, inv *invocation, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if *expiry <= 0 {
					return usagef("--expiry %s: the lifetime must be positive", *expiry)
				}
				c, err := inv.client()
				if err != nil {
					return err
				}
				tok, err := c.ClientAccessToken(ctx, &webpubsub.TokenOptions{
					UserID:   *user,
					Roles:    roles,
					Groups:   groups,
					Expiry:   *expiry,
					Protocol: webpubsub.ClientProtocol(protocol.value),
				})
				if err != nil {
					return err
				}
				if inv.jsonOutput() {
					return inv.printJSON(struct {
						URL       string    `json:"url"`
						BaseURL   string    `json:"baseUrl"`
						Token     string    `json:"token"`
						ExpiresAt time.Time `json:"expiresAt"`
					}{tok.URL, tok.BaseURL, tok.Token, tok.ExpiresAt.UTC()})
				}
				inv.printf("url:     %s\ntoken:   %s\nexpires: %s\n", tok.URL, tok.Token, tok.ExpiresAt.UTC().Format(time.RFC3339))
				return nil
			}
		},
	}
}
