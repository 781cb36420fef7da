package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

func listenCommand() *command {
	return &command{
		name:        "listen",
		longRunning: true,
		summary:     "connect as a WebSocket client and print the messages it receives",
		details: `Connect to the hub as a WebSocket client (package wsclient, subprotocol
json.reliable.webpubsub.azure.v1: a dropped connection is recovered without
losing a message) with a fresh client access token, join the --group groups,
and print every message as it arrives, one per line:

  from server, json: {"kind":"greeting"}
  from group "lobby" (user "bob"), text: "hi all"
  from server, binary: 3q2+7w==                    (base64)

With --output json each line is the message in the service's JSON format
(without the reliable protocol's sequence id).
The "listening" line and any problem go to stderr. listen runs until
Ctrl-C, until --count messages arrived, or until --timeout passed (with
--count, running out of time is an error: exit code 1).

Examples:
  webpubsub listen --user alice
  webpubsub listen --user bob --group lobby --group vip
  webpubsub listen --count 1 --timeout 10s --output json`,
		setup: func(fs *flag.FlagSet) runFunc {
			user := fs.String("user", "", "user `id` to connect as (default: anonymous)")
			var groups, roles stringList
			fs.Var(&groups, "group", "`group` to join (the token gets the role to join it); repeatable")
			fs.Var(&roles, "role", "extra `role` for the token, e.g. webpubsub.sendToGroup; repeatable")
			count := fs.Int("count", 0, "stop after `n` messages (0: no limit)")
			timeout := fs.Duration("timeout", 0, "stop after this `duration` (0: no limit)")
			return func(ctx context.Context, inv *invocation, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if *count < 0 {
					return usagef("--count %d: give a positive number, or 0 for no limit", *count)
				}
				if *timeout < 0 {
					return usagef("--timeout %s: give a positive duration, or 0 for no limit", *timeout)
				}
				for _, g := range groups {
					// The service's rule for group names (1 to 1,024
					// characters, not only whitespace), checked before
					// connecting.
					if strings.TrimSpace(g) == "" || utf8.RuneCountInString(g) > wire.MaxGroupNameChars {
						return usagef("--group %q: a group name has 1 to 1024 characters and is not only whitespace", g)
					}
				}
				c, err := inv.client()
				if err != nil {
					return err
				}
				return listen(ctx, inv, c, listenOptions{user: *user, groups: groups, roles: roles, count: *count, timeout: *timeout})
			}
		},
	}
}

type listenOptions struct {
	user          string
	groups, roles []string
	count         int
	timeout       time.Duration
}

func listen(ctx context.Context, inv *invocation, c *webpubsub.Client, o listenOptions) error {
	roles := append([]string(nil), o.roles...)
	for _, g := range o.groups {
		roles = append(roles, wire.RoleJoinLeaveGroup+"."+g)
	}
	tok, err := c.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: o.user, Roles: roles})
	if err != nil {
		return err
	}
	lctx, cancel := ctx, context.CancelFunc(func() {})
	if o.timeout > 0 {
		lctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()

	ws, err := dialWebPubSub(lctx, tok.URL)
	if err != nil {
		return err
	}
	defer ws.close()
	for _, g := range o.groups {
		if err := ws.joinGroup(lctx, g); err != nil {
			return fmt.Errorf("join group %q: %w", g, err)
		}
	}
	who := "anonymously"
	if ws.UserID != "" {
		who = fmt.Sprintf("as user %q", ws.UserID)
	}
	in := ""
	if len(o.groups) > 0 {
		in = ", in group " + quoteAll(o.groups)
	}
	fmt.Fprintf(inv.stderr, "listening %s (connection %s) on hub %q%s; Ctrl-C stops\n", who, escapeControls(ws.ConnectionID), c.Hub(), in)

	received := 0
	for o.count == 0 || received < o.count {
		select {
		case m, ok := <-ws.messages:
			if !ok {
				return ws.err()
			}
			switch {
			case m.Type == wire.TypeMessage:
				received++
				if inv.jsonOutput() {
					inv.printf("%s\n", m.raw)
				} else {
					inv.printf("%s\n", m.line())
				}
			case m.Type == wire.TypeSystem && m.Event == wire.SystemEventDisconnected:
				if m.Message != "" {
					return fmt.Errorf("the service disconnected the client: %s", m.Message)
				}
				return errors.New("the service disconnected the client")
			}
		case <-lctx.Done():
			switch {
			case ctx.Err() != nil: // interrupted: the normal way to stop
				return nil
			case o.count > 0:
				return fmt.Errorf("timed out after %s: received %d of %d messages", o.timeout, received, o.count)
			}
			return nil
		}
	}
	return nil
}
