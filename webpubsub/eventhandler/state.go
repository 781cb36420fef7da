package eventhandler

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// State is a connection's state: named JSON values that the service keeps
// with the connection and sends with every later event in the
// ce-connectionState header, as base64-encoded JSON (the convention the
// JavaScript and .NET handlers share, so a state written by one is readable
// by the others).
type State map[string]json.RawMessage

// Get unmarshals the value stored under key into v. It reports false, and
// leaves v alone, when the key is absent.
func (s State) Get(key string, v any) (bool, error) {
	raw, ok := s[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("eventhandler: connection state %q: %w", key, err)
	}
	return true, nil
}

// decodeState parses a ce-connectionState header value. An empty value is
// no state.
func decodeState(header string) (State, error) {
	if header == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(header); err != nil {
			return nil, errors.New("ce-connectionState is not base64: the handler reads and writes state as base64-encoded JSON")
		}
	}
	var s State
	if err := json.Unmarshal(raw, &s); err != nil || s == nil {
		return nil, errors.New("ce-connectionState is not a base64-encoded JSON object: the handler reads and writes state as base64-encoded JSON")
	}
	return s, nil
}

// encodeState returns the ce-connectionState header value for s.
func encodeState(s State) (string, error) {
	if s == nil {
		s = State{}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("eventhandler: encode connection state: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// StateUpdate records changes to the connection state. ConnectResponse and
// EventResponse embed it, so its methods are called on the response:
//
//	resp := &eventhandler.ConnectResponse{UserID: "ana"}
//	if err := resp.SetState("room", "lobby"); err != nil { ... }
//
// Changes apply, in the order made, on top of the state the event arrived
// with (ConnectionContext.State); the handler then sends the whole result in
// the ce-connectionState response header, which replaces the state the
// service keeps. Without any change no header is sent and the state stays as
// it is. ClearState followed by SetState replaces the state. Only the
// blocking events (connect and user events) can change the state.
type StateUpdate struct {
	changed bool
	cleared bool
	ops     map[string]json.RawMessage // nil value: delete the key
}

// SetState stores value, marshalled with encoding/json, under key.
func (u *StateUpdate) SetState(key string, value any) error {
	if key == "" {
		return errors.New("eventhandler: SetState: the key is empty; name each state value")
	}
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("eventhandler: SetState %q: %w", key, err)
	}
	u.record(key, b)
	return nil
}

// DeleteState removes key from the state.
func (u *StateUpdate) DeleteState(key string) { u.record(key, nil) }

// ClearState removes every key, including keys set earlier on this update.
func (u *StateUpdate) ClearState() {
	u.changed = true
	u.cleared = true
	clear(u.ops)
}

func (u *StateUpdate) record(key string, value json.RawMessage) {
	if u.ops == nil {
		u.ops = make(map[string]json.RawMessage)
	}
	u.changed = true
	u.ops[key] = value
}

// apply returns the state after the changes and whether there were any.
func (u *StateUpdate) apply(current State) (State, bool) {
	if !u.changed {
		return nil, false
	}
	next := State{}
	if !u.cleared {
		maps.Copy(next, current)
	}
	for k, v := range u.ops {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	return next, true
}
