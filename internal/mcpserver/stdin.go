package mcpserver

import (
	"bufio"
	"io"
)

// MaxLineBytes bounds one MCP message on stdio. A client's messages (tool
// calls, elicitation answers) are a few kilobytes; the bound only stops a
// hostile or broken client from making the server hold an endless line.
const MaxLineBytes = 4 << 20

// LimitLines returns a reader of r's lines for mcp-go's stdio server, which
// reads a whole line into memory whatever its length. A line longer than max
// bytes (newline included) is dropped as it streams in, never held, and
// replaced by an empty line, which the server answers with a JSON-RPC parse
// error (-32700); onDrop, if set, is told how many bytes were dropped. Lines
// within the bound pass unchanged, each only once it is complete.
func LimitLines(r io.Reader, max int, onDrop func(dropped int64)) io.Reader {
	return &lineLimiter{r: bufio.NewReaderSize(r, 64<<10), max: max, onDrop: onDrop}
}

type lineLimiter struct {
	r       *bufio.Reader
	max     int
	onDrop  func(int64)
	pending []byte // the rest of a line ready to be read
	err     error  // r's error, returned once pending is read
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		l.next()
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// next reads the next line into pending, or drops it.
func (l *lineLimiter) next() {
	var line []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(line)+len(chunk) > l.max {
			dropped := int64(len(line) + len(chunk))
			line = nil
			for err == bufio.ErrBufferFull {
				chunk, err = l.r.ReadSlice('\n')
				dropped += int64(len(chunk))
			}
			if l.onDrop != nil {
				l.onDrop(dropped)
			}
			l.pending, l.err = []byte("\n"), err
			return
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		l.pending, l.err = line, err
		return
	}
}
