package report

import (
	"strings"

	"torchlab/internal/runrec"
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
	"split_seed":        {"seed of the data split", nil},
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
	"val_fraction":      {"share of the training data held out for validation", percentOf},
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

// resultNames name the keys of a summary's results in words. Keys of
// older summaries were migrated when read (runrec.Migrate).
var resultNames = map[string]setting{
	runrec.Epochs:                             {"epochs", plain},
	runrec.Steps:                              {"optimiser steps", thousands},
	runrec.TestAccuracy:                       {"test accuracy", pct2},
	runrec.TrainAccuracy:                      {"training-sample accuracy", pct2},
	runrec.TestLoss:                           {"test loss", sig3},
	runrec.TrainLoss:                          {"training-sample loss", sig3},
	runrec.LastEpochSeconds:                   {"time of the last epoch", seconds},
	runrec.SecondsPerEpoch:                    {"training time per epoch", seconds},
	runrec.TrainSeconds:                       {"training time", seconds},
	runrec.ImagesPerSecond:                    {"training speed (images/s)", sig3},
	runrec.PeakRSSMiB:                         {"peak memory (RSS)", mebibytes},
	runrec.RSSMiB:                             {"memory at the end", mebibytes},
	runrec.RSSFirstEval:                       {"memory at the first evaluation", mebibytes},
	runrec.RSSLastEval:                        {"memory at the last evaluation", mebibytes},
	runrec.StepsPerSecond:                     {"training speed (steps/s)", sig3},
	runrec.GradNormMedian:                     {"gradient 2-norm before clipping, median over steps", sig3},
	runrec.GradNormP99:                        {"gradient 2-norm before clipping, 99th percentile", sig3},
	runrec.GradNormMax:                        {"gradient 2-norm before clipping, largest", sig3},
	runrec.StepSeconds:                        {"time in optimiser steps", seconds},
	runrec.JudgeTestAccuracy(runrec.JudgeKNN): {"5-NN pixel classifier on real test images", pct1},
	runrec.SampleAgreement(runrec.JudgeKNN, runrec.GenLatentRegion): {"samples recognised as their class by 5-NN (latent region)", pct1},
	runrec.SampleAgreement(runrec.JudgeKNN, runrec.GenCVAEPrior):    {"samples recognised as their class by 5-NN (conditional prior)", pct1},
	runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenLatentRegion): {"class samples recognised by the CNN classifier (latent region)", pct1},
	runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenCVAEPrior):    {"class samples recognised by the CNN classifier (conditional prior)", pct1},
	runrec.JudgeTestAccuracy(runrec.JudgeCNN):                       {"CNN classifier's accuracy on the real test galaxies", pct1},
	runrec.LatentKNNTestAccuracy:                                    {"5-NN on the latent means, accuracy on the test galaxies", pct1},
	runrec.IWAETestNats:                                             {"test −log p, importance-weighted bound (nats/image)", fixed1},
	runrec.IWAETestBitsPerDim:                                       {"test −log p, importance-weighted bound (bits/dim)", fixed4},
	runrec.IWAETestK:                                                {"importance samples per test image", plain},
	runrec.IWAESubsetNats:                                           {"−log p bound on the test subset at its larger k (nats/image)", fixed1},
	runrec.IWAESubsetK:                                              {"importance samples per subset image", thousands},
	runrec.IWAESubsetAtTestKNats:                                    {"−log p bound on the test subset at the whole test set's k (nats/image)", fixed1},
	runrec.TestRecon:                                                {"test reconstruction error (nats/image)", fixed1},
	runrec.TrainRecon:                                               {"training reconstruction error (nats/image)", fixed1},
	runrec.TestKL:                                                   {"test KL (nats/image)", fixed2},
	runrec.TrainKL:                                                  {"training KL (nats/image)", fixed2},
	runrec.TestNegELBO:                                              {"test −ELBO (nats/image)", fixed1},
	runrec.TrainNegELBO:                                             {"training −ELBO (nats/image)", fixed1},
	runrec.ValAccuracy:                                              {"validation accuracy", pct2},
	runrec.ValLoss:                                                  {"validation loss", sig3},
	runrec.ValRecon:                                                 {"validation reconstruction error (nats/image)", fixed1},
	runrec.ValKL:                                                    {"validation KL (nats/image)", fixed2},
	runrec.ValNegELBO:                                               {"validation −ELBO (nats/image)", fixed1},
	runrec.BestStep:                                                 {"step of the best validation checkpoint", thousands},
	runrec.TrainImages:                                              {"training images", thousands},
	runrec.ValImages:                                                {"validation images", thousands},
	runrec.TestImages:                                               {"test images", thousands},
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

// resultLabel names a results key in words (runrec.BestOf and
// runrec.RSSAfterEpoch keys included).
func resultLabel(key string) string {
	if s, ok := resultNames[key]; ok {
		return s.label
	}
	if k, ok := strings.CutPrefix(key, runrec.BestOf("")); ok {
		return resultLabel(k) + " at the best validation checkpoint"
	}
	if n, ok := runrec.CutRSSAfterEpoch(key); ok {
		return "memory after epoch " + n
	}
	return strings.ReplaceAll(key, "_", " ")
}

// resultValue writes a result with the digits that mean something.
func resultValue(key string, v float64) string {
	if s, ok := resultNames[key]; ok && s.format != nil {
		return s.format(v)
	}
	if k, ok := strings.CutPrefix(key, runrec.BestOf("")); ok {
		return resultValue(k, v)
	}
	if strings.HasPrefix(key, runrec.RSSMiB+"_") {
		return mebibytes(v)
	}
	return sig4(v)
}
