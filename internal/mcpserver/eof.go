package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mark3labs/mcp-go/mcp"
)

// DrainTimeout bounds how long the stdio server, once its input has ended,
// waits for the requests it has read to be answered. It matches the default
// bound on one WHMCS request (WHMCS_TIMEOUT) and on the HTTP server's
// graceful shutdown.
const DrainTimeout = 30 * time.Second

// HoldEOF wraps the stdio server's input and output so that the end of the
// input reaches mcp-go's stdio server only once every request read from in
// has been answered on out, or after timeout, or when ctx ends. mcp-go's
// Listen cancels the requests in flight as soon as its input ends, so
// without the hold a client that writes its calls and closes stdin (a
// script, a pipe) gets "context canceled" for each of them, and a write to
// WHMCS may be cut off mid-way.
//
// A request is a line with a method and a string or number id, and neither a
// result nor an error; subscriptions/listen is left out, since its stream
// ends only with the session. Its answer is a line written to out with the
// same id and no method. in must yield bounded lines (see LimitLines): the
// hold reads a line whole before passing it on.
func HoldEOF(ctx context.Context, in io.Reader, out io.Writer, timeout time.Duration, log *slog.Logger) (io.Reader, io.Writer) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &hold{ctx: ctx, timeout: timeout, log: log, pending: map[string]int{}}
	return &holdReader{h: h, r: bufio.NewReader(in)}, &holdWriter{h: h, w: out}
}

// hold counts the requests read and not yet answered.
type hold struct {
	ctx     context.Context
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]int // request id -> requests with that id not yet answered
	n       int            // the sum of pending
	idle    chan struct{}  // once the input has ended: closed when n drops to 0
}

// await returns once every request read has been answered, timeout has
// passed, or ctx has ended.
func (h *hold) await() {
	h.mu.Lock()
	n := h.n
	if n == 0 {
		h.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	h.idle = idle
	h.mu.Unlock()

	h.log.Info("end of input: answering the requests in flight before exiting", "requests", n, "timeout", h.timeout)
	t := time.NewTimer(h.timeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-h.ctx.Done():
	case <-t.C:
		h.mu.Lock()
		n = h.n
		h.mu.Unlock()
		h.log.Warn("end of input: requests still unanswered at the drain timeout are cancelled", "requests", n, "timeout", h.timeout)
	}
}

// read notes line if it is a request. A line whose jsonrpc, method or id
// mcp-go cannot decode gets a parse error with id null, so it is not one.
func (h *hold) read(line []byte) {
	var m struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(line, &m) != nil || m.Method == "" || m.Method == string(mcp.MethodSubscriptionsListen) ||
		m.Result != nil || m.Error != nil {
		return
	}
	id, ok := idKey(m.ID)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending[id]++
	h.n++
}

// written notes line if it answers a pending request.
func (h *hold) written(line []byte) {
	raw, ok := answerID(line)
	if !ok {
		return
	}
	id, ok := idKey(raw)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[id] == 0 {
		return
	}
	if h.pending[id]--; h.pending[id] == 0 {
		delete(h.pending, id)
	}
	if h.n--; h.n == 0 && h.idle != nil {
		close(h.idle)
		h.idle = nil
	}
}

// answerScanner reads the lines the server writes, pooled.
type answerScanner struct {
	dec jsontext.Decoder
	in  bytes.Buffer
}

var answerScanners = sync.Pool{New: func() any { return new(answerScanner) }}

// answerOptions read what encoding/json reads: invalid UTF-8 is taken, a
// repeated name's last value counts.
var answerOptions = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}

// answerID returns the id of line when line is an answer: a JSON object
// whose method, if any, is empty. It reads line as json.Unmarshal would into
// struct{Method string; ID json.RawMessage} (names matched without regard to
// case), but in one pass with jsontext instead of encoding/json's two: the
// lines are whole results, a page of services or more, and the server
// writes one for every call.
func answerID(line []byte) (json.RawMessage, bool) {
	a := answerScanners.Get().(*answerScanner)
	defer func() {
		a.in = bytes.Buffer{}
		a.dec.Reset(&a.in) // keeps no reference to line
		answerScanners.Put(a)
	}()
	a.in = *bytes.NewBuffer(line)
	a.dec.Reset(&a.in, answerOptions...)
	if tok, err := a.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	var id json.RawMessage
	method := false
	for a.dec.PeekKind() != '}' {
		name, err := a.dec.ReadValue()
		if err != nil {
			return nil, false
		}
		switch {
		case memberIs(name, "method"):
			v, err := a.dec.ReadValue()
			switch {
			case err != nil:
				return nil, false
			case v[0] == '"':
				method = len(v) > 2
			case v[0] != 'n': // null leaves it as it was; anything else is no string
				return nil, false
			}
		case memberIs(name, "id"):
			v, err := a.dec.ReadValue()
			if err != nil {
				return nil, false
			}
			id = append(id[:0], v...)
		default:
			if a.dec.SkipValue() != nil {
				return nil, false
			}
		}
	}
	if _, err := a.dec.ReadToken(); err != nil {
		return nil, false
	}
	if _, err := a.dec.ReadToken(); err != io.EOF {
		return nil, false // more than one value
	}
	return id, !method
}

// memberIs reports whether the quoted member name raw is name, as
// encoding/json matches names (without regard to case).
func memberIs(raw jsontext.Value, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return bytes.EqualFold(raw[1:len(raw)-1], []byte(name))
	}
	unquoted, err := jsontext.AppendUnquote(nil, raw)
	return err == nil && bytes.EqualFold(unquoted, []byte(name))
}

// idKey returns a JSON-RPC id as mcp-go echoes it: numbers go through
// float64 both ways, so 1 and 1.0 are the same id.
func idKey(raw json.RawMessage) (string, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return "s" + v, true
	case float64:
		return "n" + strconv.FormatFloat(v, 'g', -1, 64), true
	}
	return "", false
}

// holdReader passes in on line by line; at its end (EOF or an error) it
// waits for the answers before returning the end.
type holdReader struct {
	h      *hold
	r      *bufio.Reader
	line   []byte // the rest of the line being passed on
	err    error  // the input's end, returned once line is passed on
	waited bool
}

func (r *holdReader) Read(p []byte) (int, error) {
	for len(r.line) == 0 {
		if r.err != nil {
			if !r.waited {
				r.waited = true
				r.h.await()
			}
			return 0, r.err
		}
		r.line, r.err = r.r.ReadBytes('\n')
		if bytes.HasSuffix(r.line, []byte("\n")) { // a last line without one is never served
			r.h.read(r.line)
		}
	}
	n := copy(p, r.line)
	r.line = r.line[n:]
	return n, nil
}

// holdWriter passes writes on to out, then notes the answers among the lines
// written, whether or not the write succeeded: the attempt is over.
type holdWriter struct {
	h       *hold
	w       io.Writer
	mu      sync.Mutex // serialises writes, so that lines stay whole
	partial []byte     // the start of a line not yet ended
}

func (w *holdWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.w.Write(p)
	data := p
	if len(w.partial) > 0 {
		data = append(w.partial, p...)
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		w.h.written(data[:i])
		data = data[i+1:]
	}
	w.partial = bytes.Clone(data)
	return n, err
}
