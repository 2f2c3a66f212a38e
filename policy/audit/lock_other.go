//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package audit

import "os"

// lockFile does nothing on systems without flock: one process per audit log
// is then the operator's responsibility.
func lockFile(*os.File) error { return nil }
