//go:build unix

package wsclient

import "syscall"

// canReadWithoutWaiting: this system's sockets are non-blocking under
// the Go runtime, so a read in RawConn.Read returns at once.
const canReadWithoutWaiting = true

// readWithoutWaiting reads what the socket holds into buf, without
// waiting: 0 when nothing is there, at its end, or on an error (the next
// ordinary read reports those).
func readWithoutWaiting(raw syscall.RawConn, buf []byte) int {
	n := 0
	err := raw.Read(func(fd uintptr) bool {
		var rerr error
		n, rerr = syscall.Read(int(fd), buf)
		if rerr != nil {
			n = 0
		}
		return true // never wait
	})
	if err != nil {
		return 0
	}
	return n
}
