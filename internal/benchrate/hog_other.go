//go:build !linux

package main

import "os/exec"

// lowerThread is a no-op where threads cannot be niced apart: the spinning
// goroutines then slow the server too.
func lowerThread() {}

// serverCommand starts the server as it is.
func serverCommand(self string, args ...string) *exec.Cmd { return exec.Command(self, args...) }

func niceness() int { return 0 }
