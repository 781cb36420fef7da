package emulator

import (
	"net/http"
	"testing"
	"time"
)

// TestUserGroupMembershipIsConnectionScoped pins the service's behaviour
// (azure-webpubsub#325): AddUserToGroup, RemoveUserFromGroup and
// RemoveUserFromAllGroups act on the connections the user has open at that
// moment. Nothing is remembered for the user, so a connection opened later
// joins no group; a user without connections does not exist, cannot be
// added to a group (404) and makes no group exist.
func TestUserGroupMembershipIsConnectionScoped(t *testing.T) {
	s := newTestServer(t)
	exists := func(path string) bool {
		t.Helper()
		resp, _ := s.call(http.MethodHead, hubPath("hub", path), nil, "", nil)
		switch resp.StatusCode {
		case http.StatusOK:
			return true
		case http.StatusNotFound:
			return false
		}
		t.Fatalf("HEAD %s: %d", path, resp.StatusCode)
		return false
	}
	sendToGroup := func(group, text string) {
		t.Helper()
		s.mustStatus(http.StatusAccepted, http.MethodPost, hubPath("hub", "/groups/"+group+"/:send"), nil, "text/plain", []byte(text))
	}
	expectData := func(c *wsClient, want string) {
		t.Helper()
		if m := c.next(); m["data"] != want {
			t.Fatalf("got %v, want data %q", m, want)
		}
	}

	t.Run("user without connections", func(t *testing.T) {
		resp, body := s.call(http.MethodPut, hubPath("hub", "/users/offline/groups/g0"), nil, "", nil)
		if resp.StatusCode != http.StatusNotFound || errorCode(resp) != "Warning.User.NotExisted" || !contains(string(body), "offline") {
			t.Errorf("AddUserToGroup of a user without connections: %d %q %s", resp.StatusCode, errorCode(resp), body)
		}
		if exists("/users/offline") {
			t.Error("UserExists: true for a user with no connection")
		}
		if exists("/groups/g0") {
			t.Error("GroupExists: true for a group that has no connection")
		}
		late := s.connect("hub", clientOpts{user: "offline", subprotocol: "-"})
		if exists("/groups/g0") {
			t.Error("a connection opened after AddUserToGroup joined the group")
		}
		sendToGroup("g0", "to-g0")
		late.expectNothing(50 * time.Millisecond)
	})

	t.Run("open connections join, later ones do not", func(t *testing.T) {
		early := s.connect("hub", clientOpts{user: "alice", subprotocol: "-"})
		s.mustStatus(http.StatusOK, http.MethodPut, hubPath("hub", "/users/alice/groups/g1"), nil, "", nil)
		late := s.connect("hub", clientOpts{user: "alice", subprotocol: "-"})
		sendToGroup("g1", "to-g1")
		expectData(early, "to-g1")
		late.expectNothing(50 * time.Millisecond)

		// Removing the user removes the open connections; the group is
		// gone with its last connection.
		s.mustStatus(http.StatusNoContent, http.MethodDelete, hubPath("hub", "/users/alice/groups/g1"), nil, "", nil)
		if exists("/groups/g1") {
			t.Error("GroupExists: true after RemoveUserFromGroup of its only user")
		}
		sendToGroup("g1", "after-remove")
		early.expectNothing(50 * time.Millisecond)
	})

	t.Run("remove from all groups", func(t *testing.T) {
		c := s.connect("hub", clientOpts{user: "bob", subprotocol: "-"})
		for _, g := range []string{"a", "b"} {
			s.mustStatus(http.StatusOK, http.MethodPut, hubPath("hub", "/users/bob/groups/"+g), nil, "", nil)
		}
		s.mustStatus(http.StatusNoContent, http.MethodDelete, hubPath("hub", "/users/bob/groups"), nil, "", nil)
		if exists("/groups/a") || exists("/groups/b") {
			t.Error("a group still exists after RemoveUserFromAllGroups")
		}
		// Adding again after a reconnect needs a new call, as on the service.
		c2 := s.connect("hub", clientOpts{user: "bob", subprotocol: "-"})
		s.mustStatus(http.StatusOK, http.MethodPut, hubPath("hub", "/users/bob/groups/a"), nil, "", nil)
		sendToGroup("a", "to-a")
		expectData(c, "to-a")
		expectData(c2, "to-a")
	})
}
