package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

const (
	demoHub        = "demo"
	demoGroup      = "demo"
	demoQuietCheck = 250 * time.Millisecond
)

func demoCommand() *command {
	return &command{
		name:        "demo",
		longRunning: true,
		summary:     "walk through the SDK against a local (or real) service",
		details: `Start a local Web PubSub service on a free port, connect two WebSocket
listeners (alice, and bob in group "demo"), and walk through the SDK step by
step: sends of JSON, text and binary to everyone, a user, a group and a
connection; group membership; existence checks; permissions; a client
token; closing a connection; an MQTT 5.0 client over WebSocket receiving a
group send. Every step checks that each listener received exactly what it should
(within --step-timeout), and the exit code is 0 only if all of them did.

With --connection-string (or $WEBPUBSUB_CONNECTION_STRING) the same walk runs
against that service, in --hub (default: a new hub "demo_<random>", so that
other clients of the service neither disturb it nor receive its messages).

Examples:
  webpubsub demo
  make demo
  webpubsub demo --connection-string "$AZURE_CONNECTION_STRING"`,
		setup: func(fs *flag.FlagSet) runFunc {
			stepTimeout := fs.Duration("step-timeout", 5*time.Second, "how long each step may wait for its messages (`duration`)")
			return func(ctx context.Context, inv *invocation, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if inv.jsonOutput() {
					return usagef("demo prints a walkthrough for people; --output json is not supported")
				}
				if *stepTimeout <= 0 {
					return usagef("--step-timeout %s: give a positive duration", *stepTimeout)
				}
				return runDemo(ctx, inv, *stepTimeout)
			}
		},
	}
}

// demo is one run of the walkthrough.
type demo struct {
	out     io.Writer
	c       *webpubsub.Client
	timeout time.Duration
	step    int
	names   map[*wsClient]string
}

func runDemo(ctx context.Context, inv *invocation, timeout time.Duration) error {
	start := time.Now()
	logger, err := inv.logger(slog.LevelError)
	if err != nil {
		return err
	}
	embedded := inv.g.connectionString.value == "" && inv.getenv(envConnectionString) == ""
	if inv.g.hub.value == "" && inv.getenv(envHub) == "" {
		inv.g.hub.value = demoHub
		if !embedded {
			// A hub of its own, so that other clients of a shared service
			// neither disturb the checks nor receive the demo's messages.
			inv.g.hub.value = demoHub + "_" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
		}
	}
	target := ""
	if embedded {
		e, err := emulator.New(emulator.WithLogger(logger))
		if err != nil {
			return err
		}
		sctx, stop := context.WithCancel(ctx)
		addr, errc, err := e.Serve(sctx, "127.0.0.1:0")
		if err != nil {
			stop()
			return err
		}
		defer func() {
			stop()
			<-errc
		}()
		endpoint := "http://" + addr.String()
		inv.g.connectionString.value = "Endpoint=" + endpoint + ";AccessKey=" + e.AccessKey() + ";Version=1.0;"
		target = "a local Web PubSub service at " + endpoint + " (started for this demo)"
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	if target == "" {
		target = "the service at " + c.Endpoint()
	}
	fmt.Fprintf(inv.stdout, "Web PubSub demo: %s, hub %q\n", target, c.Hub())

	d := &demo{out: inv.stdout, c: c, timeout: timeout, names: map[*wsClient]string{}}
	steps, err := d.walk(ctx)
	if err != nil {
		fmt.Fprintf(inv.stdout, "   FAILED: %s\n", inv.scrub(oneLine(err.Error())))
		return fmt.Errorf("demo step %d failed: %w", d.step, err)
	}
	fmt.Fprintf(inv.stdout, "\nAll %d steps passed in %s.\n", steps, time.Since(start).Round(time.Millisecond))
	return nil
}

// walk runs the steps and returns how many passed.
func (d *demo) walk(ctx context.Context) (int, error) {
	c := d.c

	// 1. Listeners.
	d.begin("Connect two WebSocket listeners (ClientAccessToken, wsclient)")
	alice, err := d.connect(ctx, "alice", &webpubsub.TokenOptions{UserID: "alice"})
	if err != nil {
		return 0, err
	}
	defer alice.close()
	bob, err := d.connect(ctx, "bob", &webpubsub.TokenOptions{UserID: "bob", Roles: []string{wire.RoleJoinLeaveGroup + "." + demoGroup}})
	if err != nil {
		return 0, err
	}
	defer bob.close()
	if err := d.run(ctx, func(ctx context.Context) error { return bob.joinGroup(ctx, demoGroup) }); err != nil {
		return 0, fmt.Errorf("bob joins group %q: %w", demoGroup, err)
	}
	d.note("bob joined group %q (his token has the role %s.%s)", demoGroup, wire.RoleJoinLeaveGroup, demoGroup)

	// 2-4. To everyone, in each data type.
	greeting := map[string]string{"greeting": "hello, everyone"}
	d.begin("Send JSON to everyone: SendToAll(JSON(%s))", mustJSON(greeting))
	if err := d.send(ctx, func(ctx context.Context) error { return c.SendToAll(ctx, webpubsub.JSON(greeting), nil) },
		want(alice, serverMsg(wire.DataTypeJSON, mustJSON(greeting))),
		want(bob, serverMsg(wire.DataTypeJSON, mustJSON(greeting)))); err != nil {
		return d.step - 1, err
	}
	d.begin("Send text to everyone: SendToAll(Text(%q))", "plain text for all")
	if err := d.send(ctx, func(ctx context.Context) error { return c.SendToAll(ctx, webpubsub.Text("plain text for all"), nil) },
		want(alice, serverMsg(wire.DataTypeText, "plain text for all")),
		want(bob, serverMsg(wire.DataTypeText, "plain text for all"))); err != nil {
		return d.step - 1, err
	}
	blob := []byte{0xde, 0xad, 0xbe, 0xef}
	d.begin("Send binary to everyone: SendToAll(Binary(% x)); clients get it base64-encoded", blob)
	if err := d.send(ctx, func(ctx context.Context) error { return c.SendToAll(ctx, webpubsub.Binary(blob), nil) },
		want(alice, binaryMsg(wire.FromServer, "", blob)),
		want(bob, binaryMsg(wire.FromServer, "", blob))); err != nil {
		return d.step - 1, err
	}

	// 5-7. To a user, a group, a connection.
	d.begin("Send to one user: SendToUser(%q, Text(%q)); bob gets nothing", "alice", "just for alice")
	if err := d.send(ctx, func(ctx context.Context) error {
		return c.SendToUser(ctx, "alice", webpubsub.Text("just for alice"), nil)
	},
		want(alice, serverMsg(wire.DataTypeText, "just for alice"))); err != nil {
		return d.step - 1, err
	}
	room := map[string]any{"room": demoGroup, "text": "hi, group"}
	d.begin("Send to a group: SendToGroup(%q, JSON(%s)); only bob is in it", demoGroup, mustJSON(room))
	if err := d.send(ctx, func(ctx context.Context) error { return c.SendToGroup(ctx, demoGroup, webpubsub.JSON(room), nil) },
		want(bob, groupMsg(demoGroup, "", wire.DataTypeJSON, mustJSON(room)))); err != nil {
		return d.step - 1, err
	}
	d.begin("Send to one connection: SendToConnection(bob's connection, Text(%q))", "only on this connection")
	if err := d.send(ctx, func(ctx context.Context) error {
		return c.SendToConnection(ctx, bob.ConnectionID, webpubsub.Text("only on this connection"), nil)
	}, want(bob, serverMsg(wire.DataTypeText, "only on this connection"))); err != nil {
		return d.step - 1, err
	}

	// 8. Group membership.
	d.begin("Group membership: AddUserToGroup(%q, %q), GroupExists, ListConnectionsInGroup", demoGroup, "alice")
	if err := d.run(ctx, func(ctx context.Context) error { return c.AddUserToGroup(ctx, demoGroup, "alice") }); err != nil {
		return d.step - 1, err
	}
	d.note("added user alice to group %q", demoGroup)
	if err := d.check(ctx, "GroupExists(\"demo\")", true, func(ctx context.Context) (bool, error) { return c.GroupExists(ctx, demoGroup) }); err != nil {
		return d.step - 1, err
	}
	var members []string
	if err := d.run(ctx, func(ctx context.Context) error {
		members = members[:0]
		for m, err := range c.ListConnectionsInGroup(ctx, demoGroup, nil) {
			if err != nil {
				return err
			}
			members = append(members, m.UserID+" "+m.ConnectionID)
		}
		return nil
	}); err != nil {
		return d.step - 1, err
	}
	slices.Sort(members)
	wantMembers := []string{"alice " + alice.ConnectionID, "bob " + bob.ConnectionID}
	if !slices.Equal(members, wantMembers) {
		return d.step - 1, fmt.Errorf("ListConnectionsInGroup: got %q, want %q", members, wantMembers)
	}
	for _, m := range members {
		user, conn, _ := strings.Cut(m, " ")
		d.note("member: %s (connection %s)", user, conn)
	}
	if err := d.send(ctx, func(ctx context.Context) error {
		return c.SendToGroup(ctx, demoGroup, webpubsub.Text("welcome, alice"), nil)
	},
		want(alice, groupMsg(demoGroup, "", wire.DataTypeText, "welcome, alice")),
		want(bob, groupMsg(demoGroup, "", wire.DataTypeText, "welcome, alice"))); err != nil {
		return d.step - 1, err
	}

	// 9. Existence checks.
	d.begin("Existence checks: ConnectionExists, UserExists")
	nobody := "nobody-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	for _, chk := range []struct {
		what string
		want bool
		fn   func(context.Context) (bool, error)
	}{
		{"ConnectionExists(alice's connection)", true, func(ctx context.Context) (bool, error) { return c.ConnectionExists(ctx, alice.ConnectionID) }},
		{"UserExists(\"alice\")", true, func(ctx context.Context) (bool, error) { return c.UserExists(ctx, "alice") }},
		{fmt.Sprintf("UserExists(%q)", nobody), false, func(ctx context.Context) (bool, error) { return c.UserExists(ctx, nobody) }},
	} {
		if err := d.check(ctx, chk.what, chk.want, chk.fn); err != nil {
			return d.step - 1, err
		}
	}

	// 10. Permissions.
	d.begin("Permissions: alice publishes to group %q only while she holds sendToGroup", demoGroup)
	perm := &webpubsub.PermissionOptions{TargetGroup: demoGroup}
	hasPerm := func(ctx context.Context) (bool, error) {
		return c.HasPermission(ctx, webpubsub.PermissionSendToGroup, alice.ConnectionID, perm)
	}
	if err := d.check(ctx, "HasPermission(sendToGroup, alice, \"demo\")", false, hasPerm); err != nil {
		return d.step - 1, err
	}
	err = d.run(ctx, func(ctx context.Context) error { return alice.sendToGroup(ctx, demoGroup, "may I?") })
	if err == nil {
		return d.step - 1, errors.New("alice published to the group without the permission")
	}
	d.note("alice's publish without it was refused: %s", err)
	if err := d.run(ctx, func(ctx context.Context) error {
		return c.GrantPermission(ctx, webpubsub.PermissionSendToGroup, alice.ConnectionID, perm)
	}); err != nil {
		return d.step - 1, err
	}
	d.note("GrantPermission(sendToGroup, alice, \"demo\")")
	if err := d.check(ctx, "HasPermission(sendToGroup, alice, \"demo\")", true, hasPerm); err != nil {
		return d.step - 1, err
	}
	if err := d.send(ctx, func(ctx context.Context) error { return alice.sendToGroup(ctx, demoGroup, "alice says hi") },
		want(alice, groupMsg(demoGroup, "alice", wire.DataTypeText, "alice says hi")),
		want(bob, groupMsg(demoGroup, "alice", wire.DataTypeText, "alice says hi"))); err != nil {
		return d.step - 1, err
	}
	if err := d.run(ctx, func(ctx context.Context) error {
		return c.RevokePermission(ctx, webpubsub.PermissionSendToGroup, alice.ConnectionID, perm)
	}); err != nil {
		return d.step - 1, err
	}
	d.note("RevokePermission(sendToGroup, alice, \"demo\")")
	if err := d.check(ctx, "HasPermission(sendToGroup, alice, \"demo\")", false, hasPerm); err != nil {
		return d.step - 1, err
	}

	// 11. A token for a third client.
	d.begin("A client token: ClientAccessToken(user carol, group %q), then connect with it", demoGroup)
	tok, err := c.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "carol", Groups: []string{demoGroup}, Expiry: 10 * time.Minute})
	if err != nil {
		return d.step - 1, err
	}
	d.note("URL %s?access_token=<%d-character JWT, not shown>", tok.BaseURL, len(tok.Token))
	d.note("expires at %s", tok.ExpiresAt.UTC().Format(time.RFC3339))
	carol, err := d.dial(ctx, "carol", tok.URL)
	if err != nil {
		return d.step - 1, err
	}
	defer carol.close()
	if err := d.send(ctx, func(ctx context.Context) error {
		return c.SendToGroup(ctx, demoGroup, webpubsub.Text("hello, carol"), nil)
	},
		want(alice, groupMsg(demoGroup, "", wire.DataTypeText, "hello, carol")),
		want(bob, groupMsg(demoGroup, "", wire.DataTypeText, "hello, carol")),
		want(carol, groupMsg(demoGroup, "", wire.DataTypeText, "hello, carol"))); err != nil {
		return d.step - 1, err
	}

	// 12. Closing.
	d.begin("Close a connection: CloseConnection(carol's connection, reason %q)", "demo finished")
	if err := d.send(ctx, func(ctx context.Context) error {
		return c.CloseConnection(ctx, carol.ConnectionID, &webpubsub.CloseConnectionOptions{Reason: "demo finished"})
	}, want(carol, expectation{system: wire.SystemEventDisconnected, data: "demo finished"})); err != nil {
		return d.step - 1, err
	}
	if err := d.eventually(ctx, "ConnectionExists(carol's connection)", false, func(ctx context.Context) (bool, error) {
		return c.ConnectionExists(ctx, carol.ConnectionID)
	}); err != nil {
		return d.step - 1, err
	}

	// 13. MQTT.
	reading := map[string]any{"sensor": "t1", "celsius": 21.5}
	d.begin("An MQTT 5.0 client over WebSocket: ClientAccessToken(Protocol: MQTT), SUBSCRIBE %q, then SendToGroup(%q, JSON(%s))", demoGroup, demoGroup, mustJSON(reading))
	if err := d.mqttStep(ctx, reading, alice, bob); err != nil {
		return d.step - 1, err
	}

	// Nothing else may arrive: every message so far was expected exactly once.
	time.Sleep(demoQuietCheck)
	for _, l := range []*wsClient{alice, bob} {
		select {
		case m, ok := <-l.messages:
			if ok {
				return d.step, fmt.Errorf("%s received an unexpected message: %s", d.names[l], describe(m))
			}
		default:
		}
	}
	return d.step, nil
}

// begin starts a step.
func (d *demo) begin(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.out, "\n%d. %s\n", d.step, fmt.Sprintf(format, args...))
}

// note prints a detail of the current step.
func (d *demo) note(format string, args ...any) {
	fmt.Fprintf(d.out, "   %s\n", fmt.Sprintf(format, args...))
}

// run calls fn with the step's deadline.
func (d *demo) run(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return fn(ctx)
}

// connect mints a token and connects a listener with it.
func (d *demo) connect(ctx context.Context, name string, opts *webpubsub.TokenOptions) (*wsClient, error) {
	tok, err := d.c.ClientAccessToken(ctx, opts)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx, name, tok.URL)
}

func (d *demo) dial(ctx context.Context, name, url string) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	l, err := dialWebPubSub(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d.names[l] = name
	d.note("%-5s connected as user %q, connection %s", name, l.UserID, l.ConnectionID)
	return l, nil
}

// check calls a (bool, error) operation and requires the answer want.
func (d *demo) check(ctx context.Context, what string, want bool, fn func(context.Context) (bool, error)) error {
	var got bool
	err := d.run(ctx, func(ctx context.Context) (err error) {
		got, err = fn(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got != want {
		return fmt.Errorf("%s = %t, want %t", what, got, want)
	}
	d.note("%s = %t", what, got)
	return nil
}

// eventually is check for a state the service reaches asynchronously: it
// asks again until the step's deadline.
func (d *demo) eventually(ctx context.Context, what string, want bool, fn func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(d.timeout)
	for {
		err := d.check(ctx, what, want, fn)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// expectation is a message a listener must receive.
type expectation struct {
	from, group, fromUser, dataType string
	data                            string // text; compact JSON; base64 for binary; the reason of a system message
	system                          string // a system event instead of a data message
}

type listenerWant struct {
	l    *wsClient
	want []expectation
}

func want(l *wsClient, e ...expectation) listenerWant { return listenerWant{l, e} }

func serverMsg(dataType, data string) expectation {
	return expectation{from: wire.FromServer, dataType: dataType, data: data}
}

func groupMsg(group, fromUser, dataType, data string) expectation {
	return expectation{from: wire.FromGroup, group: group, fromUser: fromUser, dataType: dataType, data: data}
}

func binaryMsg(from, group string, b []byte) expectation {
	return expectation{from: from, group: group, dataType: wire.DataTypeBinary, data: base64.StdEncoding.EncodeToString(b)}
}

func (e expectation) String() string {
	if e.system != "" {
		return fmt.Sprintf("system %s (%s)", e.system, e.data)
	}
	return inbound{Type: wire.TypeMessage, From: e.from, Group: e.group, FromUserID: e.fromUser, DataType: e.dataType, Data: e.rawData()}.line()
}

func (e expectation) rawData() json.RawMessage {
	if e.dataType == wire.DataTypeJSON {
		return json.RawMessage(e.data)
	}
	b, _ := json.Marshal(e.data)
	return b
}

// matches reports whether m is the expected message.
func (e expectation) matches(m inbound) bool {
	if e.system != "" {
		return m.Type == wire.TypeSystem && m.Event == e.system && m.Message == e.data
	}
	if m.Type != wire.TypeMessage || m.From != e.from || m.Group != e.group || m.DataType != e.dataType {
		return false
	}
	if e.fromUser != "" && m.FromUserID != e.fromUser {
		return false
	}
	if e.dataType == wire.DataTypeJSON {
		var a, b bytes.Buffer
		return json.Compact(&a, m.Data) == nil && json.Compact(&b, []byte(e.data)) == nil && a.String() == b.String()
	}
	return m.text() == e.data
}

func describe(m inbound) string {
	if m.Type == wire.TypeMessage {
		return m.line()
	}
	return string(m.raw)
}

// send runs op and then checks that every listener received exactly its
// expected messages, in any order, within the step's deadline. A listener
// not named must receive nothing; that is checked by the next step that
// reads it, and at the end.
func (d *demo) send(ctx context.Context, op func(context.Context) error, wants ...listenerWant) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if err := op(ctx); err != nil {
		return err
	}
	for _, w := range wants {
		name := d.names[w.l]
		pending := slices.Clone(w.want)
		for len(pending) > 0 {
			var m inbound
			select {
			case got, ok := <-w.l.messages:
				if !ok {
					return fmt.Errorf("%s's connection ended: %w", name, w.l.err())
				}
				m = got
			case <-ctx.Done():
				return fmt.Errorf("%s: nothing arrived within %s; expected %s", name, d.timeout, pending[0])
			}
			i := slices.IndexFunc(pending, func(e expectation) bool { return e.matches(m) })
			if i < 0 {
				return fmt.Errorf("%s received an unexpected message: %s", name, describe(m))
			}
			pending = slices.Delete(pending, i, i+1)
			if m.Type == wire.TypeSystem {
				d.note("%-5s <- system %s: %q", name, m.Event, m.Message)
			} else {
				d.note("%-5s <- %s", name, m.line())
			}
		}
	}
	return nil
}

// mqttStep connects an MQTT client (user "device") that subscribes to the
// demo group, sends data to the group through the REST API, and checks that
// the WebSocket members and the MQTT client each receive it once: the MQTT
// client as a QoS 1 PUBLISH on the group's topic with content type
// application/json.
func (d *demo) mqttStep(ctx context.Context, data any, members ...*wsClient) error {
	tok, err := d.c.ClientAccessToken(ctx, &webpubsub.TokenOptions{
		Protocol: webpubsub.ClientProtocolMQTT, UserID: "device", Roles: []string{wire.RoleJoinLeaveGroup + "." + demoGroup},
	})
	if err != nil {
		return err
	}
	d.note("URL %s?access_token=<%d-character JWT, not shown>", tok.BaseURL, len(tok.Token))
	var dev *mqttClient
	if err := d.run(ctx, func(ctx context.Context) (err error) {
		if dev, err = dialMQTT(ctx, tok.URL, "demodevice"); err != nil {
			return err
		}
		return dev.subscribe(ctx, demoGroup)
	}); err != nil {
		if dev != nil {
			dev.close()
		}
		return fmt.Errorf("device: %w", err)
	}
	defer dev.close()
	d.note("device connected (MQTT 5.0, user \"device\") and subscribed to %q at QoS 1", demoGroup)
	payload := mustJSON(data)
	var wants []listenerWant
	for _, l := range members {
		wants = append(wants, want(l, groupMsg(demoGroup, "", wire.DataTypeJSON, payload)))
	}
	if err := d.send(ctx, func(ctx context.Context) error { return d.c.SendToGroup(ctx, demoGroup, webpubsub.JSON(data), nil) }, wants...); err != nil {
		return err
	}
	var pub *mqtt.Publish
	if err := d.run(ctx, func(ctx context.Context) (err error) { pub, err = dev.receive(ctx); return err }); err != nil {
		return fmt.Errorf("device: expected a PUBLISH on %q within %s: %w", demoGroup, d.timeout, err)
	}
	got := fmt.Sprintf("PUBLISH %q QoS %d, content type %q: %s", pub.Topic, pub.QoS, pub.Props.ContentType, pub.Payload)
	if pub.Topic != demoGroup || pub.QoS != 1 || !pub.Props.HasContentType || pub.Props.ContentType != wire.ContentTypeJSON || string(pub.Payload) != payload {
		return fmt.Errorf("device received %s; want PUBLISH %q QoS 1, content type %q: %s", got, demoGroup, wire.ContentTypeJSON, payload)
	}
	d.note("%-5s <- %s", "device", got)
	return nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v) // only called with maps of strings and numbers, which always encode
	return string(b)
}
