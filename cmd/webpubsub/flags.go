package main

import (
	"strconv"
	"strings"
	"time"
)

// stringList is a repeatable string flag ("--exclude a --exclude b").
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// choice is a string flag that accepts one of a fixed set of values.
type choice struct {
	value   string
	allowed []string
}

func newChoice(def string, allowed ...string) *choice {
	return &choice{value: def, allowed: allowed}
}

func (c *choice) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choice) Set(v string) error {
	for _, a := range c.allowed {
		if v == a {
			c.value = v
			return nil
		}
	}
	return usagef("choose one of %s", strings.Join(c.allowed, ", "))
}

// secondsFlag is a duration flag that also takes a bare number of seconds
// ("--ttl 30" as well as "--ttl 30s"), as the REST API counts in seconds.
type secondsFlag time.Duration

func (d *secondsFlag) String() string {
	if d == nil {
		return "0s"
	}
	return time.Duration(*d).String()
}

func (d *secondsFlag) Set(v string) error {
	if n, err := strconv.Atoi(v); err == nil {
		*d = secondsFlag(time.Duration(n) * time.Second)
		return nil
	}
	parsed, err := time.ParseDuration(v)
	if err != nil {
		return usagef("give whole seconds (30) or a duration (30s, 5m)")
	}
	*d = secondsFlag(parsed)
	return nil
}
