package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/webpubsub-go/sdk/webpubsub"
)

// okResult is the --output json answer of a command that changes state.
type okResult struct {
	OK     bool   `json:"ok"`
	Action string `json:"action"`
}

// done reports a state change: a sentence for humans, or {"ok":true}.
func (inv *invocation) done(action, format string, args ...any) error {
	if inv.jsonOutput() {
		return inv.printJSON(okResult{OK: true, Action: action})
	}
	inv.printf(format+"\n", args...)
	return nil
}

// printBool reports the answer of a check: "true"/"false", or {key: b}
// with --output json.
func (inv *invocation) printBool(key string, b bool) error {
	if inv.jsonOutput() {
		return inv.printJSON(map[string]bool{key: b})
	}
	inv.printf("%t\n", b)
	return nil
}

// membershipFlags are the flags that choose whose membership changes.
type membershipFlags struct {
	connection string
	user       string
	filter     string
	fs         *flag.FlagSet
}

func (m *membershipFlags) register(fs *flag.FlagSet, verb string) {
	m.fs = fs
	fs.StringVar(&m.connection, "connection", "", verb+" this connection `id`")
	fs.StringVar(&m.user, "user", "", verb+" every connection of this user `id`")
	fs.StringVar(&m.filter, "filter", "", verb+" every connection this OData `filter` selects (\"\" selects all); GROUP may then be repeated")
}

// mode returns which one of --connection, --user and --filter was given.
func (m *membershipFlags) mode() (string, error) {
	var given []string
	m.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "connection", "user", "filter":
			given = append(given, f.Name)
		}
	})
	switch len(given) {
	case 0:
		return "", usagef("say whose membership changes: --connection ID, --user ID or --filter FILTER")
	case 1:
		return given[0], nil
	}
	return "", usagef("give only one of --connection, --user and --filter (got --%s)", strings.Join(given, ", --"))
}

func groupCommand() *command {
	return &command{
		name:    "group",
		summary: "add to and remove from groups, close, check and list a group",
		details: `Manage the groups of the hub. A group exists while it has connections.`,
		subs: []*command{
			groupMembershipCommand("add", "add a connection, a user or filtered connections to groups"),
			groupMembershipCommand("remove", "remove a connection, a user or filtered connections from groups"),
			{
				name:    "close",
				args:    "GROUP",
				summary: "close every connection in a group",
				details: `Close every connection in GROUP, except the --exclude ones.

Examples:
  webpubsub group close lobby --reason 'maintenance'
  webpubsub group close lobby --exclude "$CONN_ID"`,
				setup: func(fs *flag.FlagSet) runFunc {
					reason := fs.String("reason", "", "`reason` the clients see in their disconnected message")
					var excluded stringList
					fs.Var(&excluded, "exclude", "connection `id` to keep open; repeatable")
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "GROUP"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						if err := c.CloseGroupConnections(ctx, args[0], &webpubsub.CloseConnectionsOptions{Reason: *reason, Excluded: excluded}); err != nil {
							return err
						}
						return inv.done("close", "closed the connections of group %q", args[0])
					}
				},
			},
			{
				name:    "exists",
				args:    "GROUP",
				summary: "print whether a group has connections",
				details: `Print true when GROUP has at least one connection, else false. The exit
code is 0 either way.

Example:
  webpubsub group exists lobby`,
				setup: func(fs *flag.FlagSet) runFunc {
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "GROUP"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						ok, err := c.GroupExists(ctx, args[0])
						if err != nil {
							return err
						}
						return inv.printBool("exists", ok)
					}
				},
			},
			{
				name:    "members",
				args:    "GROUP",
				summary: "list the connections in a group",
				details: `List the connections in GROUP, one per line: connection id, then user id
(empty for anonymous connections). With --output json: a JSON array of
{"connectionId","userId"}.

Examples:
  webpubsub group members lobby
  webpubsub group members lobby --top 10 --output json`,
				setup: func(fs *flag.FlagSet) runFunc {
					top := fs.Int("top", 0, "list at most `n` connections (0: all)")
					pageSize := fs.Int("page-size", 0, "connections per request, 1 to 200 (`n`; 0: the service decides)")
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "GROUP"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						type member struct {
							ConnectionID string `json:"connectionId"`
							UserID       string `json:"userId,omitempty"`
						}
						members := []member{}
						for m, err := range c.ListConnectionsInGroup(ctx, args[0], &webpubsub.ListConnectionsOptions{Top: *top, PageSize: *pageSize}) {
							if err != nil {
								return err
							}
							if !inv.jsonOutput() {
								inv.printf("%s\t%s\n", escapeControls(m.ConnectionID), escapeControls(m.UserID))
							}
							members = append(members, member{ConnectionID: m.ConnectionID, UserID: m.UserID})
						}
						if inv.jsonOutput() {
							return inv.printJSON(members)
						}
						return nil
					}
				},
			},
		},
	}
}

// groupMembershipCommand is "group add" or "group remove".
func groupMembershipCommand(verb, summary string) *command {
	to := map[string]string{"add": "to", "remove": "from"}[verb]
	return &command{
		name:    verb,
		args:    "GROUP... (--connection ID | --user ID | --filter FILTER)",
		summary: summary,
		details: fmt.Sprintf(`%s one connection (--connection), every connection of a user (--user)
or every connection an OData filter selects (--filter) %s GROUP. With
--filter, several groups may be given.

Examples:
  webpubsub group %[3]s lobby --connection "$CONN_ID"
  webpubsub group %[3]s lobby --user alice
  webpubsub group %[3]s lobby vip --filter "userId eq 'alice' or userId eq 'bob'"`,
			strings.ToUpper(verb[:1])+verb[1:], to, verb),
		setup: func(fs *flag.FlagSet) runFunc {
			var m membershipFlags
			m.register(fs, strings.ToUpper(verb[:1])+verb[1:])
			return func(ctx context.Context, inv *invocation, args []string) error {
				if len(args) == 0 {
					return usagef("missing GROUP")
				}
				mode, err := m.mode()
				if err != nil {
					return err
				}
				if len(args) > 1 && mode != "filter" {
					return usagef("several groups work with --filter only; got %q and %q", args[0], args[1])
				}
				c, err := inv.client()
				if err != nil {
					return err
				}
				group := args[0]
				var what string
				switch mode {
				case "connection":
					what = fmt.Sprintf("connection %q", m.connection)
					if verb == "add" {
						err = c.AddConnectionToGroup(ctx, group, m.connection)
					} else {
						err = c.RemoveConnectionFromGroup(ctx, group, m.connection)
					}
				case "user":
					what = fmt.Sprintf("user %q", m.user)
					if verb == "add" {
						err = c.AddUserToGroup(ctx, group, m.user)
					} else {
						err = c.RemoveUserFromGroup(ctx, group, m.user)
					}
				case "filter":
					what = fmt.Sprintf("the connections of filter %q", m.filter)
					if verb == "add" {
						err = c.AddConnectionsToGroups(ctx, args, m.filter)
					} else {
						err = c.RemoveConnectionsFromGroups(ctx, args, m.filter)
					}
				}
				if err != nil {
					return err
				}
				past := map[string]string{"add": "added", "remove": "removed"}[verb]
				return inv.done(verb, "%s %s %s group %s", past, what, to, quoteAll(args))
			}
		},
	}
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func userCommand() *command {
	return &command{
		name:    "user",
		summary: "check a user, close its connections, remove it from all groups",
		subs: []*command{
			{
				name:    "exists",
				args:    "USER",
				summary: "print whether a user has connections",
				details: `Print true when USER has at least one connection, else false. The exit
code is 0 either way.

Example:
  webpubsub user exists alice`,
				setup: func(fs *flag.FlagSet) runFunc {
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "USER"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						ok, err := c.UserExists(ctx, args[0])
						if err != nil {
							return err
						}
						return inv.printBool("exists", ok)
					}
				},
			},
			{
				name:    "close",
				args:    "USER",
				summary: "close every connection of a user",
				details: `Close every connection of USER, except the --exclude ones.

Example:
  webpubsub user close alice --reason 'signed out'`,
				setup: func(fs *flag.FlagSet) runFunc {
					reason := fs.String("reason", "", "`reason` the clients see in their disconnected message")
					var excluded stringList
					fs.Var(&excluded, "exclude", "connection `id` to keep open; repeatable")
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "USER"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						if err := c.CloseUserConnections(ctx, args[0], &webpubsub.CloseConnectionsOptions{Reason: *reason, Excluded: excluded}); err != nil {
							return err
						}
						return inv.done("close", "closed the connections of user %q", args[0])
					}
				},
			},
			{
				name:    "remove-from-all-groups",
				args:    "USER",
				summary: "remove a user from every group",
				details: `Remove USER from every group it is in.

Example:
  webpubsub user remove-from-all-groups alice`,
				setup: func(fs *flag.FlagSet) runFunc {
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "USER"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						if err := c.RemoveUserFromAllGroups(ctx, args[0]); err != nil {
							return err
						}
						return inv.done("remove", "removed user %q from all groups", args[0])
					}
				},
			},
		},
	}
}

func connectionCommand() *command {
	return &command{
		name:    "connection",
		summary: "check or close a connection, remove it from all groups",
		subs: []*command{
			{
				name:    "exists",
				args:    "CONNECTION_ID",
				summary: "print whether a connection is open",
				details: `Print true when the connection is open, else false. The exit code is 0
either way.

Example:
  webpubsub connection exists "$CONN_ID"`,
				setup: func(fs *flag.FlagSet) runFunc {
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "CONNECTION_ID"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						ok, err := c.ConnectionExists(ctx, args[0])
						if err != nil {
							return err
						}
						return inv.printBool("exists", ok)
					}
				},
			},
			{
				name:    "close",
				args:    "CONNECTION_ID",
				summary: "close a connection",
				details: `Close one connection.

Example:
  webpubsub connection close "$CONN_ID" --reason 'bye'`,
				setup: func(fs *flag.FlagSet) runFunc {
					reason := fs.String("reason", "", "`reason` the client sees in its disconnected message")
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "CONNECTION_ID"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						if err := c.CloseConnection(ctx, args[0], &webpubsub.CloseConnectionOptions{Reason: *reason}); err != nil {
							return err
						}
						return inv.done("close", "closed connection %q", args[0])
					}
				},
			},
			{
				name:    "remove-from-all-groups",
				args:    "CONNECTION_ID",
				summary: "remove a connection from every group",
				details: `Remove the connection from every group it is in.

Example:
  webpubsub connection remove-from-all-groups "$CONN_ID"`,
				setup: func(fs *flag.FlagSet) runFunc {
					return func(ctx context.Context, inv *invocation, args []string) error {
						if err := wantArgs(args, "CONNECTION_ID"); err != nil {
							return err
						}
						c, err := inv.client()
						if err != nil {
							return err
						}
						if err := c.RemoveConnectionFromAllGroups(ctx, args[0]); err != nil {
							return err
						}
						return inv.done("remove", "removed connection %q from all groups", args[0])
					}
				},
			},
		},
	}
}

// permissionNames maps the names the command accepts to SDK permissions.
var permissionNames = map[string]webpubsub.Permission{
	string(webpubsub.PermissionSendToGroup):    webpubsub.PermissionSendToGroup,
	string(webpubsub.PermissionJoinLeaveGroup): webpubsub.PermissionJoinLeaveGroup,
}

func permissionCommand() *command {
	sub := func(name, summary, details string, act func(ctx context.Context, inv *invocation, c *webpubsub.Client, p webpubsub.Permission, conn string, opts *webpubsub.PermissionOptions) error) *command {
		return &command{
			name:    name,
			args:    "sendToGroup|joinLeaveGroup CONNECTION_ID",
			summary: summary,
			details: details,
			setup: func(fs *flag.FlagSet) runFunc {
				group := fs.String("group", "", "limit the permission to this `group` (default: every group)")
				return func(ctx context.Context, inv *invocation, args []string) error {
					if err := wantArgs(args, "PERMISSION", "CONNECTION_ID"); err != nil {
						return err
					}
					p, ok := permissionNames[args[0]]
					if !ok {
						return usagef("unknown permission %q: choose sendToGroup or joinLeaveGroup", args[0])
					}
					c, err := inv.client()
					if err != nil {
						return err
					}
					return act(ctx, inv, c, p, args[1], &webpubsub.PermissionOptions{TargetGroup: *group})
				}
			},
		}
	}
	scope := func(opts *webpubsub.PermissionOptions) string {
		if opts.TargetGroup == "" {
			return "every group"
		}
		return fmt.Sprintf("group %q", opts.TargetGroup)
	}
	return &command{
		name:    "permission",
		summary: "grant, revoke or check a connection's permission",
		details: `Manage what a connection may do: sendToGroup (publish to a group) and
joinLeaveGroup (join and leave a group), for one group (--group) or all.`,
		subs: []*command{
			sub("grant", "grant a permission to a connection", `Grant a permission to a connection.

Example:
  webpubsub permission grant sendToGroup "$CONN_ID" --group lobby`,
				func(ctx context.Context, inv *invocation, c *webpubsub.Client, p webpubsub.Permission, conn string, opts *webpubsub.PermissionOptions) error {
					if err := c.GrantPermission(ctx, p, conn, opts); err != nil {
						return err
					}
					return inv.done("grant", "granted %s on %s to connection %q", p, scope(opts), conn)
				}),
			sub("revoke", "revoke a permission from a connection", `Revoke a permission from a connection.

Example:
  webpubsub permission revoke sendToGroup "$CONN_ID" --group lobby`,
				func(ctx context.Context, inv *invocation, c *webpubsub.Client, p webpubsub.Permission, conn string, opts *webpubsub.PermissionOptions) error {
					if err := c.RevokePermission(ctx, p, conn, opts); err != nil {
						return err
					}
					return inv.done("revoke", "revoked %s on %s from connection %q", p, scope(opts), conn)
				}),
			sub("check", "print whether a connection has a permission", `Print true when the connection has the permission, else false. The exit
code is 0 either way.

Example:
  webpubsub permission check sendToGroup "$CONN_ID" --group lobby`,
				func(ctx context.Context, inv *invocation, c *webpubsub.Client, p webpubsub.Permission, conn string, opts *webpubsub.PermissionOptions) error {
					ok, err := c.HasPermission(ctx, p, conn, opts)
					if err != nil {
						return err
					}
					return inv.printBool("granted", ok)
				}),
		},
	}
}

func healthCommand() *command {
	return &command{
		name:    "health",
		summary: "check that the service is up",
		details: `Ask the service whether it is up. Prints "healthy" and exits 0, or prints
the problem and exits 1. Needs a connection string; --hub is not needed.

Example:
  webpubsub health`,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, inv *invocation, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if inv.g.hub.value == "" && inv.getenv(envHub) == "" {
					inv.g.hub.value = "health" // the check is hub-independent; any valid name will do
				}
				c, err := inv.client()
				if err != nil {
					return err
				}
				if err := c.CheckHealth(ctx); err != nil {
					return err
				}
				if inv.jsonOutput() {
					return inv.printJSON(struct {
						Healthy bool `json:"healthy"`
					}{true})
				}
				inv.printf("healthy\n")
				return nil
			}
		},
	}
}
