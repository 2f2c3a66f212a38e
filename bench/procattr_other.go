//go:build !linux

package main

import "os/exec"

// dieWithBench is a no-op where the parent's death cannot be tied to the
// child's.
func dieWithBench(*exec.Cmd) {}
