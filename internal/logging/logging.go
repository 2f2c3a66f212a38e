// Package logging builds the process's slog.Logger: tinted text on stderr
// (colour only on a terminal and never with NO_COLOR) or JSON lines, with
// attributes that name a secret redacted.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// Redacted replaces a secret's value wherever one would be shown.
const Redacted = "[redacted]"

// Options choose the logger's level and format.
type Options struct {
	Level  string // debug, info, warn, error
	Format string // text or json
}

// New returns a logger writing to w. Text is coloured only when w is a
// terminal and NO_COLOR is unset or empty.
func New(w io.Writer, opts Options) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(orDefault(opts.Level, "info"))); err != nil {
		return nil, fmt.Errorf("bad log level %q: want debug, info, warn or error", opts.Level)
	}
	switch orDefault(opts.Format, "text") {
	case "text":
		return slog.New(tint.NewTextHandler(w, &tint.Options{
			Level:       level,
			TimeFormat:  time.TimeOnly,
			NoColor:     !colour(w),
			ReplaceAttr: redactSecrets,
		})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redactSecrets})), nil
	}
	return nil, fmt.Errorf("bad log format %q: want text or json", opts.Format)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// colour reports whether w is a terminal and NO_COLOR asks for nothing else.
func colour(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// IsSecretKey reports whether a field or attribute name names a secret:
// passwords, secrets, tokens, keys and authorization headers.
func IsSecretKey(name string) bool {
	name = strings.ToLower(name)
	for _, s := range []string{"password", "secret", "token", "authorization", "accesskey", "access_key", "signing_key"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func redactSecrets(_ []string, a slog.Attr) slog.Attr {
	if IsSecretKey(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, Redacted)
	}
	return a
}
