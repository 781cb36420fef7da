package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/webpubsub-go/sdk/webpubsub"
)

// maxMessageBytes bounds a message read from a file or stdin: the service
// accepts at most 1 MiB per REST send.
const maxMessageBytes = 1 << 20

// Message types of --type.
const (
	typeJSON   = "json"
	typeText   = "text"
	typeBinary = "binary"
)

func sendCommand() *command {
	return &command{
		name:    "send",
		args:    "all|user ID|connection ID|group NAME [MESSAGE|-]",
		summary: "send a message to the hub, a user, a connection or a group",
		details: `Send a message through the REST API. The message is the MESSAGE argument,
the contents of --file, or stdin when MESSAGE is "-". --type says what it is:
text (the default), json (checked before sending: bad JSON is refused) or
binary (the bytes as they are).

Sending returns when the service accepted the message; delivery is
asynchronous, and a user, connection or group nobody is in is not an error.

Examples:
  webpubsub send all 'hello, everyone'
  webpubsub send all --type json '{"kind":"greeting","text":"hi"}'
  webpubsub send user alice 'just for you'
  webpubsub send group lobby --exclude "$CONN_ID" 'the rest of you'
  webpubsub send all --filter "userId ne 'bob'" --ttl 30s 'not for bob'
  webpubsub send connection "$CONN_ID" --type binary --file frame.bin
  echo '{"n":1}' | webpubsub send group lobby --type json -`,
		setup: func(fs *flag.FlagSet) runFunc {
			msgType := newChoice(typeText, typeJSON, typeText, typeBinary)
			fs.Var(msgType, "type", "message `type`: json, text or binary")
			file := fs.String("file", "", "read the message from `path` (\"-\" for stdin)")
			filter := fs.String("filter", "", "OData `filter` choosing the receivers, e.g. \"userId ne 'bob'\" (all, user, group)")
			var excluded stringList
			fs.Var(&excluded, "exclude", "connection `id` that does not receive the message; repeatable (all, group)")
			var ttlFlag secondsFlag
			fs.Var(&ttlFlag, "ttl", "how long the message may wait for a slow client: whole seconds up to 300, as a number (30) or a `duration` (30s, 5m); 0: forever")
			ttl := (*time.Duration)(&ttlFlag)
			return func(ctx context.Context, inv *invocation, args []string) error {
				if len(args) == 0 {
					return usagef("missing target: all, user ID, connection ID or group NAME")
				}
				target, args := args[0], args[1:]
				var id string
				switch target {
				case "all":
				case "user", "connection", "group":
					if len(args) == 0 {
						return usagef("missing %s after %q", map[string]string{"user": "user ID", "connection": "connection ID", "group": "group NAME"}[target], target)
					}
					id, args = args[0], args[1:]
				default:
					return usagef("unknown target %q: choose all, user ID, connection ID or group NAME", target)
				}
				if len(excluded) > 0 && target != "all" && target != "group" {
					return usagef("--exclude works with 'send all' and 'send group' only")
				}
				if *filter != "" && target == "connection" {
					return usagef("--filter does not work with 'send connection'")
				}
				body, err := readMessage(inv, args, *file)
				if err != nil {
					return err
				}
				msg, err := buildMessage(msgType.value, body)
				if err != nil {
					return err
				}
				c, err := inv.client()
				if err != nil {
					return err
				}
				switch target {
				case "all":
					err = c.SendToAll(ctx, msg, &webpubsub.SendToAllOptions{Filter: *filter, Excluded: excluded, TTL: *ttl})
				case "user":
					err = c.SendToUser(ctx, id, msg, &webpubsub.SendToUserOptions{Filter: *filter, TTL: *ttl})
				case "connection":
					err = c.SendToConnection(ctx, id, msg, &webpubsub.SendToConnectionOptions{TTL: *ttl})
				case "group":
					err = c.SendToGroup(ctx, id, msg, &webpubsub.SendToGroupOptions{Filter: *filter, Excluded: excluded, TTL: *ttl})
				}
				if err != nil {
					return err
				}
				if inv.jsonOutput() {
					return inv.printJSON(sendResult{Sent: true, Target: target, ID: id, Type: msgType.value, Bytes: len(body)})
				}
				to := "everyone in hub " + c.Hub()
				if target != "all" {
					to = fmt.Sprintf("%s %q", target, id)
				}
				inv.printf("sent %d bytes of %s to %s\n", len(body), msgType.value, to)
				return nil
			}
		},
	}
}

type sendResult struct {
	Sent   bool   `json:"sent"`
	Target string `json:"target"`
	ID     string `json:"id,omitempty"`
	Type   string `json:"type"`
	Bytes  int    `json:"bytes"`
}

// readMessage returns the message from exactly one source: the argument,
// --file, or stdin ("-").
func readMessage(inv *invocation, args []string, file string) ([]byte, error) {
	if len(args) > 1 {
		return nil, usagef("unexpected argument %q: give the message as one argument (quote it)", args[1])
	}
	switch {
	case len(args) == 1 && file != "":
		return nil, usagef("give the message either as an argument or with --file, not both")
	case len(args) == 0 && file == "":
		return nil, usagef("missing MESSAGE: give it as an argument, with --file PATH, or as - to read stdin")
	case file == "-" || (len(args) == 1 && args[0] == "-"):
		return readLimited(inv.stdin, "stdin")
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, usagef("--file: %v", unwrapPathError(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, usagef("--file: %s is a directory: give the path of a file", file)
		}
		return readLimited(f, file)
	}
	return []byte(args[0]), nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMessageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxMessageBytes {
		return nil, usagef("the message in %s is larger than the service's limit of 1 MiB", name)
	}
	return b, nil
}

// buildMessage turns body into an SDK message of the chosen type. JSON is
// validated here, so that a typo is a usage error that names the problem.
func buildMessage(msgType string, body []byte) (webpubsub.Message, error) {
	switch msgType {
	case typeJSON:
		if err := checkJSON(body); err != nil {
			return webpubsub.Message{}, err
		}
		return webpubsub.RawJSON(body), nil
	case typeBinary:
		return webpubsub.Binary(body), nil
	}
	return webpubsub.Text(string(body)), nil
}

// checkJSON explains why body is not one JSON value.
func checkJSON(body []byte) error {
	if json.Valid(body) {
		return nil
	}
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	switch {
	case len(body) == 0:
		return usagef("the message is empty, which is not JSON; use --type text for plain text")
	case errors.As(err, &se):
		return usagef("the message is not valid JSON: %v (at byte %d); use --type text for plain text", se, se.Offset)
	case err != nil:
		return usagef("the message is not valid JSON: %v; use --type text for plain text", err)
	}
	return usagef("the message is not valid JSON; use --type text for plain text")
}
