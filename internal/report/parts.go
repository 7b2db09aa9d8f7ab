package report

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"torchlab/internal/runrec"
)

// assignment is the report's registry: the assignment's parts in its order,
// each a chapter of the main part and, where it has one, an appendix. A
// training part is a partSpec; the others write their own chapters.
var assignment = []assignmentPart{
	{name: "CNN basics", appendix: "Appendix A. CNN basics: extra material", main: (*writer).cnn, extra: (*writer).cnnExtra},
	{part: &vgg},
	{part: &lstm},
	{name: "VAE theory", main: (*writer).theory},
	{part: &vae},
}

// An assignmentPart is one part of the assignment in the report.
type assignmentPart struct {
	part *partSpec // a training part; nil for the others
	// name, appendix, main and extra are a part's own when it is not a
	// training part; extra is nil for a part without an appendix.
	name, appendix string
	main, extra    func(w *writer) error
}

func (a assignmentPart) title() string {
	if a.part != nil {
		return a.part.title
	}
	return a.name
}

func (a assignmentPart) appendixTitle() string {
	if a.part != nil {
		return a.part.appendix
	}
	return a.appendix
}

// A TrainingPart is a command whose runs the report shows.
type TrainingPart struct {
	Command string // "vgg-mnist"
	Short   string // "vgg": cmd/report's flag --vgg-dir names its quick run
	Demo    string // what its quick-run folder holds, for the flag's help
}

// TrainingParts are the training commands of the report, in its order.
func TrainingParts() []TrainingPart {
	var out []TrainingPart
	for _, a := range assignment {
		if p := a.part; p != nil {
			demo := "quick " + p.command + " run of make demo"
			if p.perArch {
				demo = "quick " + p.command + " runs of make demo, one subfolder per architecture"
			}
			out = append(out, TrainingPart{Command: p.command, Short: p.short, Demo: demo})
		}
	}
	return out
}

// A partSpec is what the report knows about one training part: how to say
// its headline, which numbers a reader wants at a glance, and how to lay
// out and caption its figures.
type partSpec struct {
	title, command string
	// short names the part in cmd/report's --<short>-dir flag.
	short string
	// appendix is the heading of the part's appendix ("Appendix B. ...").
	appendix string
	// key are the figures the main part shows.
	key []keyFigure
	// make is the command that makes the full-length run and how long it takes.
	make string
	// variant names a full run among its part's runs by its recipe in
	// words ("as specified: Adam 1e-4, 5 epochs", "conv, seed 1"); nil
	// when a part has one run per kind.
	variant func(r *Run) string
	// recipe says a run's settings in words without judging them, for
	// the quick run's label; nil: the label has none.
	recipe func(r *Run) string
	// about is a paragraph on the part's set-up, written after the
	// headline; "" for none.
	about string
	// perArch says the runs are folders of subruns, one per architecture
	// (and seed); subrun, when set, says which subfolders are such runs.
	perArch bool
	subrun  func(r *Run) bool
	columns []column
	// headline says the part's results in words, from its full runs.
	headline func(full []*Run) string
	// figures lay out one run's figures; demoFigures those of the quick
	// run (nil: the same); top those of a perArch run's own folder.
	figures, demoFigures, top []figureSpec
	// laterSeedFigures are those of a perArch model's second and later
	// seeds (nil: all of figures).
	laterSeedFigures []figureSpec
	// skip are figures not shown because others show the same.
	skip []string
	// demoNote says, if needed, how to read the quick run's numbers beside
	// the full run's; "" when nothing needs saying.
	demoNote func(quick, full *Run) string
	// study is a folder under the part's results (beside its runs) whose
	// results.md, written by its own summarize script, is shown after the
	// table at a glance; "" for none.
	study, studyTitle string
	// studyLead says the study's result for the main part, from its
	// results.json at path, linking to the appendix; nil: nothing.
	studyLead func(path, appendixLink string) (string, error)
	// seeds is the folder, under the results, of the chosen recipe's run
	// whose seeds.json (scripts/seed_table.py) gives its mean over init
	// seeds; "" for none.
	seeds string
}

// A column of a part's at-a-glance table.
type column struct {
	label string
	value func(r *Run) string
}

// A figureSpec is one figure: rows of PNG names shown side by side, and
// what they show.
type figureSpec struct {
	rows [][]string
	what string
	// alone describes the one image left when the others are missing.
	alone string
}

// resultColumn shows one result, "–" when the run lacks it.
func resultColumn(label, key string) column {
	return column{label, func(r *Run) string {
		v, ok := r.result(key)
		if !ok {
			return "–"
		}
		return resultValue(key, v)
	}}
}

func settingColumn(label, key string) column {
	return column{label, func(r *Run) string {
		v := r.config(key)
		if v == nil {
			return "–"
		}
		return settingValue(key, v)
	}}
}

var timeColumn = column{"time", func(r *Run) string {
	s := humanDuration(r.seconds())
	if th, ok := asFloat(r.config("threads")); ok {
		s += fmt.Sprintf(" on %s thread", plain(th))
		if th != 1 {
			s += "s"
		}
	}
	return s
}}

// resultColumnF shows one result formatted by f.
func resultColumnF(label, key string, f func(any) string) column {
	return column{label, func(r *Run) string { return optional(r, key, f) }}
}

// learningRate writes 0.0001 as 1e-4 and 0.05 as 0.05.
func learningRate(v any) string {
	f, ok := asFloat(v)
	if !ok || f <= 0 || f >= 0.01 {
		return plain(v)
	}
	e := math.Floor(math.Log10(f))
	m := f / math.Pow(10, e)
	return trimZeros(strconv.FormatFloat(m, 'f', 2, 64)) + "e" + strconv.Itoa(int(e))
}

// recipeKind says how a full run's recipe relates to the assignment's:
// "as specified" when it is the assignment's, "tuned" when its folder is
// one of the tuned runs (the validation split chose among them), else
// "changed".
func recipeKind(r *Run, asSpecified bool) string {
	switch {
	case asSpecified:
		return "as specified"
	case strings.Contains(filepath.Base(r.Dir), "-tuned"):
		return "tuned"
	default:
		return "changed"
	}
}

// optimiserWords is a run's optimiser and learning rate, "Adam 1e-4";
// a run that did not record its optimiser used def.
func optimiserWords(r *Run, def string) string {
	opt, _ := r.config("optimizer").(string)
	if opt == "" {
		opt = def
	}
	name := map[string]string{"adam": "Adam", "sgd": "SGD", "adamw": "AdamW"}[opt]
	if name == "" {
		name = opt
	}
	if r.config("lr") == nil {
		return name
	}
	return name + " " + learningRate(r.config("lr"))
}

// count says n things, "1 epoch" or "5 epochs"; "" when n is unknown.
func count(v any, one, many string) string {
	n, ok := asFloat(v)
	if !ok {
		return ""
	}
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// joinWords joins the non-empty words with ", ".
func joinWords(words ...string) string {
	var kept []string
	for _, w := range words {
		if w != "" {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, ", ")
}

// vggRecipe says a VGG run's settings: what it adds to the plain VGG11,
// its optimiser and rate, its epochs ("batch norm + 2-px shifts, Adam
// 1e-4, 8 epochs").
func vggRecipe(r *Run) string {
	var adds []string
	if bn, _ := r.config("model.batch_norm").(bool); bn {
		adds = append(adds, "batch norm")
	}
	if px, ok := asFloat(r.config("augment_shift")); ok && px > 0 {
		adds = append(adds, plain(px)+"-px shifts")
	}
	return joinWords(strings.Join(adds, " + "), optimiserWords(r, "adam"), count(r.config("epochs"), "epoch", "epochs"))
}

// vggVariant names a full VGG run: the assignment's recipe is the plain
// VGG11 with Adam at 1e-4 for 5 epochs.
func vggVariant(r *Run) string {
	bn, _ := r.config("model.batch_norm").(bool)
	px, _ := asFloat(r.config("augment_shift"))
	lr, _ := asFloat(r.config("lr"))
	epochs, _ := asFloat(r.config("epochs"))
	opt, _ := r.config("optimizer").(string)
	spec := !bn && px == 0 && lr == 1e-4 && epochs == 5 && (opt == "" || opt == "adam")
	return recipeKind(r, spec) + ": " + vggRecipe(r)
}

// lstmRecipe says an LSTM run's settings: optimiser and rate, and its
// schedule, weight decay and character dropout where it has them, then its
// planned iterations.
func lstmRecipe(r *Run) string {
	var sched, wd, drop string
	if s, _ := r.config("schedule").(string); s != "" && s != "constant" {
		sched = s + " schedule"
	}
	if v, ok := asFloat(r.config("weight_decay")); ok && v > 0 {
		wd = "weight decay " + learningRate(v)
	}
	if v, ok := asFloat(r.config("char_dropout")); ok && v > 0 {
		drop = percentOf(v) + " of characters dropped"
	}
	return joinWords(optimiserWords(r, "adam"), sched, wd, drop, count(r.config("iterations"), "iteration", "iterations"))
}

// lstmVariant names a full LSTM run: the assignment's recipe is Adam at
// 1e-4, constant, without weight decay or character dropout.
func lstmVariant(r *Run) string {
	if arch, _ := r.config("arch").(string); arch == "ngram" {
		return "baseline: n-gram logistic regression, " + lstmRecipe(r)
	}
	lr, _ := asFloat(r.config("lr"))
	sched, _ := r.config("schedule").(string)
	wd, _ := asFloat(r.config("weight_decay"))
	drop, _ := asFloat(r.config("char_dropout"))
	opt, _ := r.config("optimizer").(string)
	spec := lr == 1e-4 && (sched == "" || sched == "constant") && wd == 0 && drop == 0 && (opt == "" || opt == "adam")
	return recipeKind(r, spec) + ": " + lstmRecipe(r)
}

var vgg = partSpec{
	seeds: "vgg-mnist-tuned-shift2-e8",
	title: "VGG11 on MNIST", command: "vgg-mnist", short: "vgg",
	appendix: "Appendix B. VGG11 on MNIST: every run",
	make:     "`bin/vgg-mnist train --out docs/results/vgg-mnist` (about 1 h on 2 cores)",
	columns: []column{
		resultColumn("epochs", runrec.Epochs),
		settingColumn("training images used", "subset"),
		resultColumn("test accuracy", runrec.TestAccuracy),
		{"test loss", func(r *Run) string { return optional(r, runrec.TestLoss, sig2) }},
		{"training loss", func(r *Run) string { return optional(r, runrec.TrainLoss, sig2) }},
		timeColumn,
	},
	headline: vggHeadline,
	variant:  vggVariant,
	recipe:   vggRecipe,
	about: "**Why 32x32.** VGG11's five 2x2 max-pools each halve the image (its 3x3 convolutions are padded " +
		"to keep the size), so only a side that is a multiple of 2⁵ = 32 ends at exactly 1x1. MNIST's 28 would go " +
		"28 → 14 → 7 → 3 → 1, losing rows on the way, and the fifth pool would not fit its 1x1 map; 32 is the " +
		"smallest such side that holds a 28x28 digit, so the digits are resized 28 → 32. **The other layer that " +
		"had to change** is the first fully connected one: the paper's 224x224 images leave 7x7x512 = 25,088 " +
		"features after the pools, 32x32 images leave 1x1x512, so it is 512 → 4096 instead of 25,088 → 4096. " +
		"(For MNIST itself the first convolution takes 1 grey channel instead of 3, and the last layer gives " +
		"10 classes instead of 1,000.)",
	figures: []figureSpec{vggGrid, vggCurves},
	key: []keyFigure{
		{pick: withKind(vggVariant, "as specified"), figs: []figureSpec{vggCurves, vggGrid}, shows: vggSpecifiedShows},
		{pick: bestTuned(vggVariant), figs: []figureSpec{vggCurves}, shows: tunedShows("step", pct2, vggVariant)},
	},
}

// vggGrid is the VGG runs' four curves of the runs from before the
// validation split; vggCurves the two of the runs since.
var (
	vggGrid = figureSpec{
		rows: [][]string{{runrec.FigTrainLoss, runrec.FigTestLoss}, {runrec.FigTrainAccuracy, runrec.FigTestAccuracy}},
		what: "Loss (top) and accuracy (bottom) on the fixed sample of training images, measured in eval mode (left), and on the test images (right), at each evaluation.",
	}
	vggCurves = figureSpec{
		rows: [][]string{{runrec.FigLoss, runrec.FigAccuracy}},
		what: "Loss (left) and accuracy (right) on the training sample (eval mode), the validation images held out of the training set, and the test images; the legends give each set's size.",
	}
)

var lstm = partSpec{
	seeds: "lstm-tweets-tuned",
	title: "Character-level LSTM on tweets", command: "lstm-tweets", short: "lstm",
	appendix: "Appendix C. Character-level LSTM: every run",
	make:     "`bin/lstm-tweets train --fused-lstm --out docs/results/lstm-tweets` (about 15 min)",
	variant:  lstmVariant,
	recipe:   lstmRecipe,
	columns: []column{
		{"learning rate", func(r *Run) string { return learningRate(r.config("lr")) }},
		{"iterations", func(r *Run) string {
			return optional(r, runrec.Steps, thousands) + planned(r)
		}},
		resultColumnF("test accuracy at the end", runrec.TestAccuracy, pct1),
		{"best checkpoint's test accuracy (iteration)", func(r *Run) string {
			if step, _, test, ok := chosenOnValidation(r, runrec.Accuracy); ok {
				return fmt.Sprintf("%s (%s, chosen on validation)", pct1(test), thousands(step))
			}
			b, at, ok := r.best(runrec.ColAccuracy, runrec.Test, runrec.ColStep)
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%s (%s, best on test: no validation split)", pct1(b), thousands(at))
		}},
		resultColumnF("training-sample accuracy", runrec.TrainAccuracy, pct1),
		timeColumn,
	},
	headline: lstmHeadline,
	figures:  []figureSpec{lstmCurves},
	key: []keyFigure{
		{pick: withKind(lstmVariant, "as specified"), figs: []figureSpec{lstmCurves}, shows: lstmSpecifiedShows},
		{pick: bestTuned(lstmVariant), figs: []figureSpec{lstmCurves}, shows: tunedShows("iteration", pct1, lstmVariant)},
	},
	skip: []string{runrec.FigTestAccuracy, runrec.FigTrainAccuracy},
}

// lstmCurves is an LSTM run's accuracy and loss curves.
var lstmCurves = figureSpec{
	rows: [][]string{{runrec.FigAccuracy, runrec.FigLoss}},
	what: "Accuracy (left) and loss (right) on a fixed sample of training tweets (eval mode), on the validation tweets held out of the training file (runs with a validation split) and on the test set, against the iteration; the legends give each set's size.",
}

var vae = partSpec{
	title: "Galaxy Zoo VAEs", command: "vae-galaxy", short: "vae",
	appendix: "Appendix D. Galaxy Zoo VAEs: every run",
	make:     "`bash docs/results/vae-galaxy/run.sh` (mlp, conv and resnet in turn; several hours)",
	perArch:  true,
	// The galaxy classifier that judges the samples is a run of its own
	// folder, not an architecture.
	subrun:  func(r *Run) bool { return r.config("arch") != nil },
	variant: vaeVariant,
	columns: []column{
		resultColumn("epochs", runrec.Epochs),
		{"image size", func(r *Run) string {
			if v, ok := asFloat(r.config("image_size")); ok {
				return plain(v) + "x" + plain(v)
			}
			return "–"
		}},
		{"best epoch (validation)", func(r *Run) string {
			if e, ok := bestEpoch(r); ok {
				return plain(e)
			}
			return "–"
		}},
		resultColumnF("test −ELBO at the best epoch (nats/image)", runrec.BestOf(runrec.TestNegELBO), fixed1),
		{"test −log p, IWAE bound (nats/image, bits/dim)", func(r *Run) string {
			nats, ok := r.result(runrec.IWAETestNats)
			bits, okB := r.result(runrec.IWAETestBitsPerDim)
			if !ok || !okB {
				return "–"
			}
			return fixed1(nats) + " (" + fixed4(bits) + ")"
		}},
		{"class samples recognised by the CNN classifier (a class-blind generator: 14.3 %)", func(r *Run) string {
			// Every model's samples come from the class's region of latent
			// space; a conditional model's from its prior, decoded with the
			// class alone, follow in brackets.
			region := optional(r, runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenLatentRegion), pct1)
			if v, ok := r.result(runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenCVAEPrior)); ok {
				return region + " (" + pct1(v) + " from the prior given the class)"
			}
			return region
		}},
		resultColumn("training time per epoch", runrec.SecondsPerEpoch),
	},
	headline:   vaeHeadline,
	demoNote:   vaeDemoNote,
	study:      "logistic",
	studyTitle: "A likelihood of 8-bit images: discretised logistic decoders on one split, several init seeds",
	studyLead:  likelihoodLead,
	top:        []figureSpec{vaeCompare},
	key: []keyFigure{
		{pick: firstRun, figs: []figureSpec{vaeCompare}, shows: vaeCompareShows},
		{pick: vaeChosen, figs: []figureSpec{{
			rows: [][]string{{runrec.FigReconstruction}, {runrec.FigClassSamplesAll}},
			what: "The model the validation split chooses. Top: test galaxies (upper row) and their reconstructions from the latent mean (lower row). Bottom: for each class, up to four real galaxies, then four samples decoded from that class's region of the latent space.",
		}}, shows: vaeSamplesShows},
	},
	figures: []figureSpec{
		{rows: [][]string{{runrec.FigReconstruction}}, what: "Test galaxies (top) and their reconstructions from the latent mean (bottom)."},
		{rows: [][]string{{runrec.FigClassSamplesAll}}, what: "For each class, up to four real galaxies, then four samples decoded from that class's region of the latent space."},
		{rows: [][]string{{runrec.FigClassSamples}}, what: "Real galaxies of the class chosen with `--class` (top) and samples decoded from two regions of the latent space where that class lies."},
		vaeCurves,
		{rows: [][]string{{runrec.FigLatentTSNE, runrec.FigLatentLDA}}, what: "The encoder's means for the test galaxies, coloured by class. Left: embedded in two dimensions by t-SNE (unsupervised; neighbours stay neighbours, distances between groups mean little). Right: on the two linear discriminant axes fitted on the training galaxies' means and classes (supervised: how far a linear map of the latent space separates the classes).",
			alone: "The encoder's means for the test galaxies, embedded in two dimensions by t-SNE (neighbours stay neighbours; distances between groups mean little), coloured by class."},
		{rows: [][]string{{runrec.FigWeightsMatrix, runrec.FigWeightsMatrixN(2)}}, what: "Weight matrices of two fully connected layers as heat maps (red positive, blue negative).",
			alone: "The weight matrix of a fully connected layer as a heat map (red positive, blue negative)."},
		{rows: [][]string{{runrec.FigWeightsFilters}}, what: "Filters of the layers next to the image, each tile scaled to its own range."},
	},
	laterSeedFigures: []figureSpec{vaeCurves},
	demoFigures: []figureSpec{
		{rows: [][]string{{runrec.FigReconstruction}}, what: "Test galaxies (top) and their reconstructions from the latent mean (bottom)."},
		{rows: [][]string{{runrec.FigClassSamplesAll}}, what: "For each class, up to four real galaxies, then four samples decoded from that class's region of the latent space."},
	},
}

// vaeCompare is the reconstruction error of every architecture, in the
// folder of the full runs.
var vaeCompare = figureSpec{
	rows: [][]string{{runrec.FigReconCompare}},
	what: "Reconstruction error on the validation and the test galaxies against the training step, for each architecture (each run's training curve is in its own figure in the appendix). A model run with several seeds is drawn as their mean with a band from the lowest to the highest, over the steps every seed reached. The first epochs (the title says how many) are above the top edge, so that the differences between the models show.",
}

// vaeCurves is a VAE run's learning curves beside its latent space.
var vaeCurves = figureSpec{rows: [][]string{{runrec.FigReconCurve, runrec.FigLatentPCA}}, what: "Left: reconstruction error against the training step on the training galaxies (running mean of batch losses, and in newer runs the whole training split in eval mode every few epochs), the validation galaxies (runs with a validation split) and the test galaxies. Right: the encoder's means for the training galaxies on their first two principal components, coloured by class."}

// optional formats a result, "–" when the run lacks it.
func optional(r *Run, key string, f func(any) string) string {
	v, ok := r.result(key)
	if !ok {
		return "–"
	}
	return f(v)
}

// plannedOf says " of the planned N" when a run stopped before its
// planned iterations.
func plannedOf(r *Run) string {
	if p := planned(r); p != "" {
		return " of the planned" + strings.TrimPrefix(p, " of")
	}
	return ""
}

// planned says " of N" when a run stopped before its planned iterations.
func planned(r *Run) string {
	done, ok := r.result(runrec.Steps)
	want, okW := asFloat(r.config("iterations"))
	if ok && okW && done < want {
		return " of " + thousands(want)
	}
	return ""
}

func vggHeadline(full []*Run) string {
	r := full[0]
	acc, ok := r.result(runrec.TestAccuracy)
	if !ok {
		return ""
	}
	var b strings.Builder
	epochs, _ := r.result(runrec.Epochs)
	data := "full MNIST"
	if s, ok := asFloat(r.config("subset")); ok && s != 1 {
		data = percentOf(s) + " of MNIST's training set"
	}
	fmt.Fprintf(&b, "**VGG11 reached %s test accuracy after %s epochs** of %s", pct2(acc), plain(epochs), data)
	var extra []string
	if v, ok := r.result(runrec.TrainLoss); ok {
		extra = append(extra, "training loss "+sig2(v))
	}
	if v, ok := r.result(runrec.TestLoss); ok {
		extra = append(extra, "test loss "+sig2(v))
	}
	if best, at, ok := r.best(runrec.ColAccuracy, runrec.Test, runrec.ColEpoch); ok && best > acc {
		extra = append(extra, fmt.Sprintf("best %s after epoch %s", pct2(best), plain(at)))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(extra, "; "))
	}
	fmt.Fprintf(&b, ", in %s with %s libtorch threads.", humanDuration(r.seconds()), plain(r.config("threads")))
	b.WriteString(bestValidation(r, "step", runrec.Accuracy, pct2))
	return b.String()
}

// bestValidation says, for a run with a validation split, where its best
// validation checkpoint is and the test number there (the model a user of
// the run gets); "" for runs from before the split.
func bestValidation(r *Run, unit, metric string, format func(any) string) string {
	step, val, test, ok := chosenOnValidation(r, metric)
	if !ok {
		return ""
	}
	name := strings.ReplaceAll(metric, "_", " ")
	if metric == runrec.NegELBO {
		name = "−ELBO"
	}
	return fmt.Sprintf(" The best validation checkpoint (%s %s, validation %s %s) has test %s %s.",
		unit, thousands(step), name, format(val), name, format(test))
}

// chosenOnValidation returns the best validation checkpoint's step and
// its validation and test metric; ok is false for a run without a
// validation split.
func chosenOnValidation(r *Run, metric string) (step, val, test float64, ok bool) {
	step, ok = r.result(runrec.BestStep)
	val, okV := r.result(runrec.BestOf(runrec.Metric(runrec.Val, metric)))
	test, okT := r.result(runrec.BestOf(runrec.Metric(runrec.Test, metric)))
	return step, val, test, ok && okV && okT
}

func lstmHeadline(full []*Run) string {
	var parts []string
	for i, r := range full {
		acc, ok := r.result(runrec.TestAccuracy)
		if !ok {
			continue
		}
		what := "the LSTM reached %s test accuracy after %s%s iterations"
		if i > 0 {
			what = ", %s after %s%s iterations"
		} else {
			what = " " + what
		}
		s := fmt.Sprintf("at learning rate %s"+what, learningRate(r.config("lr")), pct1(acc), optional(r, runrec.Steps, thousands), plannedOf(r))
		if step, val, test, ok := chosenOnValidation(r, runrec.Accuracy); ok {
			s += fmt.Sprintf(" (its checkpoint chosen on validation, iteration %s: validation %s, test %s)", thousands(step), pct1(val), pct1(test))
		} else if best, at, ok := r.best(runrec.ColAccuracy, runrec.Test, runrec.ColStep); ok && best > acc {
			s += fmt.Sprintf(" (best %s, at iteration %s)", pct1(best), thousands(at))
		}
		if i == 0 {
			s = "**" + strings.ToUpper(s[:1]) + s[1:] + "**"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}

// vaeVariant names a VAE run: its architecture, and its seed where it
// is one of several.
func vaeVariant(r *Run) string {
	if r.Seed != "" {
		return r.Name + ", seed " + r.Seed
	}
	return r.Name
}

// bestEpoch is the epoch of a run's best validation checkpoint.
func bestEpoch(r *Run) (float64, bool) {
	step, ok := r.result(runrec.BestStep)
	steps, okS := r.result(runrec.Steps)
	epochs, okE := r.result(runrec.Epochs)
	if !ok || !okS || !okE || steps == 0 {
		return 0, false
	}
	return math.Round(step * epochs / steps), true
}

// vaeHeadline names the architecture the validation split chooses and its
// held-out likelihood. Each seed has its own split, so architectures are
// compared within a seed: the one with the lowest validation −ELBO at its
// best epoch is that seed's choice. The test numbers are reported, never
// compared to choose. Conditional runs (the class given to the model) bound
// −log p(x | class), not −log p(x), so they are not in the choice: their
// class samples are compared with the plain architecture's instead.
func vaeHeadline(full []*Run) string {
	unconditional, conditional := byConditioning(full[0])
	if len(unconditional) == 0 {
		return "These runs have no validation split, so none of them is chosen; their test numbers are in the table."
	}
	choices, chosen := chosenPerSeed(unconditional)
	var b strings.Builder
	fmt.Fprintf(&b, "**Chosen on validation: %s.** Each seed has its own split, so the architectures are compared seed by seed, "+
		"on the validation −ELBO at each run's best epoch.", strings.Join(choices, "; "))
	done := map[string]bool{}
	for _, r := range chosen {
		if !done[r.Name] {
			done[r.Name] = true
			b.WriteString(iwaeSentence(r.Name, unconditional))
		}
	}
	b.WriteString(judgeSentence(chosen[0], conditional))
	return b.String()
}

// byConditioning splits the subruns of a VAE folder that have a
// validation split into plain and conditional models.
func byConditioning(r *Run) (unconditional, conditional []*Run) {
	for _, s := range r.Subruns {
		if _, ok := s.result(runrec.BestOf(runrec.ValNegELBO)); !ok {
			continue
		}
		if c, _ := s.config("conditional").(bool); c {
			conditional = append(conditional, s)
		} else {
			unconditional = append(unconditional, s)
		}
	}
	return unconditional, conditional
}

// chosenPerSeed returns, seed by seed in seed order, the run the
// validation split chooses and the choice said in words.
func chosenPerSeed(runs []*Run) (choices []string, chosen []*Run) {
	bySeed := map[string][]*Run{}
	for _, r := range runs {
		bySeed[seedOf(r)] = append(bySeed[seedOf(r)], r)
	}
	seeds := make([]string, 0, len(bySeed))
	for seed := range bySeed {
		seeds = append(seeds, seed)
	}
	sort.Slice(seeds, func(i, j int) bool { return seedBefore(seeds[i], seeds[j]) })
	for _, seed := range seeds {
		choice, best := validationChoice(bySeed[seed])
		choices = append(choices, choice)
		chosen = append(chosen, best)
	}
	return choices, chosen
}

// validationChoice is the run of one seed's with the lowest validation
// −ELBO, said with the others' for comparison.
func validationChoice(runs []*Run) (string, *Run) {
	best := runs[0]
	for _, r := range runs[1:] {
		v, _ := r.result(runrec.BestOf(runrec.ValNegELBO))
		b, _ := best.result(runrec.BestOf(runrec.ValNegELBO))
		if v < b {
			best = r
		}
	}
	v, _ := best.result(runrec.BestOf(runrec.ValNegELBO))
	var against []string
	for _, r := range runs {
		if r != best {
			o, _ := r.result(runrec.BestOf(runrec.ValNegELBO))
			against = append(against, r.Name+" "+fixed1(o))
		}
	}
	choice := fmt.Sprintf("%s in seed %s (validation −ELBO %s nats per image", best.Name, seedOf(best), fixed1(v))
	if len(against) == 0 {
		return choice + ", the only architecture run with this seed so far)", best
	}
	return choice + ", against " + strings.Join(against, ", ") + ")", best
}

// iwaeSentence gives the test bound of every seed of architecture name.
func iwaeSentence(name string, runs []*Run) string {
	var per []string
	var sum float64
	for _, r := range runs {
		nats, ok := r.result(runrec.IWAETestNats)
		if r.Name != name || !ok {
			continue
		}
		bits, _ := r.result(runrec.IWAETestBitsPerDim)
		unit := ""
		if len(per) == 0 {
			unit = " nats per image"
		}
		per = append(per, fmt.Sprintf("%s%s (%s bits/dim) in seed %s", fixed1(nats), unit, fixed4(bits), seedOf(r)))
		sum += nats
	}
	if len(per) == 0 {
		return ""
	}
	s := fmt.Sprintf(" %s's test −log p bound (IWAE) is %s", name, strings.Join(per, " and "))
	if len(per) > 1 {
		s += fmt.Sprintf(", mean %s", fixed1(sum/float64(len(per))))
	}
	return s + "."
}

// judgeSentence says how often the galaxy classifier recognises the class
// samples of the chosen run, and of each conditional run with the same seed
// (drawn the same way, and from its prior given the class).
func judgeSentence(chosen *Run, conditional []*Run) string {
	s, ok := chosen.result(runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenLatentRegion))
	acc, okA := chosen.result(runrec.JudgeTestAccuracy(runrec.JudgeCNN))
	if !ok || !okA {
		return ""
	}
	out := fmt.Sprintf(" A CNN classifier trained on the real training galaxies (%s correct on the real test galaxies) "+
		"recognises %s of %s's class samples (seed %s) as their class%s", pct1(acc), pct1(s), chosen.Name, seedOf(chosen), sampleScale(chosen, runrec.GenLatentRegion))
	// A conditional run's samples drawn the same way (from the class's
	// region of latent space) are the like-for-like comparison; its prior
	// samples, decoded with the class alone, show how much the decoder
	// itself uses the class.
	for _, c := range conditional {
		if seedOf(c) != seedOf(chosen) {
			continue
		}
		region, ok := c.result(runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenLatentRegion))
		if !ok {
			continue
		}
		out += fmt.Sprintf(", against %s of the conditional %s's drawn the same way (its class given to encoder and decoder)", pct1(region), c.Name)
		if prior, ok := c.result(runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenCVAEPrior)); ok {
			out += fmt.Sprintf(" and %s of its samples from the prior decoded with the class alone", pct1(prior))
		}
	}
	return out + "."
}

// sampleScale says where a sample score stands between chance and the
// classifier's ceiling: from samples.json's normalised score where the run
// has it, else the chance level of the average over seven classes.
func sampleScale(r *Run, gen string) string {
	chance, okC := r.result(runrec.JudgeChance)
	ceiling, okK := r.result(runrec.JudgeCeiling)
	norm, okN := r.result(runrec.JudgeScore(gen, runrec.ScoreNormalised))
	lo, okL := r.result(runrec.JudgeScore(gen, runrec.ScoreNormalisedLo))
	hi, okH := r.result(runrec.JudgeScore(gen, runrec.ScoreNormalisedHi))
	if okC && okK && okN && okL && okH {
		return fmt.Sprintf(" (on the classes the classifier recognises on real images: normalised %s, 95 %% interval %s to %s, "+
			"where 0 is chance, %s, and 1 the classifier's class-balanced recall on real test galaxies, %s)",
			fixed2(norm), fixed2(lo), fixed2(hi), pct1(chance), pct1(ceiling))
	}
	return fmt.Sprintf(" (a generator that ignores the class scores %s on this average over seven classes)", pct1(1.0/7))
}

// seedOf is a run's seed: its seedN folder's, or else its configuration's.
func seedOf(r *Run) string {
	if r.Seed != "" {
		return r.Seed
	}
	return plain(r.config("seed"))
}

// vaeDemoNote warns that reconstruction errors, summed over the pixel
// values, scale with the image size.
func vaeDemoNote(quick, full *Run) string {
	q, okQ := asFloat(quick.config("image_size"))
	f, okF := asFloat(full.config("image_size"))
	if !okQ || !okF || q == f || q == 0 {
		return ""
	}
	return fmt.Sprintf("The reconstruction errors are sums over the pixel values, so at %sx%s they are not comparable "+
		"with the full runs' at %sx%s, which have %s times as many values.",
		plain(q), plain(q), plain(f), plain(f), trimZeros(strconv.FormatFloat(f*f/(q*q), 'f', 2, 64)))
}
