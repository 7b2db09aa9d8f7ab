package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// plain writes a JSON value as text: numbers without exponent noise.
func plain(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		if x == "" {
			return "(default)"
		}
		return x
	case bool:
		return yesNo(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func yesNo(v any) string {
	if b, ok := v.(bool); ok {
		if b {
			return "yes"
		}
		return "no"
	}
	return plain(v)
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func percentOf(v any) string {
	f, ok := asFloat(v)
	if !ok {
		return plain(v)
	}
	if f == 1 {
		return "all"
	}
	return trimZeros(strconv.FormatFloat(f*100, 'f', 1, 64)) + " %"
}

func evalEvery(v any) string {
	f, ok := asFloat(v)
	if !ok {
		return plain(v)
	}
	if f == 0 {
		return "after each epoch"
	}
	return "every " + thousands(f) + " steps"
}

func blasThreads(v any) string {
	if f, ok := asFloat(v); ok && f == 0 {
		return "the library's default"
	}
	return plain(v)
}

func zeroNone(v any) string {
	if f, ok := asFloat(v); ok && f == 0 {
		return "none"
	}
	return plain(v)
}

func zeroAll(v any) string {
	if f, ok := asFloat(v); ok {
		if f == 0 {
			return "all"
		}
		return thousands(f)
	}
	return plain(v)
}

func squarePixels(v any) string {
	if f, ok := asFloat(v); ok {
		n := plain(f)
		return n + "x" + n + " pixels"
	}
	return plain(v)
}

// thousands writes an integer with thousands separators: 100,000.
func thousands(v any) string {
	f, ok := asFloat(v)
	if !ok {
		return plain(v)
	}
	neg := f < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(f))), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// percent writes a share as a percentage with the given decimals: 99.33 %.
func percent(f float64, decimals int) string {
	return strconv.FormatFloat(f*100, 'f', decimals, 64) + " %"
}

func pct1(v any) string { f, _ := asFloat(v); return percent(f, 1) }
func pct2(v any) string { f, _ := asFloat(v); return percent(f, 2) }

func fixed1(v any) string { f, _ := asFloat(v); return strconv.FormatFloat(f, 'f', 1, 64) }
func fixed2(v any) string { f, _ := asFloat(v); return strconv.FormatFloat(f, 'f', 2, 64) }
func fixed4(v any) string { f, _ := asFloat(v); return strconv.FormatFloat(f, 'f', 4, 64) }

// significant writes f with n significant digits and no exponent for the
// sizes the report meets (0.0059, 0.515, 48.1, 2758).
func significant(f float64, n int) string {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	digits := n - 1 - int(math.Floor(math.Log10(math.Abs(f))))
	if digits < 0 {
		return strconv.FormatFloat(math.Round(f), 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', digits, 64)
}

func sig2(v any) string { f, _ := asFloat(v); return significant(f, 2) }
func sig3(v any) string { f, _ := asFloat(v); return significant(f, 3) }
func sig4(v any) string { f, _ := asFloat(v); return significant(f, 4) }

func mebibytes(v any) string {
	f, _ := asFloat(v)
	if f >= 1024 {
		return significant(f/1024, 2) + " GiB"
	}
	return strconv.FormatFloat(math.Round(f), 'f', 0, 64) + " MiB"
}

func seconds(v any) string {
	f, _ := asFloat(v)
	return humanDuration(f)
}

// HumanDuration writes a span of time the way a person says it:
// "1 h 53 min", "4 min 10 s", "12.3 s"; "unknown" for a negative or NaN one.
func HumanDuration(sec float64) string { return humanDuration(sec) }

func humanDuration(sec float64) string {
	switch {
	case sec < 0 || math.IsNaN(sec):
		return "unknown"
	case sec < 60:
		return trimZeros(strconv.FormatFloat(sec, 'f', 1, 64)) + " s"
	case sec < 3600:
		d := time.Duration(math.Round(sec)) * time.Second
		m, s := int(d.Minutes()), int(d.Seconds())%60
		if m >= 10 || s == 0 {
			return fmt.Sprintf("%d min", int(math.Round(sec/60)))
		}
		return fmt.Sprintf("%d min %d s", m, s)
	default:
		m := int(math.Round(sec / 60))
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
}

// day writes the date of a run as year-month-day, or "an unknown date".
func day(t time.Time) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.UTC().Format("2006-01-02")
}

// stamp writes a moment to the minute in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
