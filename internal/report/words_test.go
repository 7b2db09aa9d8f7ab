package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/internal/runrec"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{humanDuration(6793.6), "1 h 53 min"},
		{humanDuration(7200), "2 h"},
		{humanDuration(250), "4 min 10 s"},
		{humanDuration(1405.7), "23 min"},
		{humanDuration(12.31), "12.3 s"},
		{significant(0.005852764, 2), "0.0059"},
		{significant(0.018996888, 2), "0.019"},
		{significant(48.067, 3), "48.1"},
		{significant(2757.8, 3), "2758"},
		{thousands(100000.0), "100,000"},
		{thousands(999.0), "999"},
		{learningRate(0.0001), "1e-4"},
		{learningRate(0.001), "1e-3"},
		{learningRate(0.00025), "2.5e-4"},
		{learningRate(0.05), "0.05"},
		{resultValue("test_accuracy", 0.9933), "99.33 %"},
		{resultValue("peak_rss_mib", 2952.1), "2.9 GiB"},
		{resultValue("rss_mib_epoch_3", 2840.8), "2.8 GiB"},
		{resultLabel("rss_mib_epoch_3"), "memory after epoch 3"},
		{resultLabel("some_new_key"), "some new key"},
		{settingValue("subset", 0.1), "10 %"},
		{settingValue("subset", 1.0), "all"},
		{settingValue("eval_every", 0.0), "after each epoch"},
		{settingValue("image_size", 64.0), "64x64 pixels"},
		{settingValue("blas_threads", 0.0), "the library's default"},
		{settingLabel("model.hidden"), "hidden units"},
		{settingLabel("model.new_thing"), "model: new thing"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDifferences(t *testing.T) {
	full := map[string]any{"epochs": 5.0, "subset": 1.0, "out": "a", "resume": true, "model.hidden": 4096.0, "lr": 0.0001,
		"train": "/data/tweets/tweetstrain.csv", "test": "/data/tweets/tweetstest.csv"}
	quick := map[string]any{"epochs": 1.0, "subset": 0.1, "out": "b", "resume": false, "model.hidden": 4096.0, "eval_every": 25.0,
		"train": "/elsewhere/tweets/tweetstrain.csv", "test": "/data/sample/test.csv"}
	got := strings.Join(differences(quick, full), "; ")
	want := "epochs: 1 instead of 5; evaluation: every 25 steps (not recorded for the full run); " +
		"learning rate: not recorded (full run: 1e-4); share of the training set: 10 % instead of all; " +
		"test CSV: /data/sample/test.csv instead of /data/tweets/tweetstest.csv"
	if got != want {
		t.Errorf("differences:\n got %s\nwant %s", got, want)
	}
	if d := differences(full, full); len(d) != 0 {
		t.Errorf("a run differs from itself: %v", d)
	}
}

// A run with a validation split names its best validation checkpoint and
// the test number there; a run from before the split says nothing.
func TestBestValidationSentence(t *testing.T) {
	r := &Run{Summary: &runrec.Summary{Results: map[string]float64{"best_step": 12000, "best_val_accuracy": 0.9951, "best_test_accuracy": 0.9948}}}
	want := " The best validation checkpoint (step 12,000, validation accuracy 99.51 %) has test accuracy 99.48 %."
	if got := bestValidation(r, "step", "accuracy", pct2); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := bestValidation(&Run{Summary: &runrec.Summary{Results: map[string]float64{"test_accuracy": 0.9}}}, "step", "accuracy", pct2); got != "" {
		t.Errorf("a run without a split: %q", got)
	}
}

// Runs are named by their recipe in words, from the configuration their
// summary.json records (shapes as the committed runs write them).
func TestRecipeNames(t *testing.T) {
	run := func(dir, config string) *Run {
		return &Run{Dir: filepath.Join("docs", "results", dir), Summary: &runrec.Summary{Config: json.RawMessage(config)}}
	}
	tests := []struct {
		name string
		f    func(*Run) string
		r    *Run
		want string
	}{
		{"vgg as specified", vggVariant, run("vgg-mnist",
			`{"epochs": 5, "lr": 0.0001, "optimizer": "adam", "augment_shift": 0, "model": {"batch_norm": false}}`),
			"as specified: Adam 1e-4, 5 epochs"},
		{"vgg tuned", vggVariant, run("vgg-mnist-tuned-shift2-e8",
			`{"epochs": 8, "lr": 0.0001, "optimizer": "adam", "augment_shift": 2, "model": {"batch_norm": true}}`),
			"tuned: batch norm + 2-px shifts, Adam 1e-4, 8 epochs"},
		{"vgg as specified but longer", vggVariant, run("vgg-mnist-e8",
			`{"epochs": 8, "lr": 0.0001, "optimizer": "adam", "model": {"batch_norm": false}}`),
			"changed: Adam 1e-4, 8 epochs"},
		{"vgg quick", vggRecipe, run("demo",
			`{"epochs": 2, "lr": 0.05, "optimizer": "sgd", "model": {"batch_norm": true}}`),
			"batch norm, SGD 0.05, 2 epochs"},
		{"lstm as specified", lstmVariant, run("lstm-tweets",
			`{"iterations": 100000, "lr": 0.0001, "optimizer": "adam", "schedule": "constant"}`),
			"as specified: Adam 1e-4, 100,000 iterations"},
		{"lstm tuned", lstmVariant, run("lstm-tweets-tuned",
			`{"iterations": 100000, "lr": 0.001, "optimizer": "adam", "schedule": "cosine", "weight_decay": 1e-05, "char_dropout": 0.1}`),
			"tuned: Adam 1e-3, cosine schedule, weight decay 1e-5, 10 % of characters dropped, 100,000 iterations"},
		{"lstm with weight decay only", lstmVariant, run("lstm-tweets-wd",
			`{"iterations": 100000, "lr": 0.0001, "weight_decay": 1e-05}`),
			"changed: Adam 1e-4, weight decay 1e-5, 100,000 iterations"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
