package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a flag value for a size in bytes, written as a number with an
// optional suffix: Ki, Mi, Gi (powers of 1024) or K, M, G (powers of 1000).
type ByteSize int64

var byteSuffixes = []struct {
	suffix string
	mult   int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30},
	{"K", 1e3}, {"M", 1e6}, {"G", 1e9},
}

func (b *ByteSize) String() string {
	n := int64(*b)
	for _, s := range []struct {
		suffix string
		shift  uint
	}{{"Gi", 30}, {"Mi", 20}, {"Ki", 10}} {
		if n > 0 && n%(1<<s.shift) == 0 {
			return strconv.FormatInt(n>>s.shift, 10) + s.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set parses "256Mi", "1G", "1048576".
func (b *ByteSize) Set(s string) error {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, x := range byteSuffixes {
		if strings.HasSuffix(num, x.suffix) {
			num, mult = strings.TrimSuffix(num, x.suffix), x.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a positive size such as 256Mi, 1Gi or 500M")
	}
	*b = ByteSize(n * mult)
	return nil
}

// Type names the value in help.
func (b *ByteSize) Type() string { return "size" }
