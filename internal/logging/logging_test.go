package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsAreRedacted(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log, err := New(&buf, Options{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		log.Info("call", "servicepassword", "hunter2", "WHMCS_SECRET", "s3cr3t", slog.Group("req", "confirmation_token", "tok-123"), "serviceid", 7)
		out := buf.String()
		for _, secret := range []string{"hunter2", "s3cr3t", "tok-123"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s log shows secret %q: %s", format, secret, out)
			}
		}
		if !strings.Contains(out, Redacted) || !strings.Contains(out, "7") {
			t.Errorf("%s log lost the redaction marker or a plain value: %s", format, out)
		}
	}
}

func TestNoColourOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	log.Warn("hello")
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("colour escape written to a non-terminal: %q", buf.String())
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Options{Level: "loud"}); err == nil || !strings.Contains(err.Error(), "loud") {
		t.Errorf("bad level: err = %v", err)
	}
	if _, err := New(&bytes.Buffer{}, Options{Format: "xml"}); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("bad format: err = %v", err)
	}
}
