package report

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A setting is how the report names one key of a summary's configuration or
// results, and how it writes its value.
type setting struct {
	label  string
	format func(v any) string // nil: plain
}

// settings name the configuration keys of vgg-mnist, lstm-tweets and
// vae-galaxy in words. Nested keys are dotted ("model.hidden").
var settings = map[string]setting{
	"data_dir":          {"data folder", nil},
	"out":               {"output folder", nil},
	"checkpoint_dir":    {"checkpoint folder", nil},
	"cache_dir":         {"image cache folder", nil},
	"train":             {"training CSV", nil},
	"test":              {"test CSV", nil},
	"resume":            {"resumed from a checkpoint", yesNo},
	"threads":           {"libtorch threads", nil},
	"blas_threads":      {"OpenBLAS threads", blasThreads},
	"seed":              {"random seed", nil},
	"epochs":            {"epochs", nil},
	"iterations":        {"iterations", thousands},
	"batch_size":        {"batch size", nil},
	"eval_batch_size":   {"evaluation batch size", nil},
	"eval_batch":        {"evaluation batch size", nil},
	"lr":                {"learning rate", learningRate},
	"schedule":          {"learning-rate schedule", nil},
	"optimizer":         {"optimiser", nil},
	"momentum":          {"momentum", nil},
	"weight_decay":      {"weight decay", nil},
	"subset":            {"share of the training set", percentOf},
	"test_subset":       {"share of the test set evaluated", percentOf},
	"train_eval_size":   {"training images evaluated for the train curves", thousands},
	"eval_every":        {"evaluation", evalEvery},
	"max_steps":         {"step limit", zeroNone},
	"max_len":           {"longest tweet kept (characters)", nil},
	"skip_bad":          {"skip unreadable rows", yesNo},
	"train_sample":      {"training tweets in the train-accuracy sample", thousands},
	"bucket":            {"batches per length bucket", nil},
	"arch":              {"architecture", nil},
	"z_dim":             {"latent dimensions", nil},
	"beta":              {"β (weight of the KL term)", nil},
	"image_size":        {"image size", squarePixels},
	"crop":              {"centre crop", squarePixels},
	"save_every":        {"checkpoint every (epochs)", nil},
	"class":             {"class of the samples figure", nil},
	"test_fraction":     {"share of the galaxies held out for test", percentOf},
	"limit":             {"galaxies used", zeroAll},
	"workers":           {"data-loading workers", nil},
	"conditional":       {"conditional VAE", yesNo},
	"kl_warmup":         {"KL warm-up (epochs)", zeroNone},
	"free_bits":         {"free bits (nats)", zeroNone},
	"model.in_channels": {"input channels", nil},
	"model.num_classes": {"classes", nil},
	"model.hidden":      {"hidden units", nil},
	"model.dropout":     {"dropout", nil},
	"model.batch_norm":  {"batch norm", yesNo},
	"model.init":        {"weight initialisation", nil},
	"model.vocab":       {"input size (one-hot characters)", nil},
	"model.classes":     {"classes", nil},
}

// resultNames name the keys of a summary's results in words.
var resultNames = map[string]setting{
	"epoch":                               {"epochs", plain},
	"epochs":                              {"epochs", plain},
	"steps":                               {"optimiser steps", thousands},
	"iterations":                          {"iterations", thousands},
	"test_accuracy":                       {"test accuracy", pct2},
	"train_accuracy":                      {"training-sample accuracy", pct2},
	"test_loss":                           {"test loss", sig3},
	"train_loss":                          {"training-sample loss", sig3},
	"epoch_seconds":                       {"time of the last epoch", seconds},
	"last_epoch_seconds":                  {"time of the last epoch", seconds},
	"seconds_per_epoch":                   {"training time per epoch", seconds},
	"train_seconds":                       {"training time", seconds},
	"images_per_second":                   {"training speed (images/s)", sig3},
	"train_iterations_per_second":         {"training speed (iterations/s)", sig3},
	"peak_rss_mb":                         {"peak memory (RSS)", megabytes},
	"peak_rss_mib":                        {"peak memory (RSS)", mebibytes},
	"rss_mib":                             {"memory at the end", mebibytes},
	"rss_mib_first_eval":                  {"memory at the first evaluation", mebibytes},
	"rss_mib_last_eval":                   {"memory at the last evaluation", mebibytes},
	"steps_per_second":                    {"training speed (steps/s)", sig3},
	"step_seconds":                        {"time in optimiser steps", seconds},
	"rss_mb_first_eval":                   {"memory at the first evaluation", megabytes},
	"rss_mb_last_eval":                    {"memory at the last evaluation", megabytes},
	"knn_test_accuracy":                   {"5-NN pixel classifier on real test images", pct1},
	"samples_knn_agreement_latent_region": {"samples recognised as their class by 5-NN (latent region)", pct1},
	"samples_knn_agreement_cvae":          {"samples recognised as their class by 5-NN (conditional prior)", pct1},
	"test_recon":                          {"test reconstruction error (nats/image)", fixed1},
	"train_recon":                         {"training reconstruction error (nats/image)", fixed1},
	"test_kl":                             {"test KL (nats/image)", fixed2},
	"train_kl":                            {"training KL (nats/image)", fixed2},
	"test_neg_elbo":                       {"test −ELBO (nats/image)", fixed1},
	"train_neg_elbo":                      {"training −ELBO (nats/image)", fixed1},
}

// settingLabel names a configuration key in words, or, for a key the report
// does not know, spells it with spaces.
func settingLabel(key string) string {
	if s, ok := settings[key]; ok {
		return s.label
	}
	return strings.ReplaceAll(strings.ReplaceAll(key, "_", " "), ".", ": ")
}

// settingValue writes a configuration value in words.
func settingValue(key string, v any) string {
	if s, ok := settings[key]; ok && s.format != nil {
		return s.format(v)
	}
	return plain(v)
}

// resultLabel names a results key in words ("rss_mb_epoch_3" included).
func resultLabel(key string) string {
	if s, ok := resultNames[key]; ok {
		return s.label
	}
	if n, ok := strings.CutPrefix(key, "rss_mb_epoch_"); ok {
		return "memory after epoch " + n
	}
	if n, ok := strings.CutPrefix(key, "rss_mib_epoch_"); ok {
		return "memory after epoch " + n
	}
	return strings.ReplaceAll(key, "_", " ")
}

// resultValue writes a result with the digits that mean something.
func resultValue(key string, v float64) string {
	if s, ok := resultNames[key]; ok && s.format != nil {
		return s.format(v)
	}
	if strings.HasPrefix(key, "rss_mb_") {
		return megabytes(v)
	}
	if strings.HasPrefix(key, "rss_mib_") {
		return mebibytes(v)
	}
	return sig4(v)
}

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

func megabytes(v any) string {
	f, _ := asFloat(v)
	if f >= 1000 {
		return significant(f/1000, 2) + " GB"
	}
	return strconv.FormatFloat(math.Round(f), 'f', 0, 64) + " MB"
}

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

// humanDuration writes a span of time the way a person says it:
// "1 h 53 min", "4 min 10 s", "12.3 s".
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

// day writes the date of a run, "2026-11-29", or "an unknown date".
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

// ignoredDifferences are configuration keys that always differ between two
// runs (where they wrote, whether they resumed) and say nothing about the
// settings.
var ignoredDifferences = map[string]bool{
	"out": true, "data_dir": true, "checkpoint_dir": true, "cache_dir": true, "resume": true,
}

// fileKeys are configuration keys naming data files: two runs differ in
// them only when the file names differ, not the folders they were in.
var fileKeys = map[string]bool{"train": true, "test": true}

// differences lists, in words, the settings of run that differ from base's:
// "epochs: 1 instead of 5". Keys only one of them has are included.
func differences(run, base map[string]any) []string {
	keys := map[string]bool{}
	for k := range run {
		keys[k] = true
	}
	for k := range base {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		if !ignoredDifferences[k] {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	var out []string
	for _, k := range sorted {
		a, okA := run[k]
		b, okB := base[k]
		switch {
		case !okA:
			out = append(out, fmt.Sprintf("%s: not recorded (full run: %s)", settingLabel(k), settingValue(k, b)))
		case !okB:
			out = append(out, fmt.Sprintf("%s: %s (not recorded for the full run)", settingLabel(k), settingValue(k, a)))
		case fileKeys[k] && filepath.Base(plain(a)) == filepath.Base(plain(b)):
		case plain(a) != plain(b):
			out = append(out, fmt.Sprintf("%s: %s instead of %s", settingLabel(k), settingValue(k, a), settingValue(k, b)))
		}
	}
	return out
}
