package main

import (
	"os/exec"
	"syscall"
)

// dieWithBench makes a child process get SIGKILL when the bench dies, so
// that an interrupted run leaves no server or sandbox behind.
func dieWithBench(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
