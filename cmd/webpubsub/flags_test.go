package main

import (
	"testing"
	"time"
)

func TestSecondsFlag(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{"0", 0, true},
		{"30s", 30 * time.Second, true},
		{"5m", 5 * time.Minute, true},
		{"1.5s", 1500 * time.Millisecond, true}, // refused later by the SDK: whole seconds only
		{"-1", -time.Second, true},              // refused later by the SDK: 0 to 300
		{"soon", 0, false},
		{"", 0, false},
		{"30 s", 0, false},
	}
	for _, tt := range tests {
		var f secondsFlag
		err := f.Set(tt.in)
		if (err == nil) != tt.ok || time.Duration(f) != tt.want {
			t.Errorf("Set(%q) = %v, %v; want %v, ok %v", tt.in, time.Duration(f), err, tt.want, tt.ok)
		}
	}
	if got := (*secondsFlag)(nil).String(); got != "0s" {
		t.Errorf("nil String() = %q", got)
	}
}
