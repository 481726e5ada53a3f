package topology

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// InvalidUTF8 returns the 1-based line and column (in characters) of the
// first byte of data that is not UTF-8, and a message naming it; ok is
// false when data is valid UTF-8. Input that starts with a UTF-16 byte
// order mark is YAML's other encoding and left to the YAML decoder.
func InvalidUTF8(data []byte) (line, col int, msg string, ok bool) {
	if utf8.Valid(data) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return 0, 0, "", false
	}
	line, col = 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return line, col, fmt.Sprintf("invalid UTF-8 (byte 0x%02x); the file must be UTF-8 text", data[i]), true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return 0, 0, "", false // unreachable: utf8.Valid said otherwise
}
