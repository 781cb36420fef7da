package webpubsub_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// TestListingResumes lists a group of 6 in 3 pages of 2, then resumes
// from each page's continuation token (as after a crash, with a new
// client) and checks that each resumption yields exactly the members not
// yet seen.
func TestListingResumes(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	for range 6 {
		conn := srv.Connect(t, "hub", "u", webpubsubtest.WithGroups("room"))
		defer conn.Close()
	}
	newClient := func() *webpubsub.Client {
		c, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "hub")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	ids := func(ms []webpubsub.GroupMember) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ConnectionID)
		}
		return out
	}
	var pages []webpubsub.ConnectionsPage
	for page, err := range newClient().ListConnectionsInGroupPages(ctx, "room", &webpubsub.ListConnectionsOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
	}
	if len(pages) != 3 || pages[2].ContinuationToken != "" || pages[0].ContinuationToken == "" || pages[1].ContinuationToken == "" {
		t.Fatalf("pages: %+v", pages)
	}
	var all []string
	for _, p := range pages {
		all = append(all, ids(p.Members)...)
	}
	var viaMembers []string
	for m, err := range newClient().ListConnectionsInGroup(ctx, "room", nil) {
		if err != nil {
			t.Fatal(err)
		}
		viaMembers = append(viaMembers, m.ConnectionID)
	}
	if diff := cmp.Diff(all, viaMembers); diff != "" || len(all) != 6 {
		t.Fatalf("pages and members differ (-pages +members):\n%s", diff)
	}
	for i, p := range pages[:2] {
		var resumed []string
		for m, err := range newClient().ListConnectionsInGroup(ctx, "room", &webpubsub.ListConnectionsOptions{PageSize: 2, ContinuationToken: p.ContinuationToken}) {
			if err != nil {
				t.Fatal(err)
			}
			resumed = append(resumed, m.ConnectionID)
		}
		if diff := cmp.Diff(all[2*(i+1):], resumed); diff != "" {
			t.Errorf("resumed after page %d (-want +got):\n%s", i+1, diff)
		}
	}
	// Top counts from the token on; a page-level loop stopped early makes
	// no further request.
	var top []string
	for page, err := range newClient().ListConnectionsInGroupPages(ctx, "room", &webpubsub.ListConnectionsOptions{PageSize: 2, Top: 3, ContinuationToken: pages[0].ContinuationToken}) {
		if err != nil {
			t.Fatal(err)
		}
		top = append(top, ids(page.Members)...)
	}
	if !slices.Equal(top, all[2:5]) {
		t.Errorf("Top 3 after page 1: %q, want %q", top, all[2:5])
	}
	// A token that is not the service's is refused by the service.
	for _, err := range newClient().ListConnectionsInGroupPages(ctx, "room", &webpubsub.ListConnectionsOptions{ContinuationToken: "forged"}) {
		var re *webpubsub.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 400 {
			t.Errorf("forged token: %v, want a 400", err)
		}
	}
}
