package webpubsub

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filter builds an OData filter (the filter option of sends and the filter
// of AddConnectionsToGroups / RemoveConnectionsFromGroups) from a template
// in which every {} is replaced by one argument rendered as a literal, so
// user input can never change what the filter means:
//
//	f, err := webpubsub.Filter("userId eq {} and not({} in groups)", user, "muted")
//	// userId eq 'o''brien' and not('muted' in groups)
//
// Arguments render as:
//   - string (any string type, and fmt.Stringer): a single-quoted literal, each ' doubled;
//   - []string: a parenthesized list of quoted literals, for "userId in {}";
//   - bool: true or false; nil: null;
//   - integers, and floats with a whole value: an integer.
//
// The service's filters hold only 64-bit integers and UTF-8 strings, so any
// other type, a string that is not valid UTF-8, a float with a fraction (or
// NaN or infinite), an unsigned value above math.MaxInt64, an empty list, or
// a number of arguments that differs from the number of {} is an error
// wrapping ErrInvalidArgument. The identifiers the service knows are userId,
// connectionId and groups.
func Filter(template string, args ...any) (string, error) {
	var b strings.Builder
	b.Grow(len(template) + 16*len(args))
	n := 0
	for {
		i := strings.Index(template, "{}")
		if i < 0 {
			b.WriteString(template)
			break
		}
		b.WriteString(template[:i])
		template = template[i+2:]
		if n >= len(args) {
			return "", invalidArg("filter template has more {} than the %d argument(s) given", len(args))
		}
		if err := writeLiteral(&b, args[n]); err != nil {
			return "", invalidArg("filter argument %d: %v", n+1, err)
		}
		n++
	}
	if n != len(args) {
		return "", invalidArg("filter template has %d {} but %d argument(s) were given", n, len(args))
	}
	return b.String(), nil
}

// QuoteFilterString renders s as an OData string literal: single quotes
// around it and every ' inside doubled.
func QuoteFilterString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func writeLiteral(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		return writeString(b, x)
	case []string:
		if len(x) == 0 {
			return fmt.Errorf("empty list: an OData list needs at least one value")
		}
		b.WriteByte('(')
		for i, s := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, s); err != nil {
				return fmt.Errorf("list item %d: %w", i+1, err)
			}
		}
		b.WriteByte(')')
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int8:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint:
		return writeUint(b, uint64(x))
	case uint8:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint16:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint32:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint64:
		return writeUint(b, x)
	case float32:
		return writeFloat(b, float64(x), 32)
	case float64:
		return writeFloat(b, x, 64)
	case fmt.Stringer:
		return writeString(b, x.String())
	default:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String { // named string types
			return writeString(b, rv.String())
		}
		return fmt.Errorf("type %T cannot be a filter literal (use a string, []string, bool, number or nil)", v)
	}
	return nil
}

func writeFloat(b *strings.Builder, f float64, _ int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%v is not a number OData can express", f)
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return fmt.Errorf("%v is not a 64-bit integer: Web PubSub filters compare integers only", f)
	}
	b.WriteString(strconv.FormatInt(int64(f), 10))
	return nil
}

func writeUint(b *strings.Builder, u uint64) error {
	if u > math.MaxInt64 {
		return fmt.Errorf("%d is above the largest integer a filter holds (%d)", u, int64(math.MaxInt64))
	}
	b.WriteString(strconv.FormatUint(u, 10))
	return nil
}

func writeString(b *strings.Builder, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("the string %q is not valid UTF-8, which filters require", s)
	}
	b.WriteString(QuoteFilterString(s))
	return nil
}
