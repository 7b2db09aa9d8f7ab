package runrec

import (
	"strconv"
	"strings"
)

// Splits: the values of metrics.csv's split column, and the first part of a
// split's result key (Metric).
const (
	Train     = "train"
	Val       = "val"
	Test      = "test"
	TrainFull = "train-full" // the whole training split in eval mode, beside a cheaper "train" measure
)

// Measures of a split, the second part of its result key (Metric).
const (
	Loss     = "loss"
	Accuracy = "accuracy"
	Recon    = "recon"    // VAE reconstruction error, nats/image
	KL       = "kl"       // VAE KL term, nats/image
	NegELBO  = "neg_elbo" // Recon + KL
)

// Metric is the result key of a split's measure: Metric(Test, Accuracy)
// is "test_accuracy".
func Metric(split, measure string) string { return split + "_" + measure }

// The result keys of each split's measures, as Metric spells them.
const (
	TrainLoss     = Train + "_" + Loss
	TrainAccuracy = Train + "_" + Accuracy
	TrainRecon    = Train + "_" + Recon
	TrainKL       = Train + "_" + KL
	TrainNegELBO  = Train + "_" + NegELBO
	ValLoss       = Val + "_" + Loss
	ValAccuracy   = Val + "_" + Accuracy
	ValRecon      = Val + "_" + Recon
	ValKL         = Val + "_" + KL
	ValNegELBO    = Val + "_" + NegELBO
	TestLoss      = Test + "_" + Loss
	TestAccuracy  = Test + "_" + Accuracy
	TestRecon     = Test + "_" + Recon
	TestKL        = Test + "_" + KL
	TestNegELBO   = Test + "_" + NegELBO
)

// BestOf is the key of a metric at the best validation step:
// BestOf("val_accuracy") is "best_val_accuracy".
func BestOf(key string) string { return "best_" + key }

// PerClass is the key of a metric on one class: PerClass("test_accuracy",
// "spiral") is "test_accuracy_spiral".
func PerClass(key, class string) string { return key + "_" + class }

// Result keys every command writes (train.CommonResults, train.Best).
const (
	Steps                = "steps" // optimiser steps done
	TrainSeconds         = "train_seconds"
	StepsPerSecond       = "steps_per_second"
	DivergedStepsSkipped = "diverged_steps_skipped"
	RSSMiB               = "rss_mib"      // resident memory at the end
	PeakRSSMiB           = "peak_rss_mib" // peak resident memory
	BestStep             = "best_step"
)

// Result keys of some commands.
const (
	StepSeconds      = "step_seconds" // time inside optimiser steps
	Epochs           = "epochs"       // epochs done, fractional after an early stop
	LastEpochSeconds = "last_epoch_seconds"
	SecondsPerEpoch  = "seconds_per_epoch"
	ImagesPerSecond  = "images_per_second"
	RSSFirstEval     = "rss_mib_first_eval"
	RSSLastEval      = "rss_mib_last_eval"
	TrainImages      = "train_images"
	ValImages        = "val_images"
	TestImages       = "test_images"
	ActiveUnits      = "active_units"
)

// rssAfterEpoch is RSSAfterEpoch's prefix.
const rssAfterEpoch = "rss_mib_epoch_"

// RSSAfterEpoch is the key of the resident memory after epoch n (from 1).
func RSSAfterEpoch(n int) string { return rssAfterEpoch + strconv.Itoa(n) }

// Keys of vae-galaxy's sample judgement (plots, samples.json): a judge
// classifies samples from a generator.
const (
	JudgeKNN        = "knn"   // the 5-NN pixel classifier
	JudgeCNN        = "judge" // a trained galaxy-classifier
	GenLatentRegion = "latent_region"
	GenCVAEPrior    = "cvae_prior"
	GenPrior        = "prior" // a conditional resnet-iaf's prior, decoded with the class
	JudgeChance     = "judge_chance"
	JudgeCeiling    = "judge_ceiling"
)

// JudgeTestAccuracy is the key of a judge's accuracy on real test images
// ("knn_test_accuracy").
func JudgeTestAccuracy(judge string) string { return judge + "_test_accuracy" }

// LatentKNNTestAccuracy is the 5-NN's test accuracy on the latent means.
const LatentKNNTestAccuracy = "latent_knn_test_accuracy"

// SampleAgreement is the key of the share of a generator's samples the
// judge assigns to their class ("samples_knn_agreement_latent_region");
// PerClass of it is one class's share.
func SampleAgreement(judge, gen string) string { return "samples_" + judge + "_agreement_" + gen }

// JudgeScore is the key of the CNN judge's scaled score of a generator:
// what is "scored", "normalised", "normalised_lo" or "normalised_hi".
func JudgeScore(gen, what string) string { return "samples_" + JudgeCNN + "_" + gen + "_" + what }

// Quantiles of the gradients' 2-norm before clipping over the optimiser
// steps of a run's last session (vae-galaxy; a resumed run's cover only the
// steps since it resumed), for choosing a clipping norm: the norm at rank
// floor(q*(n-1)) of the n sorted norms.
const (
	GradNormMedian = "grad_norm_median"
	GradNormP99    = "grad_norm_p99"
	GradNormMax    = "grad_norm_max"
)

// Keys of the importance-weighted bound (vae-galaxy iwae, iwae.json), added
// to the results when the report reads a run.
const (
	IWAETestNats          = "iwae_test_nats"
	IWAETestBitsPerDim    = "iwae_test_bits_per_dim"
	IWAETestK             = "iwae_test_k"
	IWAESubsetNats        = "iwae_subset_nats" // the subset at its larger k
	IWAESubsetK           = "iwae_subset_k"
	IWAESubsetAtTestKNats = "iwae_subset_at_test_k_nats"
)

// Files beside summary.json that the report reads.
const (
	MetricsFile = "metrics.csv"
	IWAEFile    = "iwae.json"    // vae-galaxy iwae
	SamplesFile = "samples.json" // vae-galaxy plots --judge
)

// Columns of metrics.csv. Every command's x axis is Step; vgg-mnist and
// vae-galaxy also write Epoch.
const (
	ColEpoch    = "epoch"
	ColStep     = "step"
	ColSplit    = "split"
	ColLoss     = Loss
	ColAccuracy = Accuracy
	ColRecon    = Recon
	ColKL       = KL
	ColBeta     = "beta"
	ColSeconds  = "seconds"
)

// CutRSSAfterEpoch returns the epoch of an RSSAfterEpoch key.
func CutRSSAfterEpoch(key string) (epoch string, ok bool) {
	return strings.CutPrefix(key, rssAfterEpoch)
}

// What a JudgeScore key holds.
const (
	ScoreScored       = "scored"
	ScoreNormalised   = "normalised"
	ScoreNormalisedLo = "normalised_lo"
	ScoreNormalisedHi = "normalised_hi"
)
