// Package jsonw appends JSON to byte slices, for formats that build their
// documents' bodies without encoding/json's reflection: strings escaped the
// way encoding/json escapes them, numbers, times, and objects written
// member by member.
package jsonw

import (
	"strconv"
	"time"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// String appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as with
// encoding/json.
func String(b []byte, s string) []byte {
	b = append(b, '"')
	b = Chars(b, s)
	return append(b, '"')
}

// Chars appends s escaped as the inside of a JSON string, without quotes:
// for a string written in parts.
func Chars(b []byte, s string) []byte {
	start := 0
	// Most values of a log record need no escape: the leading run of bytes
	// that JSON holds as they are is found eight bytes at a time (an ARN
	// of 80 bytes in 23 ns rather than 75 byte by byte, BenchmarkString),
	// and copied with what follows it.
	for i := plainPrefix(s); i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are escaped, as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// Bytes appends v as a JSON string, as String does.
func Bytes(b, v []byte) []byte {
	if plainPrefix(v) < len(v) {
		return String(b, string(v))
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// plainPrefix is the length of a prefix of s made of bytes that a JSON
// string holds as they are (printable ASCII but '"' and '\\'): all of s
// when it needs no escape, else at least up to the eight-byte word where
// the first byte needing one is.
func plainPrefix[T string | []byte](s T) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainWord(word(s, i)) {
			return i
		}
	}
	if i == len(s) {
		return i
	}
	if len(s) >= 8 {
		// The last word of s, over bytes already looked at, rather than
		// byte by byte.
		if plainWord(word(s, len(s)-8)) {
			return len(s)
		}
		return i
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// word is the eight bytes of s from i, the first in the lowest byte.
func word[T string | []byte](s T, i int) uint64 {
	s = s[i : i+8] // one bounds check, and one load for the eight bytes
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainWord reports whether no byte of x needs an escape.
func plainWord(x uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	q, bs := x^(ones*'"'), x^(ones*'\\')
	// A byte of x below 0x20, or one with its high bit set (not ASCII),
	// or a zero byte of q or bs (a quote or a backslash) leaves a high bit
	// set; no byte that needs no escape does.
	return (x|(x-ones*0x20)|(q-ones)&^q|(bs-ones)&^bs)&highs == 0
}

// Member appends `,"name":` (or `"name":` when first), name being plain
// ASCII needing no escape.
func Member(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// Int appends n.
func Int(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// Float appends f in the shortest form that reads back the same.
func Float(b []byte, f float64) []byte { return strconv.AppendFloat(b, f, 'g', -1, 64) }

// Strings appends a JSON array of strings.
func Strings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = String(b, s)
	}
	return append(b, ']')
}

// timeLayout is how Time writes a time.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Time appends t as a JSON string in UTC with milliseconds,
// 2006-01-02T15:04:05.000Z, exactly as time.Time.Format writes it (the
// fraction cut, not rounded). Format reads its layout at every call, which
// costs more than the writing: four-digit years are written here directly
// (30 ns rather than 125, BenchmarkTime).
func Time(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, timeLayout)
		return append(b, '"')
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}
