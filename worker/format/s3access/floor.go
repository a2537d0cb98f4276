package s3access

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// floor reads decompressed content the cheapest way a consumer that looks
// inside every record could: cut into lines, each line into its fields
// (brackets and quotes honoured), the numbers read with strconv. The
// benchmark sets the worker's CPU per GB against it.
func floor(content io.Reader) (int, error) {
	sc := bufio.NewScanner(content)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var fields [][]byte
	n := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		fields = splitBytes(fields[:0], line)
		if len(fields) < minFields {
			return n, fmt.Errorf("line %d: %d fields", n+1, len(fields))
		}
		for _, fi := range numFields {
			_, _ = strconv.ParseInt(string(fields[fi]), 10, 64)
		}
		n++
	}
	return n, sc.Err()
}

// splitBytes cuts line into its fields in place: a field is up to the next
// space, or, when it starts with '"' or '[', up to the closing '"' or ']'
// followed by a space.
func splitBytes(dst [][]byte, line []byte) [][]byte {
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		end := len(line)
		switch c := line[i]; c {
		case '"', '[':
			closer := byte('"')
			if c == '[' {
				closer = ']'
			}
			for j := i + 1; j < len(line); j++ {
				if line[j] == closer && (j+1 == len(line) || line[j+1] == ' ') {
					end = j + 1
					break
				}
			}
		default:
			if j := bytes.IndexByte(line[i:], ' '); j >= 0 {
				end = i + j
			}
		}
		dst = append(dst, line[i:end])
		i = end
	}
	return dst
}
