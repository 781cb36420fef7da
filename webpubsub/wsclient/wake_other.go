//go:build !unix

package wsclient

import "syscall"

// canReadWithoutWaiting: not on this system (its sockets are read with
// overlapped I/O), so connections are read 4 KiB at a time.
const canReadWithoutWaiting = false

func readWithoutWaiting(syscall.RawConn, []byte) int { return 0 }
