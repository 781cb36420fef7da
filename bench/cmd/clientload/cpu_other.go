//go:build !unix

package main

import (
	"errors"
	"os"
	"time"
)

// cpuTime is not measured on this system.
func cpuTime() time.Duration { return 0 }

// canPause reports whether pause and resume work here: the backlog mode
// needs SIGSTOP and SIGCONT.
const canPause = false

var errNoPause = errors.New("the backlog mode needs SIGSTOP and SIGCONT (a unix system); use -mode live")

func pause(*os.Process) error  { return errNoPause }
func resume(*os.Process) error { return errNoPause }
