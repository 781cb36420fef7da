//go:build unix

package main

import (
	"os"
	"syscall"
	"time"
)

// cpuTime returns the user plus system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// canPause reports whether pause and resume work here.
const canPause = true

// pause stops a child process (SIGSTOP): it reads nothing until resume.
func pause(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

// resume continues a paused child process (SIGCONT).
func resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
