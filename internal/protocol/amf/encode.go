package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// Append appends the AMF0 encoding of vals to dst.
//
// Besides the types Decode produces it accepts every Go integer and float
// type (encoded as numbers), []any (strict array) and map[string]any (an
// Object with keys in sorted order). Strings longer than 65535 bytes become
// long strings. On error dst is returned unchanged (up to its length) with an
// error wrapping ErrUnsupportedType, ErrTooDeep or ErrTooLarge.
func Append(dst []byte, vals ...any) ([]byte, error) {
	orig := len(dst)
	var err error
	for i, v := range vals {
		dst, err = appendValue(dst, v, 0)
		if err != nil {
			return dst[:orig], fmt.Errorf("encode value %d: %w", i, err)
		}
	}
	return dst, nil
}

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, marker0Null), nil
	case Undefined:
		return append(dst, marker0Undefined), nil
	case bool:
		if t {
			return append(dst, marker0Boolean, 1), nil
		}
		return append(dst, marker0Boolean, 0), nil
	case string:
		if len(t) > math.MaxUint16 {
			if uint64(len(t)) > math.MaxUint32 {
				return dst, fmt.Errorf("%w: string of %d bytes", ErrTooLarge, len(t))
			}
			dst = append(dst, marker0LongString)
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(t)))
			return append(dst, t...), nil
		}
		dst = append(dst, marker0String)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(t)))
		return append(dst, t...), nil
	case float64:
		return appendNumber(dst, t), nil
	case float32:
		return appendNumber(dst, float64(t)), nil
	case int:
		return appendNumber(dst, float64(t)), nil
	case int8:
		return appendNumber(dst, float64(t)), nil
	case int16:
		return appendNumber(dst, float64(t)), nil
	case int32:
		return appendNumber(dst, float64(t)), nil
	case int64:
		return appendNumber(dst, float64(t)), nil
	case uint:
		return appendNumber(dst, float64(t)), nil
	case uint8:
		return appendNumber(dst, float64(t)), nil
	case uint16:
		return appendNumber(dst, float64(t)), nil
	case uint32:
		return appendNumber(dst, float64(t)), nil
	case uint64:
		return appendNumber(dst, float64(t)), nil
	case time.Time:
		dst = appendNumber(dst, float64(t.UnixMilli()))
		dst[len(dst)-9] = marker0Date
		return append(dst, 0, 0), nil // time zone: reserved, 0
	case Object:
		return appendProps(dst, marker0Object, t, depth)
	case ECMAArray:
		return appendProps(dst, marker0ECMAArray, t, depth)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		obj := make(Object, len(keys))
		for i, k := range keys {
			obj[i] = Property{Key: k, Value: t[k]}
		}
		return appendProps(dst, marker0Object, obj, depth)
	case StrictArray:
		return appendArray(dst, t, depth)
	case []any:
		return appendArray(dst, t, depth)
	default:
		return dst, fmt.Errorf("%w: %T", ErrUnsupportedType, v)
	}
}

func appendNumber(dst []byte, f float64) []byte {
	dst = append(dst, marker0Number)
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendProps(dst []byte, marker byte, props []Property, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
	}
	dst = append(dst, marker)
	if marker == marker0ECMAArray {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(props)))
	}
	var err error
	for _, p := range props {
		if len(p.Key) > math.MaxUint16 {
			return dst, fmt.Errorf("%w: property name of %d bytes", ErrTooLarge, len(p.Key))
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(p.Key)))
		dst = append(dst, p.Key...)
		if dst, err = appendValue(dst, p.Value, depth+1); err != nil {
			return dst, fmt.Errorf("property %q: %w", p.Key, err)
		}
	}
	return append(dst, 0, 0, marker0ObjectEnd), nil
}

func appendArray(dst []byte, vals []any, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
	}
	if uint64(len(vals)) > math.MaxUint32 {
		return dst, fmt.Errorf("%w: array of %d values", ErrTooLarge, len(vals))
	}
	dst = append(dst, marker0StrictArray)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(vals)))
	var err error
	for i, v := range vals {
		if dst, err = appendValue(dst, v, depth+1); err != nil {
			return dst, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return dst, nil
}
