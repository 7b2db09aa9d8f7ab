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

	"torchlab/datasets"
	"torchlab/internal/cnncalc"
	"torchlab/internal/runrec"
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

// fakeRun makes a run folder as a training command leaves it: summary.json
// with the given config and results, metrics.csv, and tiny figures.
func fakeRun(t *testing.T, dir, command, finished, config, results, metricsCSV string, figures ...string) {
	t.Helper()
	write(t, filepath.Join(dir, "summary.json"), []byte(`{
  "command": "`+command+`",
  "started": "2025-01-01T10:00:00Z",
  "finished": "`+finished+`",
  "seconds": 3725.4,
  "config": `+config+`,
  "results": `+results+`,
  "notes": ["a note from the run."]
}`))
	if metricsCSV != "" {
		write(t, filepath.Join(dir, "metrics.csv"), []byte(metricsCSV))
	}
	for i, f := range figures {
		write(t, filepath.Join(dir, f), tinyPNG(t, uint8(40*i+len(dir))))
	}
}

const (
	vggMetrics = "epoch,step,split,loss,accuracy,seconds\n" +
		"1,10,train,0.9,0.7,1\n1,10,test,1.0,0.9941,1\n2,20,train,0.1,0.97,2\n2,20,test,0.2,0.9933,2\n"
	lstmMetrics = "iteration,split,loss,accuracy,seconds\n" +
		"0,test,0.69,0.5,10\n1000,test,0.5,0.749,100\n2000,test,0.51,0.7416,7418\n"
	vggFull  = `{"out": "docs/results/vgg-mnist", "epochs": 5, "subset": 1, "lr": 0.0001, "threads": 2, "model": {"hidden": 4096}}`
	vggQuick = `{"out": "out/demo/vgg-mnist", "epochs": 1, "subset": 0.1, "lr": 0.05, "threads": 2, "model": {"hidden": 4096}}`
)

// fakeKaTeX makes a KaTeX folder as libjs-katex installs it, with one font.
func fakeKaTeX(t *testing.T, dir string) []byte {
	t.Helper()
	font := []byte("wOF2 font bytes")
	write(t, filepath.Join(dir, "katex.min.js"), []byte(`var katex={render:function(t,e,o){e.innerHTML="<span class=katex>"+t+"</span>";}};`))
	write(t, filepath.Join(dir, "katex.min.css"), []byte(`.katex{font:1em KaTeX_Main}`+
		`@font-face{font-family:KaTeX_Main;src:url(fonts/KaTeX_Main-Regular.woff2) format('woff2'),url(fonts/KaTeX_Main-Regular.woff) format('woff'),url(fonts/KaTeX_Main-Regular.ttf) format('truetype');font-weight:400}`))
	write(t, filepath.Join(dir, "fonts", "KaTeX_Main-Regular.woff2"), font)
	return font
}

const theoryMD = "# VAE theory\n\n## (a) KL\n\n" +
	"It is $\\tfrac12(\\mu^2 + \\sigma^2 - 1 - \\log\\sigma^2)$ for $q = \\mathcal N(\\mu, \\sigma^2)$, " +
	"with $\\mathrm{KL}(q \\,\\|\\, p)$ and $x_1 * y_2$, **closed form**; it costs $5 and $6, and `$code$` stays code.\n\n" +
	"```math\nx_i < y_i\n```\n\nAnd $$\\sum_j a_j$$ inline.\n"

func TestWriteFullAndQuickRuns(t *testing.T) {
	root := t.TempDir()
	results := filepath.Join(root, "docs/results")
	fakeRun(t, filepath.Join(results, "vgg-mnist"), "vgg-mnist train --epochs 5", "2025-01-01T12:00:00Z", vggFull,
		`{"epoch": 5, "test_accuracy": 0.9933, "test_loss": 0.018996888, "train_loss": 0.005852764, "peak_rss_mb": 3095.5}`,
		vggMetrics, "train_loss.png", "test_loss.png", "train_accuracy.png", "test_accuracy.png")
	write(t, filepath.Join(results, "vgg-mnist", "README.md"), []byte("# VGG run\n"))
	// A newer run in out/vgg-mnist is not the result: the committed one is.
	fakeRun(t, filepath.Join(root, "out/vgg-mnist"), "vgg-mnist train --epochs 9", "2025-06-01T00:00:00Z", vggFull,
		`{"test_accuracy": 0.5}`, "", "stray.png")
	// The quick run of make demo.
	fakeRun(t, filepath.Join(root, "out/demo/vgg-mnist"), "vgg-mnist train --subset 0.1 --epochs 1", "2025-02-03T04:05:00Z", vggQuick,
		`{"epoch": 1, "test_accuracy": 0.91234, "train_loss": 0.3}`, vggMetrics, "train_loss.png", "test_loss.png", "train_accuracy.png", "test_accuracy.png")
	// Two full LSTM runs, the second a variant folder; no quick run.
	lstmCfg := func(lr string) string { return `{"iterations": 100000, "lr": ` + lr + `, "threads": 1}` }
	fakeRun(t, filepath.Join(results, "lstm-tweets"), "lstm-tweets train", "2025-01-02T00:00:00Z", lstmCfg("0.0001"),
		`{"iterations": 100000, "test_accuracy": 0.7415945, "train_accuracy": 0.752}`, lstmMetrics, "accuracy.png", "loss.png", "test_accuracy.png")
	fakeRun(t, filepath.Join(results, "lstm-tweets-lr1e-3"), "lstm-tweets train --lr 1e-3", "2025-01-03T00:00:00Z", lstmCfg("0.001"),
		`{"iterations": 38000, "test_accuracy": 0.7878}`, "", "accuracy.png")
	// A third with a validation split: its checkpoint is chosen there.
	fakeRun(t, filepath.Join(results, "lstm-tweets-tuned"), "lstm-tweets train --lr 1e-3 --schedule cosine --weight-decay 1e-5", "2025-01-04T00:00:00Z",
		`{"iterations": 100000, "lr": 0.001, "schedule": "cosine", "weight_decay": 1e-05, "threads": 1}`,
		`{"iterations": 100000, "test_accuracy": 0.7712, "best_step": 41000, "best_val_accuracy": 0.7987, "best_test_accuracy": 0.7903}`, lstmMetrics, "accuracy.png")
	// The quick LSTM run is at lr 1e-3, so it is compared with that full run.
	fakeRun(t, filepath.Join(root, "out/demo/lstm-tweets"), "lstm-tweets train --iterations 3000 --lr 1e-3", "2025-02-04T00:00:00Z",
		`{"iterations": 3000, "lr": 0.001, "threads": 1}`, `{"iterations": 3000, "test_accuracy": 0.6}`, "")
	// The VAE: a comparison figure on top, one folder per seed with one
	// per architecture inside, the galaxy classifier's own run (not an
	// architecture), and an older snapshot one level deeper that is not a
	// run of its own.
	vae := filepath.Join(results, "vae-galaxy")
	write(t, filepath.Join(vae, "recon_compare.png"), tinyPNG(t, 7))
	vaeRun := func(seed, arch, epochs, results string, figures ...string) string {
		dir := filepath.Join(vae, "seed"+seed, arch)
		fakeRun(t, dir, "vae-galaxy train --arch "+arch+" --seed "+seed, "2025-02-0"+seed+"T00:00:00Z",
			`{"arch": "`+arch+`", "epochs": `+epochs+`, "image_size": 64, "limit": 0, "seed": `+seed+`}`, results, "", figures...)
		return dir
	}
	conv1 := vaeRun("1", "conv", "200", `{"epochs": 200, "steps": 9200, "best_step": 4968, "best_val_neg_elbo": 2819.876, "best_test_neg_elbo": 2775.446, "test_recon": 2760.4, "seconds_per_epoch": 19.55}`,
		"reconstructions.png", "recon_curve.png", "odd_extra.png")
	write(t, filepath.Join(conv1, "iwae.json"), []byte(`{"test": {"images": 813, "k": 100, "nll_nats": 2770.289, "nll_bits_per_dim": 0.325251},
  "subset": {"images": 100, "k": 1000, "nll_nats": 2774.449}, "subset_at_k": {"images": 100, "k": 100, "nll_nats": 2775.48}}`))
	write(t, filepath.Join(conv1, "samples.json"), []byte(`{"results": {"judge_test_accuracy": 0.61377, "samples_judge_agreement_latent_region": 0.25}}`))
	vaeRun("1", "mlp", "200", `{"epochs": 200, "steps": 9200, "best_step": 3496, "best_val_neg_elbo": 2840.07, "best_test_neg_elbo": 2803.0}`, "reconstructions.png")
	conv2 := vaeRun("2", "conv", "130", `{"epochs": 130, "steps": 5980, "best_step": 4876, "best_val_neg_elbo": 2811.2, "best_test_neg_elbo": 2845.9}`,
		"reconstructions.png", "recon_curve.png")
	write(t, filepath.Join(conv2, "iwae.json"), []byte(`{"test": {"images": 813, "k": 100, "nll_nats": 2822.1, "nll_bits_per_dim": 0.33131}}`))
	// A conditional VAE bounds −log p(x | class): lower, and not a choice
	// among the architectures; its samples come from its prior.
	cvae := filepath.Join(vae, "seed1", "conv-cvae")
	fakeRun(t, cvae, "vae-galaxy train --arch conv --conditional", "2025-02-01T00:00:00Z",
		`{"arch": "conv", "conditional": true, "epochs": 200, "image_size": 64, "seed": 1}`,
		`{"epochs": 200, "steps": 9200, "best_step": 4600, "best_val_neg_elbo": 2700.0, "best_test_neg_elbo": 2710.0}`, "")
	write(t, filepath.Join(cvae, "samples.json"), []byte(`{"results": {"judge_test_accuracy": 0.61377, "samples_judge_agreement_latent_region": 0.3, "samples_judge_agreement_cvae_prior": 0.45}}`))
	fakeRun(t, filepath.Join(vae, "classifier"), "vae-galaxy classifier --epochs 60", "2025-02-01T00:00:00Z", `{"epochs": 60, "image_size": 64}`,
		`{"test_accuracy": 0.61377}`, "")
	fakeRun(t, filepath.Join(vae, "snapshot-32px", "conv"), "old snapshot", "2024-01-01T00:00:00Z", `{}`, `{}`, "", "old.png")
	// The quick VAE runs at 32x32: their errors are not comparable.
	quickVAE := filepath.Join(root, "out/demo/vae-galaxy")
	fakeRun(t, filepath.Join(quickVAE, "conv"), "vae-galaxy train --arch conv --epochs 3", "2025-02-05T00:00:00Z",
		`{"arch": "conv", "epochs": 3, "image_size": 32, "limit": 1000}`, `{"epochs": 3, "test_recon": 714.6}`, "", "reconstructions.png", "latent_pca.png")
	theory := filepath.Join(root, "theory.md")
	write(t, theory, []byte(theoryMD))
	katexDir := filepath.Join(root, "katex")
	font := fakeKaTeX(t, katexDir)

	out := filepath.Join(root, "out/report")
	res, err := Write(Config{Out: out, Root: root, Theory: theory, KaTeXDir: katexDir,
		CNNChecks: &cnncalc.Checks{ReceptiveField: "libtorch 9.9 agrees."}, Now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(res.Missing, ","), ""; got != want {
		t.Errorf("missing %q, want %q", got, want)
	}
	if !res.MathRendered || len(res.Problems) != 0 {
		t.Errorf("math rendered %v, problems %v; want KaTeX and no problems", res.MathRendered, res.Problems)
	}
	mdBytes, err := os.ReadFile(res.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	md := string(mdBytes)
	for _, want := range []string{
		"Written 2025-03-01 09:00 UTC",
		// Part 1, computed in-process, and the check passed in.
		"| (1) Padding that keeps the output size | zero padding p = (k-1)/2 on each side (rows x columns): conv1 (3x3 filter): 1x1; ",
		"| (2) Output sizes without padding | conv1 254x254x100; conv2 84x84x50; pool1 42x42x50; conv3 40x40x30; pool2 20x10x30 (height x width x channels) |",
		"| (3) Receptive field of the last conv layer | 22x22 input pixels (layer 4) |",
		"| (4) Parameters when every conv keeps its input's size | 755,600 (no biases) |",
		"### (1) Padding that keeps the output size\n\n> How can",
		"### Extra: weights without padding",
		"Answer: 22x22 input pixels (height x width).",
		"\nChecked: libtorch 9.9 agrees.\n",
		// Part 4: the theory's own title dropped, its headings pushed under the report's.
		"## 4. VAE theory\n\nFrom `docs/theory.md`.\n\n### (a) KL",
		// The contents: the main part's chapters in the assignment's
		// order, then the appendices.
		"**Contents**\n\n- [1. CNN basics](#1-cnn-basics)\n- [2. VGG11 on MNIST](#2-vgg11-on-mnist)\n" +
			"- [3. Character-level LSTM on tweets](#3-character-level-lstm-on-tweets)\n- [4. VAE theory](#4-vae-theory)\n" +
			"- [5. Galaxy Zoo VAEs](#5-galaxy-zoo-vaes)\n- Appendices\n" +
			"  - [A. CNN basics: extra material](#appendix-a-cnn-basics-extra-material)\n",
		// Part 2: headline in words, the table at a glance, the key
		// figures with what they show; in appendix B the full run with its
		// command and date, then the quick run and what differs.
		"**VGG11 reached 99.33 % test accuracy after 5 epochs** of full MNIST (training loss 0.0059; test loss 0.019; best 99.41 % after epoch 1), in 1 h 2 min with 2 libtorch threads.",
		"| run | epochs | training images used | test accuracy | test loss | training loss | time |",
		// Runs are named by their recipe in words, not by date.
		"| as specified: Adam 1e-4, 5 epochs | 5 | all | 99.33 % | 0.019 | 0.0059 | 1 h 2 min on 2 threads |",
		"| quick run here: Adam 0.05, 1 epoch | 1 | 10 % | 91.23 % | – | 0.30 | 1 h 2 min on 2 threads |",
		"**Why 32x32.** VGG11's five 2x2 max-pools",
		"**The other layer that had to change** is the first fully connected one",
		"Made by `vgg-mnist train --epochs 5`, finished 2025-01-01 12:00 UTC after 1 h 2 min of training and evaluation. The run noted: a note from the run.",
		"How it was run, and what the results mean, is in `docs/results/vgg-mnist/README.md`.",
		"### Reproduced on this machine, quick settings\n\n| run | epochs |",
		"Made by `vgg-mnist train --subset 0.1 --epochs 1`, finished 2025-02-03 04:05 UTC",
		"*Figure 1:* under the assignment's recipe the training loss falls from 0.90 after epoch 1 to 0.10 after epoch 2, " +
			"while the test accuracy goes from 99.41 % to 99.33 %.",
		"Every run's figures and settings, and the quick run `make demo` made on this machine, are in [Appendix B](#appendix-b-vgg11-on-mnist-every-run).",
		"Figure 1, in the main part, shows this run's `train_loss.png`, `test_loss.png`, `train_accuracy.png`, `test_accuracy.png`.",
		"Settings that differ from the full run:\n\n- epochs: 1 instead of 5\n- learning rate: 0.05 instead of 1e-4\n- share of the training set: 10 % instead of all\n\n",
		`<table class="grid cols2">` + "\n" + `<tr><td><img src="img/vgg-mnist/main/vgg-mnist/train_loss.png" alt="train loss"></td><td><img src="img/vgg-mnist/main/vgg-mnist/test_loss.png" alt="test loss"></td></tr>`,
		"<figcaption><b>Figure 1.</b> Loss (top) and accuracy (bottom)",
		"Full run (as specified: Adam 1e-4, 5 epochs), 2025-01-01 (<code>docs/results/vgg-mnist</code>).</figcaption>",
		"Quick run on this machine, 2025-02-03.</figcaption>",
		// Everything else folded away, in words and with the keys.
		"<details>\n<summary>Configuration and every recorded result of the runs above</summary>",
		"| hidden units (`model.hidden`) | 4096 | 4096 |",
		"| peak memory (RSS) (`peak_rss_mib`) | 2.9 GiB | – |",
		// Part 4: both full runs, the best test accuracy from metrics.csv,
		// the interrupted one said so; no quick run, said once.
		"**At learning rate 1e-4 the LSTM reached 74.2 % test accuracy after 100,000 iterations (best 74.9 %, at iteration 1,000)**; " +
			"at learning rate 1e-3, 78.8 % after 38,000 of the planned 100,000 iterations; " +
			"at learning rate 1e-3, 77.1 % after 100,000 iterations (its checkpoint chosen on validation, iteration 41,000: validation 79.9 %, test 79.0 %).",
		"| as specified: Adam 1e-4, 100,000 iterations | 1e-4 | 100,000 | 74.2 % |",
		"| changed: Adam 1e-3, 100,000 iterations | 1e-3 | 38,000 of 100,000 | 78.8 % | – | – |",
		"| tuned: Adam 1e-3, cosine schedule, weight decay 1e-5, 100,000 iterations | 1e-3 | 100,000 | 77.1 % | 79.0 % (41,000, chosen on validation) |",
		"| quick run here: Adam 1e-3, 3,000 iterations | 1e-3 | 3,000 | 60.0 % |",
		"### Full run, tuned: Adam 1e-3, cosine schedule, weight decay 1e-5, 100,000 iterations",
		"### Full run, as specified: Adam 1e-4, 100,000 iterations", "### Full run, changed: Adam 1e-3, 100,000 iterations",
		"Settings that differ from the full run (changed: Adam 1e-3, 100,000 iterations): iterations: 3,000 instead of 100,000.",
		"after 2 h 4 min of training and evaluation", // metrics.csv's seconds, across sessions
		// Part 5: the architecture chosen on validation, seed by seed,
		// then its test bound and how the classifier judges its samples.
		"**Chosen on validation: conv in seed 1 (validation −ELBO 2819.9 nats per image, against mlp 2840.1); " +
			"conv in seed 2 (validation −ELBO 2811.2 nats per image, the only architecture run with this seed so far).** " +
			"Each seed has its own split, so the architectures are compared seed by seed, on the validation −ELBO at each run's best epoch. " +
			"conv's test −log p bound (IWAE) is 2770.3 nats per image (0.3253 bits/dim) in seed 1 and 2822.1 (0.3313 bits/dim) in seed 2, mean 2796.2. " +
			"A CNN classifier trained on the real training galaxies (61.4 % correct on the real test galaxies) recognises 25.0 % of conv's class samples (seed 1) as their class (a generator that ignores the class scores 14.3 % on this average over seven classes), " +
			"against 30.0 % of the conditional conv-cvae's drawn the same way (its class given to encoder and decoder) " +
			"and 45.0 % of its samples from the prior decoded with the class alone.",
		"| conv-cvae, seed 1, full run | 200 | 64x64 | 100 | 2710.0 | – | 30.0 % (45.0 % from the prior given the class) | – |",
		"| run | epochs | image size | best epoch (validation) | test −ELBO at the best epoch (nats/image) | test −log p, IWAE bound (nats/image, bits/dim) | class samples recognised by the CNN classifier (a class-blind generator: 14.3 %) | training time per epoch |",
		"| conv, seed 1, full run | 200 | 64x64 | 108 | 2775.4 | 2770.3 (0.3253) | 25.0 % | 19.6 s |",
		"| conv, seed 2, full run | 130 | 64x64 | 106 | 2845.9 | 2822.1 (0.3313) | – | – |",
		"| mlp, seed 1, full run | 200 | 64x64 | 76 | 2803.0 | – | – | – |",
		"### Full runs", "#### The conv VAE, seed 1", "#### The conv VAE, seed 2", "#### The mlp VAE, seed 1",
		"| conv, quick run here | 3 | 32x32 | – | – | – | – | – |",
		"The reconstruction errors are sums over the pixel values, so at 32x32 they are not comparable with the full runs' at 64x64, which have 4 times as many values.",
		"#### The conv VAE, quick\n\nMade by `vae-galaxy train --arch conv --epochs 3`",
		"Settings that differ from the full run:\n\n- epochs: 3 instead of 200\n- image size: 32x32 pixels instead of 64x64 pixels\n- galaxies used: 1,000 instead of all\n- random seed: not recorded (full run: 1)\n",
		`<img src="img/vae-galaxy/main/vae-galaxy/recon_compare.png"`,
		// The model chosen on validation in seed 1 is the main part's
		// second VAE figure; the appendix refers to it.
		`<img src="img/vae-galaxy/main/vae-galaxy/seed1/conv/reconstructions.png"`,
		"the validation −ELBO at each run's best epoch, in nats per image and averaged over seeds, is conv 2815.5 (2 seeds), mlp 2840.1 (1 seed).",
		"the galaxy classifier recognises 25.0 % of these class samples as their class (a class-blind generator: 14.3 %; the classifier is right on 61.4 % of the real test galaxies).",
		"shows this run's `reconstructions.png`.",
		`<img src="img/vae-galaxy/full-vae-galaxy/seed1/conv/odd_extra.png" alt="odd extra">` + "\n<figcaption><b>Figure",
		`<img src="img/vae-galaxy/full-vae-galaxy/seed2/conv/recon_curve.png"`,
		"<code>odd_extra.png</code>.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if n := strings.Count(md, "Not run on this machine yet"); n != 0 {
		t.Errorf("report.md says %d times that a quick run is missing, want 0", n)
	}
	for _, bad := range []string{"stray", "old snapshot", "old.png", "classifier, full run", "seed2/conv/reconstructions.png", "vgg-mnist train --epochs 9", "test_accuracy.png\" alt=\"test accuracy\"></td></tr>\n</table>\n<figcaption><b>Figure 3"} {
		if strings.Contains(md, bad) {
			t.Errorf("report.md shows %q", bad)
		}
	}
	// Outside the folded block, no raw key and no unrounded number.
	body := regexp.MustCompile(`(?s)<details>.*?</details>|<figure>.*?</figure>|`+"`[^`]*`").ReplaceAllString(md, "")
	if m := regexp.MustCompile(`\b(test_accuracy|train_loss|peak_rss_mb|test_recon|seconds_per_epoch|image_size)\b|\d\.\d{5,}`).FindString(body); m != "" {
		t.Errorf("report.md shows %q outside its configuration block", m)
	}

	// Every figure copied beside report.md, byte for byte.
	copies := map[string]string{
		"img/vgg-mnist/main/vgg-mnist/test_accuracy.png":                "docs/results/vgg-mnist/test_accuracy.png",
		"img/vgg-mnist/demo/train_loss.png":                             "out/demo/vgg-mnist/train_loss.png",
		"img/lstm-tweets/full-lstm-tweets-lr1e-3/accuracy.png":          "docs/results/lstm-tweets-lr1e-3/accuracy.png",
		"img/vae-galaxy/main/vae-galaxy/seed1/conv/reconstructions.png": "docs/results/vae-galaxy/seed1/conv/reconstructions.png",
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
	}
	// 4+4 VGG, accuracy+loss, accuracy and accuracy for the LSTM's three
	// runs (test_accuracy.png is shown by accuracy.png), compare + 3 for
	// seed 1's conv + its second seed's curve alone + 1 for seed 1's mlp
	// for the VAE, the quick conv run's reconstructions (latent_pca.png is
	// not among a quick run's figures): 19.
	if len(res.Images) != 19 {
		t.Errorf("copied %d images, want 19: %v", len(res.Images), res.Images)
	}

	// report.html: self-contained, images and fonts embedded, math left
	// for KaTeX exactly as written.
	htmlBytes, err := os.ReadFile(res.HTML)
	if err != nil {
		t.Fatal(err)
	}
	page := string(htmlBytes)
	for _, m := range regexp.MustCompile(`(?i)\b(src|href)\s*=\s*"([^"]*)"|url\(([^)]*)\)`).FindAllStringSubmatch(page, -1) {
		ref := m[2] + m[3]
		if !strings.HasPrefix(ref, "data:") && !strings.HasPrefix(ref, "#") {
			t.Errorf("report.html refers outside itself: %q", m[0])
		}
	}
	if n := strings.Count(page, `<img src="data:image/png;base64,`); n != len(res.Images) {
		t.Errorf("report.html embeds %d images, want %d", n, len(res.Images))
	}
	conv, _ := os.ReadFile(filepath.Join(conv1, "reconstructions.png"))
	for _, want := range []string{
		base64.StdEncoding.EncodeToString(conv),
		"src:url(data:font/woff2;base64," + base64.StdEncoding.EncodeToString(font) + ") format('woff2')",
		"var katex={render:",
		`<span class="math inline">\tfrac12(\mu^2 + \sigma^2 - 1 - \log\sigma^2)</span>`,
		`<span class="math inline">\mathrm{KL}(q \,\|\, p)</span>`,
		`<span class="math inline">x_1 * y_2</span>`,
		`<div class="math display">x_i &lt; y_i</div>`,
		`And <span class="math display">\sum_j a_j</span> inline.`,
		"it costs $5 and $6", "<code>$code$</code>",
		"<strong>closed form</strong>",
		`<h3 id="a-kl">(a) KL</h3>`, `<h2 id="2-vgg11-on-mnist">2. VGG11 on MNIST</h2>`,
		`<div class="report-main">`, `<div class="report-appendices">`,
		"<th>run</th>", "<td>as specified: Adam 1e-4, 5 epochs</td>",
		"<details>", "<figcaption><b>Figure 1.</b>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(page, "Formulas are shown as TeX source") {
		t.Error("report.html says KaTeX is missing")
	}

	// The main part: the five items in the assignment's order, with the
	// full runs only; the appendices follow it, and hold the quick runs
	// and every run's own line, figures and settings.
	mainPart, appendices, ok := strings.Cut(md, `<div class="report-appendices">`)
	if !ok {
		t.Fatal("report.md has no appendices")
	}
	last := -1
	for _, h := range []string{"## 1. CNN basics", "## 2. VGG11 on MNIST", "## 3. Character-level LSTM on tweets", "## 4. VAE theory", "## 5. Galaxy Zoo VAEs"} {
		i := strings.Index(mainPart, "\n"+h+"\n")
		if i <= last {
			t.Errorf("main part: %q missing or out of order", h)
		}
		last = i
	}
	last = -1
	for _, h := range []string{"## Appendix A. CNN basics: extra material", "## Appendix B. VGG11 on MNIST: every run",
		"## Appendix C. Character-level LSTM: every run", "## Appendix D. Galaxy Zoo VAEs: every run"} {
		i := strings.Index(appendices, "\n"+h+"\n")
		if i <= last {
			t.Errorf("appendices: %q missing or out of order", h)
		}
		last = i
	}
	for _, bad := range []string{"quick run here", "Reproduced on this machine", "<details>", "Made by `", "### Extra:", "### Full run"} {
		if strings.Contains(mainPart, bad) {
			t.Errorf("the main part shows %q, which belongs in the appendices", bad)
		}
	}
	// Each main-part table row names its run by recipe, never by date.
	for _, line := range strings.Split(mainPart, "\n") {
		if strings.HasPrefix(line, "| full run") || regexp.MustCompile(`^\| [^|]*\d{4}.\d\d.\d\d`).MatchString(line) {
			t.Errorf("main-part row named by date, not recipe: %q", line)
		}
	}
	// Every link inside the page (the contents, the pointers to the
	// appendices) lands on an element of the page.
	links := regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 9 {
		t.Errorf("report.html has %d links inside the page, want the contents' 9 and more", len(links))
	}
	for _, m := range links {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("link #%s leads nowhere", m[1])
		}
	}
}

// With nothing to show, every part says so once, in words (no paths), and
// a second report removes images left by the first.
func TestWriteNoRuns(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "report")
	write(t, filepath.Join(out, "img/vgg-mnist/stale.png"), tinyPNG(t, 1))
	res, err := Write(Config{Out: out, Root: root, Theory: filepath.Join(root, "none.md"), KaTeXDir: filepath.Join(root, "no-katex")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 6 || len(res.Images) != 0 {
		t.Errorf("missing %v, images %v; want all six runs missing and no images", res.Missing, res.Images)
	}
	if _, err := os.Stat(filepath.Join(out, "img/vgg-mnist/stale.png")); !os.IsNotExist(err) {
		t.Errorf("stale image kept: %v", err)
	}
	b, _ := os.ReadFile(res.Markdown)
	md := string(b)
	for want, n := range map[string]int{
		"The full-length run is not in this repository yet; ":  3,
		"Not run on this machine yet: `make demo` runs it.":    3,
		"The VAE theory is not in this copy of the repository": 1,
		"<details>": 0,
	} {
		if got := strings.Count(md, want); got != n {
			t.Errorf("report.md says %q %d times, want %d", want, got, n)
		}
	}
	for _, bad := range []string{root, "summary.json", "No run of"} {
		if strings.Contains(md, bad) {
			t.Errorf("report.md speaks of files: %q", bad)
		}
	}
}

// A quick run still going (figures, no summary yet) is shown as such.
func TestWriteRunInProgress(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out/demo/vgg-mnist")
	write(t, filepath.Join(dir, "test_loss.png"), tinyPNG(t, 3))
	res, err := Write(Config{Out: filepath.Join(root, "report"), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(res.Markdown)
	for _, want := range []string{"This run has not written its summary: it is still running", `<img src="img/vgg-mnist/demo/test_loss.png"`} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if n := strings.Count(string(md), "Not run on this machine yet"); n != 2 {
		t.Errorf("report.md says %d quick runs are missing, want 2 (LSTM, VAE)", n)
	}
}

// A broken summary.json is reported, naming the file, and the rest still shows.
func TestWriteBrokenSummary(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "vgg")
	write(t, filepath.Join(dir, "summary.json"), []byte(`{"command": "vgg-mnist",`))
	write(t, filepath.Join(dir, "test_loss.png"), tinyPNG(t, 3))
	res, err := Write(Config{Out: filepath.Join(root, "report"), Root: root, DemoDirs: map[string]string{"vgg-mnist": dir}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) == 0 || !strings.Contains(strings.Join(res.Problems, "\n"), filepath.Join(dir, "summary.json")) {
		t.Errorf("problems %v do not name the broken summary.json", res.Problems)
	}
	md, _ := os.ReadFile(res.Markdown)
	for _, want := range []string{"This run's summary could not be read", `<img src="img/vgg-mnist/demo/test_loss.png"`} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// A broken iwae.json or samples.json beside a VAE run is reported, naming
// the file, and the run's own results still show.
func TestWriteBrokenExtraResults(t *testing.T) {
	root := t.TempDir()
	vae := filepath.Join(root, "docs/results/vae-galaxy")
	run := filepath.Join(vae, "seed1", "conv")
	fakeRun(t, run, "vae-galaxy train --arch conv", "2025-02-01T00:00:00Z", `{"arch": "conv", "image_size": 64}`,
		`{"epochs": 200, "best_step": 46, "best_val_neg_elbo": 2800.0, "best_test_neg_elbo": 2790.5}`, "")
	write(t, filepath.Join(run, "iwae.json"), []byte(`{"test": {"nll_nats": "many"}}`))
	write(t, filepath.Join(run, "samples.json"), []byte(`{"results": `))
	res, err := Write(Config{Out: filepath.Join(root, "report"), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	problems := strings.Join(res.Problems, "\n")
	for _, f := range []string{"iwae.json", "samples.json"} {
		if !strings.Contains(problems, filepath.Join(run, f)) {
			t.Errorf("problems %q do not name the broken %s", problems, f)
		}
	}
	md, _ := os.ReadFile(res.Markdown)
	if want := "| conv, seed 1, full run | 200 | 64x64 | – | 2790.5 | – | – | – |"; !strings.Contains(string(md), want) {
		t.Errorf("report.md lacks the run's row %q:\n%s", want, md)
	}
}

// The shared training loop's keys read in words with their units.
func TestCommonResultKeysInWords(t *testing.T) {
	for key, want := range map[string]string{
		"peak_rss_mib": "peak memory (RSS)", "rss_mib_epoch_2": "memory after epoch 2", "steps_per_second": "training speed (steps/s)",
	} {
		if got := resultLabel(key); got != want {
			t.Errorf("resultLabel(%s) = %q, want %q", key, got, want)
		}
	}
	if got := resultValue("rss_mib_last_eval", 2048); got != "2.0 GiB" {
		t.Errorf("2048 MiB reads %q, want 2.0 GiB", got)
	}
	if got := resultValue("peak_rss_mib", 341.4); got != "341 MiB" {
		t.Errorf("341.4 MiB reads %q", got)
	}
}

// A run on the bundled sample says so: its numbers are not the full data's.
func TestRunLineNamesTheData(t *testing.T) {
	for _, tt := range []struct {
		data *datasets.Source
		want string
	}{
		{&datasets.Source{Sample: true, FoundBy: "bundled sample"}, "Data: the bundled sample"},
		{&datasets.Source{FoundBy: "../shared/data"}, "Data: the full data set (found by ../shared/data)"},
	} {
		w := &writer{res: &Result{}}
		w.runLine(&Run{Summary: &runrec.Summary{Command: "x", Data: tt.data}})
		if got := w.b.String(); !strings.Contains(got, tt.want) {
			t.Errorf("run line %q, want it to contain %q", got, tt.want)
		}
	}
}

// A run that records its split and machine says them; an older run does not.
func TestRunLineNamesSplitAndMachine(t *testing.T) {
	w := &writer{res: &Result{}}
	w.runLine(&Run{Summary: &runrec.Summary{Command: "x", Split: &runrec.Split{Train: 55000, Val: 5000, Test: 10000, Unit: "images"},
		Machine: &runrec.Machine{Cores: 2, Libtorch: "1.13", BLAS: "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"},
		Commit:  "0123456789abcdef0123-dirty"}})
	got := w.b.String()
	for _, want := range []string{"Split: 55,000 training, 5,000 validation (held out of the training data) and 10,000 test images.",
		"Machine: 2 cores, libtorch 1.13, BLAS openblas-pthread, commit `0123456789ab-dirty`."} {
		if !strings.Contains(got, want) {
			t.Errorf("run line %q, want it to contain %q", got, want)
		}
	}
	withCPU := &writer{res: &Result{}}
	withCPU.runLine(&Run{Summary: &runrec.Summary{Command: "x", Machine: &runrec.Machine{Cores: 2, Libtorch: "1.13", BLAS: "unknown", CPU: "Some CPU; avx2; OpenBLAS Haswell"}}})
	if got, want := withCPU.b.String(), "Machine: 2 cores, libtorch 1.13, BLAS unknown, CPU Some CPU; avx2; OpenBLAS Haswell."; !strings.Contains(got, want) {
		t.Errorf("run line %q, want it to contain %q", got, want)
	}
	old := &writer{res: &Result{}}
	old.runLine(&Run{Summary: &runrec.Summary{Command: "x"}})
	if s := old.b.String(); strings.Contains(s, "Split:") || strings.Contains(s, "Machine:") {
		t.Errorf("an older run's line %q names a split or machine", s)
	}
}

// A part's study folder (the VAEs' logistic/) shows its results.md under
// its own heading, the title line dropped and the headings moved down.
func TestStudyResultsShown(t *testing.T) {
	root := t.TempDir()
	results := filepath.Join(root, "docs", "results")
	write(t, filepath.Join(results, "vae-galaxy", "logistic", "results.md"),
		[]byte("# Title to drop\n\nintro line\n\n| model | bits/dim |\n|---|---|\n| conv | 2.1 |\n\n## Paired differences\n\ntie\n"))
	out := filepath.Join(root, "report")
	res, err := Write(Config{Out: out, Root: root, ResultsDir: results, Theory: filepath.Join(root, "none.md"), KaTeXDir: filepath.Join(root, "no-katex")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(res.Markdown)
	md := string(b)
	for _, want := range []string{"### " + vae.studyTitle, "| conv | 2.1 |", "##### Paired differences", "vae-galaxy/logistic/results.md"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, "Title to drop") {
		t.Error("report.md kept the study's title line")
	}
}
