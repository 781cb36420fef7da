//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// raiseFileLimit raises the soft limit of open files to at least want
// (within the hard limit), as 1,000 clients need about 2,000 sockets in
// one process.
func raiseFileLimit(want uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		fmt.Fprintln(os.Stderr, "soak: reading RLIMIT_NOFILE:", err)
		return
	}
	if l.Cur >= want {
		return
	}
	l.Cur = min(want, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		fmt.Fprintln(os.Stderr, "soak: raising RLIMIT_NOFILE:", err)
	}
}
