package report

import (
	"strings"
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

// resultNames name the keys of a summary's results in words.
var resultNames = map[string]setting{
	"epoch":                                 {"epochs", plain},
	"epochs":                                {"epochs", plain},
	"steps":                                 {"optimiser steps", thousands},
	"iterations":                            {"iterations", thousands},
	"test_accuracy":                         {"test accuracy", pct2},
	"train_accuracy":                        {"training-sample accuracy", pct2},
	"test_loss":                             {"test loss", sig3},
	"train_loss":                            {"training-sample loss", sig3},
	"epoch_seconds":                         {"time of the last epoch", seconds},
	"last_epoch_seconds":                    {"time of the last epoch", seconds},
	"seconds_per_epoch":                     {"training time per epoch", seconds},
	"train_seconds":                         {"training time", seconds},
	"images_per_second":                     {"training speed (images/s)", sig3},
	"train_iterations_per_second":           {"training speed (iterations/s)", sig3},
	"peak_rss_mb":                           {"peak memory (RSS)", megabytes},
	"peak_rss_mib":                          {"peak memory (RSS)", mebibytes},
	"rss_mib":                               {"memory at the end", mebibytes},
	"rss_mib_first_eval":                    {"memory at the first evaluation", mebibytes},
	"rss_mib_last_eval":                     {"memory at the last evaluation", mebibytes},
	"steps_per_second":                      {"training speed (steps/s)", sig3},
	"step_seconds":                          {"time in optimiser steps", seconds},
	"rss_mb_first_eval":                     {"memory at the first evaluation", megabytes},
	"rss_mb_last_eval":                      {"memory at the last evaluation", megabytes},
	"knn_test_accuracy":                     {"5-NN pixel classifier on real test images", pct1},
	"samples_knn_agreement_latent_region":   {"samples recognised as their class by 5-NN (latent region)", pct1},
	"samples_knn_agreement_cvae":            {"samples recognised as their class by 5-NN (conditional prior)", pct1},
	"samples_judge_agreement_latent_region": {"class samples recognised by the CNN classifier (latent region)", pct1},
	"samples_judge_agreement_cvae_prior":    {"class samples recognised by the CNN classifier (conditional prior)", pct1},
	"judge_test_accuracy":                   {"CNN classifier's accuracy on the real test galaxies", pct1},
	"latent_knn_test_accuracy":              {"5-NN on the latent means, accuracy on the test galaxies", pct1},
	"iwae_test_nats":                        {"test −log p, importance-weighted bound (nats/image)", fixed1},
	"iwae_test_bits_per_dim":                {"test −log p, importance-weighted bound (bits/dim)", fixed4},
	"iwae_test_k":                           {"importance samples per test image", plain},
	"iwae_subset_nats":                      {"−log p bound on the test subset at its larger k (nats/image)", fixed1},
	"iwae_subset_k":                         {"importance samples per subset image", thousands},
	"iwae_subset_at_test_k_nats":            {"−log p bound on the test subset at the whole test set's k (nats/image)", fixed1},
	"test_recon":                            {"test reconstruction error (nats/image)", fixed1},
	"train_recon":                           {"training reconstruction error (nats/image)", fixed1},
	"test_kl":                               {"test KL (nats/image)", fixed2},
	"train_kl":                              {"training KL (nats/image)", fixed2},
	"test_neg_elbo":                         {"test −ELBO (nats/image)", fixed1},
	"train_neg_elbo":                        {"training −ELBO (nats/image)", fixed1},
	"val_accuracy":                          {"validation accuracy", pct2},
	"val_loss":                              {"validation loss", sig3},
	"val_recon":                             {"validation reconstruction error (nats/image)", fixed1},
	"val_kl":                                {"validation KL (nats/image)", fixed2},
	"val_neg_elbo":                          {"validation −ELBO (nats/image)", fixed1},
	"best_step":                             {"step of the best validation checkpoint", thousands},
	"train_images":                          {"training images", thousands},
	"val_images":                            {"validation images", thousands},
	"test_images":                           {"test images", thousands},
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
	if k, ok := strings.CutPrefix(key, "best_"); ok {
		return resultLabel(k) + " at the best validation checkpoint"
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
	if k, ok := strings.CutPrefix(key, "best_"); ok {
		return resultValue(k, v)
	}
	if strings.HasPrefix(key, "rss_mb_") {
		return megabytes(v)
	}
	if strings.HasPrefix(key, "rss_mib_") {
		return mebibytes(v)
	}
	return sig4(v)
}
