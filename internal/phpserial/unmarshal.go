package phpserial

import (
	"fmt"
	"strconv"
)

// Unmarshal decodes PHP serialized data of scalars and arrays, as produced by
// serialize(): N, b, i, d, s and a. Arrays become map[string]any with integer
// keys written in decimal; scalars become nil, bool, int64, float64 or string.
// Objects, references and trailing bytes are errors: WHMCS parameters never
// carry them, and refusing them keeps a hostile value from going further.
func Unmarshal(data []byte) (any, error) {
	d := decoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(d.data) {
		return nil, d.errorf("unexpected data after the value")
	}
	return v, nil
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("phpserial: at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) expect(c byte) error {
	if d.pos >= len(d.data) || d.data[d.pos] != c {
		return d.errorf("expected %q", c)
	}
	d.pos++
	return nil
}

// until returns the bytes up to (not including) the next c and moves past c.
func (d *decoder) until(c byte) (string, error) {
	for i := d.pos; i < len(d.data); i++ {
		if d.data[i] == c {
			s := string(d.data[d.pos:i])
			d.pos = i + 1
			return s, nil
		}
	}
	return "", d.errorf("expected %q", c)
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errorf("value nested too deeply")
	}
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of data")
	}
	kind := d.data[d.pos]
	d.pos++
	if kind == 'N' {
		return nil, d.expect(';')
	}
	if err := d.expect(':'); err != nil {
		return nil, err
	}
	switch kind {
	case 'b':
		s, err := d.until(';')
		if err != nil {
			return nil, err
		}
		switch s {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, d.errorf("bad boolean %q", s)
	case 'i':
		s, err := d.until(';')
		if err != nil {
			return nil, err
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, d.errorf("bad integer %q", s)
		}
		return i, nil
	case 'd':
		s, err := d.until(';')
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, d.errorf("bad double %q", s)
		}
		return f, nil
	case 's':
		return d.str()
	case 'a':
		return d.array(depth)
	}
	return nil, d.errorf("unsupported type %q", kind)
}

func (d *decoder) length() (int, error) {
	s, err := d.until(':')
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > len(d.data) {
		return 0, d.errorf("bad length %q", s)
	}
	return n, nil
}

func (d *decoder) str() (string, error) {
	n, err := d.length()
	if err != nil {
		return "", err
	}
	if err := d.expect('"'); err != nil {
		return "", err
	}
	if len(d.data)-d.pos < n {
		return "", d.errorf("string of %d bytes runs past the end", n)
	}
	s := string(d.data[d.pos : d.pos+n])
	d.pos += n
	if err := d.expect('"'); err != nil {
		return "", err
	}
	return s, d.expect(';')
}

func (d *decoder) array(depth int) (map[string]any, error) {
	n, err := d.length()
	if err != nil {
		return nil, err
	}
	if err := d.expect('{'); err != nil {
		return nil, err
	}
	m := make(map[string]any, min(n, 64))
	for range n {
		key, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		var k string
		switch key := key.(type) {
		case int64:
			k = strconv.FormatInt(key, 10)
		case string:
			k = key
		default:
			return nil, d.errorf("array key must be an integer or a string, not %T", key)
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, d.expect('}')
}
