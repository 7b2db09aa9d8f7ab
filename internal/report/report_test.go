package report

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tinyPNG encodes a 2x2 image whose colour depends on seed, so each
// figure's bytes differ.
func tinyPNG(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{seed, 0, 255 - seed, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeRun makes a run folder as a training command leaves it.
func fakeRun(t *testing.T, dir, command, finished string, results string, figures ...string) {
	t.Helper()
	write(t, filepath.Join(dir, "summary.json"), []byte(`{
  "command": "`+command+`",
  "started": "2025-01-01T10:00:00Z",
  "finished": "`+finished+`",
  "seconds": 3725.4,
  "config": {"epochs": 1, "subset": 0.1, "common": {"seed": 1, "threads": 2}},
  "results": `+results+`,
  "notes": ["quick demo settings"]
}`))
	write(t, filepath.Join(dir, "metrics.csv"), []byte("epoch,step,split,loss,accuracy,seconds\n"+
		"1,10,train,0.9,0.7,1\n1,10,test,1.0,0.6,1\n2,20,train,0.1,0.97,2\n2,20,test,0.2,0.95,2\n"))
	for i, f := range figures {
		write(t, filepath.Join(dir, f), tinyPNG(t, uint8(40*i+len(dir))))
	}
}

func TestWriteWithSomeRunsMissing(t *testing.T) {
	root := t.TempDir()
	// An older VGG run in docs/results and a newer one in out/: the newer wins.
	fakeRun(t, filepath.Join(root, "docs/results/vgg-mnist"), "vgg-mnist --epochs 5", "2025-01-01T12:00:00Z",
		`{"test_accuracy": 0.5}`, "old_only.png")
	fakeRun(t, filepath.Join(root, "out/vgg-mnist"), "vgg-mnist --subset 0.1 --epochs 1", "2025-02-03T04:05:00Z",
		`{"test_accuracy": 0.98765, "final_train_loss": 0.0123}`, "test_accuracy.png", "train_loss.png")
	// No lstm-tweets run anywhere. The VAE: comparison figure on top, one
	// folder per architecture.
	vae := filepath.Join(root, "out/demo/vae-galaxy")
	write(t, filepath.Join(vae, "recon_error_all.png"), tinyPNG(t, 7))
	fakeRun(t, filepath.Join(vae, "conv"), "vae-galaxy --arch conv --epochs 3", "2025-02-01T00:00:00Z",
		`{"test_recon": 5123.5}`, "samples.png")
	fakeRun(t, filepath.Join(vae, "mlp"), "vae-galaxy --arch mlp --epochs 3", "2025-02-02T00:00:00Z",
		`{"test_recon": 6000}`, "samples.png")
	theory := filepath.Join(root, "theory.md")
	write(t, theory, []byte("# VAE theory\n\n## (a) KL\n\nIt is $\\tfrac12(\\mu^2 + \\sigma^2 - 1 - \\log\\sigma^2)$, **closed form**.\n\n```math\nx < y\n```\n"))

	out := filepath.Join(root, "out/report")
	res, err := Write(Config{Out: out, Root: root, Theory: theory, CNNCheck: "checked by libtorch 9.9 (as specified): fine\n",
		Now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Missing, ",") != "lstm-tweets" {
		t.Errorf("missing parts %v, want [lstm-tweets]", res.Missing)
	}
	mdBytes, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(mdBytes)
	for _, want := range []string{
		"Written 2025-03-01 09:00 UTC",
		// Part 1, computed in-process, and the check passed in.
		"| receptive field of one neuron of the last conv layer (layer 4) | 22x22 input pixels |",
		"| weights without padding (no biases) | 201200 |",
		"| weights when every conv keeps its input's height and width | 755600 |",
		"- checked by libtorch 9.9 (as specified): fine",
		"Total: 2700 + 125000 + 13500 + 60000 = 201200",
		// Part 2: theory headings pushed under the report's.
		"### VAE theory", "#### (a) KL", "**closed form**",
		// Part 3: the newer run, its numbers and captions.
		"From `" + filepath.Join(root, "out/vgg-mnist") + "`.",
		"- Command: `vgg-mnist --subset 0.1 --epochs 1`",
		"- Ran 2025-01-01 10:00 UTC to 2025-02-03 04:05 UTC (1h2m5s)",
		"- Configuration: `common.seed=1`, `common.threads=2`, `epochs=1`, `subset=0.1`",
		"| test_accuracy | 0.98765 |", "| final_train_loss | 0.0123 |",
		"`metrics.csv`: 4 rows (epoch, step, split, loss, accuracy, seconds). Last row of each split:",
		"| 2 | 20 | train | 0.1 | 0.97 | 2 |", "| 2 | 20 | test | 0.2 | 0.95 | 2 |",
		"![test_accuracy](img/vgg-mnist/test_accuracy.png)",
		"*Figure 1.* `test_accuracy.png` from `" + filepath.Join(root, "out/vgg-mnist") + "`. Made by `vgg-mnist --subset 0.1 --epochs 1`, finished 2025-02-03 04:05 UTC; configuration `common.seed=1`",
		// Part 4: said plainly.
		"No run of lstm-tweets found in `" + filepath.Join(root, "out/lstm-tweets") + "`",
		"run `make demo`",
		// Part 5: the comparison figure captioned with the newest subrun, then each arch.
		"![recon_error_all](img/vae-galaxy/recon_error_all.png)",
		"Made from the runs of this part; the newest is `vae-galaxy --arch mlp --epochs 3`",
		"### 5. Galaxy Zoo VAEs: conv", "### 5. Galaxy Zoo VAEs: mlp",
		"| test_recon | 5123.5 |",
		"![samples](img/vae-galaxy/conv/samples.png)", "![samples](img/vae-galaxy/mlp/samples.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, "old_only") {
		t.Error("report.md shows the older vgg-mnist run")
	}

	// Every figure copied beside report.md, byte for byte.
	copies := map[string]string{
		"img/vgg-mnist/test_accuracy.png":    "out/vgg-mnist/test_accuracy.png",
		"img/vgg-mnist/train_loss.png":       "out/vgg-mnist/train_loss.png",
		"img/vae-galaxy/recon_error_all.png": "out/demo/vae-galaxy/recon_error_all.png",
		"img/vae-galaxy/conv/samples.png":    "out/demo/vae-galaxy/conv/samples.png",
		"img/vae-galaxy/mlp/samples.png":     "out/demo/vae-galaxy/mlp/samples.png",
	}
	if len(res.Images) != len(copies) {
		t.Errorf("copied %d images, want %d: %v", len(res.Images), len(copies), res.Images)
	}
	for dst, src := range copies {
		got, err := os.ReadFile(filepath.Join(out, dst))
		if err != nil {
			t.Errorf("image not copied: %v", err)
			continue
		}
		want, _ := os.ReadFile(filepath.Join(root, src))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", dst, src)
		}
		// Every image the Markdown refers to exists.
		if !strings.Contains(md, "]("+dst+")") {
			t.Errorf("report.md does not show %s", dst)
		}
	}

	// report.html: self-contained, images embedded, math kept as text.
	htmlBytes, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(htmlBytes)
	for _, m := range regexp.MustCompile(`(?i)\b(src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[2], "data:image/") {
			t.Errorf("report.html refers outside itself: %s=%q", m[1], m[2])
		}
	}
	for _, bad := range []string{"<script", "<link", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	if n := strings.Count(page, `<img src="data:image/png;base64,`); n != len(copies) {
		t.Errorf("report.html embeds %d images, want %d", n, len(copies))
	}
	conv, _ := os.ReadFile(filepath.Join(root, "out/demo/vae-galaxy/conv/samples.png"))
	if !strings.Contains(page, base64.StdEncoding.EncodeToString(conv)) {
		t.Error("report.html does not embed conv/samples.png's bytes")
	}
	for _, want := range []string{
		`<span class="math">$\tfrac12(\mu^2 + \sigma^2 - 1 - \log\sigma^2)$</span>`,
		`<pre class="math"><code>x &lt; y</code></pre>`,
		"<strong>closed form</strong>",
		"<td>test_accuracy</td><td class=\"num\">0.98765</td>",
		"<p>No run of lstm-tweets found in",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// With nothing to show, every part says so, and a second report removes
// images left by the first.
func TestWriteNoRuns(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "report")
	write(t, filepath.Join(out, "img/vgg-mnist/stale.png"), tinyPNG(t, 1))
	res, err := Write(Config{Out: out, Root: root, Theory: filepath.Join(root, "none.md")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 3 || len(res.Images) != 0 {
		t.Errorf("missing %v, images %v; want all three missing and no images", res.Missing, res.Images)
	}
	if _, err := os.Stat(filepath.Join(out, "img/vgg-mnist/stale.png")); !os.IsNotExist(err) {
		t.Errorf("stale image kept: %v", err)
	}
	md, _ := os.ReadFile(res.Markdown)
	for _, cmd := range []string{"vgg-mnist", "lstm-tweets", "vae-galaxy"} {
		if !strings.Contains(string(md), "No run of "+cmd+" found") {
			t.Errorf("report.md does not say %s has no run", cmd)
		}
	}
	if !strings.Contains(string(md), "none.md` was not found") {
		t.Error("report.md does not say the theory file is missing")
	}
}

// A broken summary.json is reported, naming the file, and the rest still shows.
func TestWriteBrokenSummary(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "vgg")
	write(t, filepath.Join(dir, "summary.json"), []byte(`{"command": "vgg-mnist",`))
	write(t, filepath.Join(dir, "test_loss.png"), tinyPNG(t, 3))
	res, err := Write(Config{Out: filepath.Join(root, "report"), Root: root, VGGDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) == 0 || !strings.Contains(strings.Join(res.Problems, "\n"), filepath.Join(dir, "summary.json")) {
		t.Errorf("problems %v do not name the broken summary.json", res.Problems)
	}
	md, _ := os.ReadFile(res.Markdown)
	for _, want := range []string{"Could not read: ", "![test_loss](img/vgg-mnist/test_loss.png)", "No summary.json says which command made it"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
