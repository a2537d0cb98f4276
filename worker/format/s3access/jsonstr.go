package s3access

import "github.com/logtide/logtide/worker/format/jsonw"

// appendBytes is appendStr for bytes.
func appendBytes(b, s []byte) []byte {
	if !plain(s) {
		return jsonw.String(b, string(s))
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendStr appends s as a JSON string. Nearly every value of an access
// log is printable ASCII without a quote or backslash, which is copied
// whole; the rest goes through jsonw.String, which escapes it.
func appendStr(b []byte, s string) []byte {
	if !plain(s) {
		return jsonw.String(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain reports whether s is only bytes 0x20 to 0x7f other than '"' and
// '\\', which JSON takes as they are. It tests eight bytes at a time: a
// byte below 0x20, equal to '"' or '\\', or with its high bit set leaves a
// high bit in the word's test (a false alarm only sends s to the slow path).
func plain[T string | []byte](s T) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		if (x|(x-ones*0x20)|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}
