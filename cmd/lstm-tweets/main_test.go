package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/models/charlstm/pretrained"
	"torchlab/torch/npz"
	"torchlab/torch/torchrt"
)

// writeTweets writes n synthetic tweets to path: random words with ":)"
// (label 1) or ":(" (label 0) somewhere, some quoted with commas.
func writeTweets(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"text", "label"})
	for i := 0; i < n; i++ {
		label := i % 2
		words := []string{}
		for range 1 + r.IntN(3) {
			words = append(words, strings.Repeat(string(rune('a'+r.IntN(26))), 1+r.IntN(4)))
		}
		face := map[int]string{0: ":(", 1: ":)"}[label]
		at := r.IntN(len(words) + 1)
		words = append(words[:at], append([]string{face}, words[at:]...)...)
		text := strings.Join(words, " ")
		if r.IntN(4) == 0 {
			text += ", ok &amp; café" // a comma (quoted), an entity, non-ASCII
		}
		_ = w.Write([]string{text, strconv.Itoa(label)})
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture writes a train and a test file and returns the common flags.
func fixture(t *testing.T) (dir string, args []string) {
	t.Helper()
	dir = t.TempDir()
	writeTweets(t, filepath.Join(dir, "train.csv"), 192, 1)
	writeTweets(t, filepath.Join(dir, "test.csv"), 64, 2)
	return dir, []string{
		"--train", filepath.Join(dir, "train.csv"), "--test", filepath.Join(dir, "test.csv"),
		"--threads", "1", "--batch-size", "16", "--lr", "1e-2", "--train-eval-size", "48", "--eval-batch-size", "32",
	}
}

func readRows(t *testing.T, out string) [][]string {
	t.Helper()
	tab, err := metrics.Read(filepath.Join(out, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tab.Header, ","); got != "step,split,loss,accuracy,seconds" {
		t.Fatalf("metrics header %q", got)
	}
	return tab.Rows
}

// TestTrainPredictPlots trains briefly on emoticon tweets (the loss must
// fall), checks the outputs, predicts with the saved model, and redraws
// the figures.
func TestTrainPredictPlots(t *testing.T) {
	torchrt.Lock()
	dir, args := fixture(t)
	out := filepath.Join(dir, "out")
	var log bytes.Buffer
	err := dispatch(append([]string{"train", "--out", out, "--iterations", "90", "--eval-every", "30"}, args...), nil, &log, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	rows := readRows(t, out)
	if len(rows) != 12 { // iterations 0, 30, 60, 90 for train, val and test
		t.Fatalf("%d metrics rows, want 12:\n%v", len(rows), rows)
	}
	first, _ := strconv.ParseFloat(rows[2][2], 64)
	last, _ := strconv.ParseFloat(rows[11][2], 64)
	acc, _ := strconv.ParseFloat(rows[11][3], 64)
	t.Logf("test loss %.4f -> %.4f, accuracy %.3f", first, last, acc)
	if rows[10][1] != "val" || rows[11][1] != "test" || !(last < 0.5*first) || acc < 0.9 {
		t.Errorf("did not learn: test loss %.4f -> %.4f, accuracy %.3f", first, last, acc)
	}
	for _, f := range []string{"summary.json", "test_accuracy.png", "train_accuracy.png", "accuracy.png", "loss.png", "checkpoint/checkpoint.npz", "checkpoint/checkpoint.json",
		"best/checkpoint.npz", "best/best.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	var sum struct {
		Split   runrec.Split       `json:"split"`
		Best    train.Best         `json:"best"`
		Results map[string]float64 `json:"results"`
		Commit  string             `json:"git_commit"`
		Machine runrec.Machine     `json:"machine"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	// 192 training tweets, 5 % of them (10) held out, 64 test tweets.
	if sum.Split.Train != 182 || sum.Split.Val != 10 || sum.Split.Test != 64 || !sum.Best.Found ||
		sum.Results["best_step"] != float64(sum.Best.Step) || sum.Results["best_test_accuracy"] == 0 ||
		sum.Commit == "" || sum.Machine.Cores == 0 {
		t.Errorf("summary.json: split %+v, best %+v, commit %q, machine %+v", sum.Split, sum.Best, sum.Commit, sum.Machine)
	}

	texts := []string{"yes :) great", "oh no :(", "zz :( qq", ":) a b"}
	var stdout, said bytes.Buffer
	if err := dispatch(append([]string{"predict", "--out", out}, texts...), nil, &stdout, &said); err != nil {
		t.Fatal(err)
	}
	// predict --out takes the best validation model, and says so.
	wantSaid := fmt.Sprintf("model %s: iteration %d, its run's best by validation accuracy (the run reached 90 of 90), validation accuracy %.4f, test accuracy %.4f",
		filepath.Join(out, "best"), sum.Best.Step, sum.Best.At["val_accuracy"], sum.Best.At["test_accuracy"])
	if sum.Best.Step == 90 {
		wantSaid = fmt.Sprintf("model %s: iteration 90 of 90, validation accuracy", filepath.Join(out, "best"))
	}
	if !strings.Contains(said.String(), wantSaid) {
		t.Errorf("predict said %q, want %q", said.String(), wantSaid)
	}
	// The same texts from stdin, from --file and from --file -, with blank
	// lines among them (skipped), give the same lines.
	withBlanks := "\n" + strings.Join(texts, "\n \n") + "\n\n"
	file := filepath.Join(dir, "texts.txt")
	if err := os.WriteFile(file, []byte(withBlanks), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"--file", file}, {"--file", "-"}} {
		var got bytes.Buffer
		args = append([]string{"predict", "--checkpoint", filepath.Join(out, "best")}, args...)
		if err := dispatch(args, strings.NewReader(withBlanks), &got, &log); err != nil {
			t.Fatal(err)
		}
		if stdout.String() != got.String() {
			t.Errorf("%q and the arguments disagree:\n%s\n%s", args, got.String(), stdout.String())
		}
	}
	var jsonOut bytes.Buffer
	if err := dispatch([]string{"predict", "--out", out, "--json", "--file", file}, nil, &jsonOut, &log); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&jsonOut)
	n := 0
	for ; dec.More(); n++ {
		var p prediction
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if n >= len(texts) || p.Text != texts[n] || p.Label != classNames[p.Class] ||
			math.Abs(p.PNegative+p.PPositive-1) > 1e-3 || !strings.Contains(stdout.String(), fmt.Sprintf("%d %s p_negative=%.4f p_positive=%.4f %s\n", p.Class, p.Label, p.PNegative, p.PPositive, p.Text)) {
			t.Errorf("--json line %d: %+v, does not match the text output:\n%s", n, p, stdout.String())
		}
	}
	if n != len(texts) {
		t.Errorf("--json: %d lines for %d texts", n, len(texts))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d lines for %d texts:\n%s", len(lines), len(texts), stdout.String())
	}
	for i, line := range lines {
		want := map[bool]string{true: "1 positive", false: "0 negative"}[strings.Contains(texts[i], ":)")]
		var p0, p1 float64
		_, err := fmt.Sscanf(line[len(want):], " p_negative=%g p_positive=%g", &p0, &p1)
		if !strings.HasPrefix(line, want) || !strings.HasSuffix(line, " "+texts[i]) || err != nil || p0+p1 < 0.999 || p0+p1 > 1.001 {
			t.Errorf("line %q: want %q, probabilities summing to 1 (%v)", line, want, err)
		}
	}

	for _, f := range []string{"accuracy.png", "test_accuracy.png"} {
		if err := os.Remove(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := dispatch([]string{"plots", "--out", out}, nil, &log, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "accuracy.png")); err != nil {
		t.Errorf("plots did not redraw: %v", err)
	}
}

// stopAfter is a context whose Err turns to Canceled after n calls, like a
// Ctrl-C arriving during iteration n+1.
type stopAfter struct {
	context.Context
	n int
}

func (c *stopAfter) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

// TestInterruptAndResume interrupts a run after 5 iterations, resumes it to
// 10, and checks that every metric and the final weights equal those of an
// uninterrupted run.
func TestInterruptAndResume(t *testing.T) {
	torchrt.Lock()
	dir, args := fixture(t)
	args = append(args, "--eval-every", "2", "--iterations", "10", "--bucket", "2")
	runTrain := func(ctx context.Context, out string, extra ...string) error {
		cfg, err := parseTrain(append(append([]string{"--out", out}, args...), extra...), os.Stdout, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Common.Runtime(); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		return runTrain(ctx, cfg, cli.Logger(&log))
	}
	whole, parts := filepath.Join(dir, "whole"), filepath.Join(dir, "parts")
	if err := runTrain(context.Background(), whole); err != nil {
		t.Fatal(err)
	}
	if err := runTrain(&stopAfter{Context: context.Background(), n: 5}, parts); !errors.Is(err, cli.ErrInterrupted) {
		t.Fatalf("interrupted run returned %v, want cli.ErrInterrupted", err)
	}
	if n := len(readRows(t, parts)); n != 9 { // iterations 0, 2, 4 for train, val and test
		t.Fatalf("interrupted run wrote %d rows, want 9", n)
	}
	// A different seed would change the run: resume refuses it by name.
	if _, err := parseTrain(append(append([]string{"--out", parts}, args...), "--resume", "--seed", "99"), io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--seed 99") {
		t.Fatalf("resume with another --seed: err = %v, want an error naming --seed", err)
	}
	// Who logs is not the run's configuration: --log-all-ranks may be given.
	if _, err := parseTrain(append(append([]string{"--out", parts}, args...), "--resume", "--log-all-ranks"), io.Discard, io.Discard); err != nil {
		t.Fatalf("resume with --log-all-ranks: %v", err)
	}
	var stopped, after runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(parts, "summary.json"), &stopped); err != nil {
		t.Fatal(err)
	}
	if err := runTrain(context.Background(), parts, "--resume"); err != nil {
		t.Fatal(err)
	}
	// A resumed run's training time counts the sessions before it.
	if err := metrics.ReadJSON(filepath.Join(parts, "summary.json"), &after); err != nil {
		t.Fatal(err)
	}
	if after.Seconds <= stopped.Seconds || after.Seconds != after.Results["train_seconds"] {
		t.Errorf("resumed summary's seconds %v (results.train_seconds %v), interrupted one's %v: want the whole run's training time, more than the interrupted session's", after.Seconds, after.Results["train_seconds"], stopped.Seconds)
	}
	a, b := readRows(t, whole), readRows(t, parts)
	if len(a) != len(b) || len(a) != 18 {
		t.Fatalf("rows: uninterrupted %d, resumed %d, want 18", len(a), len(b))
	}
	for i := range a {
		if strings.Join(a[i][:4], ",") != strings.Join(b[i][:4], ",") {
			t.Errorf("row %d: uninterrupted %v, resumed %v", i, a[i][:4], b[i][:4])
		}
	}
	// The same validation split and the same best step across the resume.
	ba, errA := os.ReadFile(filepath.Join(whole, "best", "best.json"))
	bb, errB := os.ReadFile(filepath.Join(parts, "best", "best.json"))
	if errA != nil || errB != nil {
		t.Fatalf("best.json: %v, %v", errA, errB)
	}
	var bestA, bestB train.Best
	if err := errors.Join(json.Unmarshal(ba, &bestA), json.Unmarshal(bb, &bestB)); err != nil {
		t.Fatal(err)
	}
	if bestA.Step != bestB.Step || bestA.Value != bestB.Value {
		t.Errorf("best: uninterrupted step %d (%v), resumed step %d (%v)", bestA.Step, bestA.Value, bestB.Step, bestB.Value)
	}
	wa, err := npz.Read(filepath.Join(whole, "checkpoint", "checkpoint.npz"))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := npz.Read(filepath.Join(parts, "checkpoint", "checkpoint.npz"))
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range wa {
		if !strings.HasPrefix(name, "model.") && !strings.HasPrefix(name, "optim.") {
			continue
		}
		y := wb[name].Floats()
		for i, v := range x.Floats() {
			if v != y[i] {
				t.Fatalf("%s[%d]: uninterrupted %v, resumed %v", name, i, v, y[i])
			}
		}
	}
}

func TestSamplerIsAFunctionOfIteration(t *testing.T) {
	lengths := make([]int, 100)
	for i := range lengths {
		lengths[i] = 1 + (i*37)%50
	}
	for _, pool := range []int{0, 3} {
		a, _ := newSampler(lengths, 8, pool, 5)
		b, _ := newSampler(lengths, 8, pool, 5)
		var forward []string
		seen := map[int]int{}
		for it := 0; it < 30; it++ { // 12 batches per epoch: three epochs
			x := a.at(it)
			forward = append(forward, fmt.Sprint(x))
			if it < a.perEpoch() {
				for _, i := range x {
					seen[i]++
				}
			}
		}
		// b visits the iterations in reverse, as a resumed run jumps.
		for it := 29; it >= 0; it-- {
			if got := fmt.Sprint(b.at(it)); got != forward[it] {
				t.Fatalf("pool %d: iteration %d: %s in order, %s out of order", pool, it, forward[it], got)
			}
		}
		if len(seen) != 96 {
			t.Errorf("pool %d: first epoch covered %d distinct tweets, want 96 (12 full batches)", pool, len(seen))
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("pool %d: tweet %d drawn %d times in one epoch", pool, i, n)
			}
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--optimizer", "rmsprop"},
		{"--batch-size", "0"},
		{"--lr", "-1"},
		{"--val-fraction", "1"},
		{"--val-fraction", "-0.1"},
		{"extra"},
	} {
		if _, err := parseTrain(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("parseTrain(%q): want an error", args)
		}
	}
	if err := dispatch([]string{"nonsense"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("unknown subcommand: want an error")
	}
}

// TestPredictDefaultsToBest: predict --out takes <out>/best when a run kept
// one, and <out>/checkpoint otherwise.
func TestPredictDefaultsToBest(t *testing.T) {
	out := t.TempDir()
	cfg, err := parsePredict([]string{"--out", out}, io.Discard, io.Discard)
	if err != nil || cfg.Checkpoint != checkpointDir(out) {
		t.Fatalf("without best/: checkpoint %q (%v), want %q", cfg.Checkpoint, err, checkpointDir(out))
	}
	if err := os.MkdirAll(train.BestDir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(train.BestDir(out), "checkpoint.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err = parsePredict([]string{"--out", out}, io.Discard, io.Discard); err != nil || cfg.Checkpoint != train.BestDir(out) {
		t.Fatalf("with best/: checkpoint %q (%v), want %q", cfg.Checkpoint, err, train.BestDir(out))
	}
}

// TestShippedModel: the shipped model classifies the bundled sample's 1,000
// test tweets (drawn at random from the full test set) as well as its
// recorded accuracy on the whole test set says, within 0.05: four standard
// deviations of a 1,000-tweet estimate of an accuracy near 0.8. An untrained
// or wrongly loaded model scores about 0.5.
func TestShippedModel(t *testing.T) {
	scores, err := pretrained.Recorded()
	if err != nil {
		t.Fatal(err)
	}
	model, tc := shippedModel(t)
	defer model.Drop()
	set := bundledTestTweets(t)
	logp, err := model.LogProbs(datasets.EncodeTexts(set.Texts, tc.MaxLen), 256)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, row := range logp {
		if (row[1] > row[0]) == (set.Labels[i] == 1) {
			correct++
		}
	}
	acc := float64(correct) / float64(len(logp))
	t.Logf("%d sample test tweets: accuracy %.4f; recorded on the whole test set: %.4f", len(logp), acc, scores.Test)
	if math.Abs(acc-scores.Test) > 0.05 {
		t.Errorf("accuracy %.4f on the sample's test tweets, recorded %.4f: more than 0.05 apart", acc, scores.Test)
	}
}
