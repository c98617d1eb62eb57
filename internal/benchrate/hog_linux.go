package main

import (
	"os/exec"
	"runtime"
	"syscall"
)

// lowerThread makes the calling goroutine's thread the lowest priority
// of the machine (nice 19): it still holds one of the process's Ps, so
// the client's own goroutines wait for it, but the server process and
// other work are not slowed by it.
func lowerThread() {
	runtime.LockOSThread()
	syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}

// serverCommand starts the server at nice -10 through nice(1) when it
// can (every thread of the server inherits it), else as it is.
func serverCommand(self string, args ...string) *exec.Cmd {
	if nice, err := exec.LookPath("nice"); err == nil {
		return exec.Command(nice, append([]string{"-n", "-10", self}, args...)...)
	}
	return exec.Command(self, args...)
}

// niceness is this process's nice value.
func niceness() int {
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return 20 - p // the raw syscall returns 20 - nice
}
