package httpserver

import "time"

// SetSSELinger sets how long SSE streams stay open at shutdown once the
// calls in flight are done, and returns a function that restores it.
func SetSSELinger(d time.Duration) (restore func()) {
	old := sseLinger
	sseLinger = d
	return func() { sseLinger = old }
}

// AddrOf returns what the per-address bounds count a remote address
// ("ip:port") as.
func AddrOf(remote string) string { return keyString(remoteKey(remote)) }
