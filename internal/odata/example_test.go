package odata_test

import (
	"fmt"

	"github.com/webpubsub-go/sdk/internal/odata"
)

func ExampleParse() {
	f, err := odata.Parse("UserId in ('alice', 'bob') and not('muted' in groups)")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f)
	fmt.Println(f.Match(odata.Subject{UserID: "alice", HasUserID: true, ConnectionID: "c1"}))
	fmt.Println(f.Match(odata.Subject{UserID: "bob", HasUserID: true, ConnectionID: "c2", Groups: []string{"muted"}}))
	fmt.Println(f.Match(odata.Subject{ConnectionID: "c3"}))
	// Output:
	// userId in ('alice', 'bob') and not ('muted' in groups)
	// true
	// false
	// false
}

func ExampleParse_error() {
	_, err := odata.Parse("userId eq 'a' and userId eq and")
	fmt.Println(err)
	// Output:
	// filter: column 29: expected a string after 'eq', found keyword "and"; write a quoted value such as 'user1', or null
}
