package runrec

import "strconv"

// Figure names in a run's folder: the commands draw them, the report shows
// them by these names.
const (
	// vgg-mnist and lstm-tweets
	FigLoss          = "loss.png"
	FigAccuracy      = "accuracy.png"
	FigTrainLoss     = "train_loss.png"
	FigTestLoss      = "test_loss.png"
	FigTrainAccuracy = "train_accuracy.png"
	FigTestAccuracy  = "test_accuracy.png"

	// vae-galaxy
	FigReconCurve      = "recon_curve.png"
	FigReconstruction  = "reconstructions.png"
	FigLatentPCA       = "latent_pca.png"
	FigLatentTSNE      = "latent_tsne.png"
	FigLatentLDA       = "latent_lda.png"
	FigClassSamples    = "class_samples.png"
	FigClassSamplesAll = "class_samples_all.png"
	FigWeightsFilters  = "weights_filters.png"
	FigWeightsMatrix   = "weights_matrix.png" // the first layer's; FigWeightsMatrixN names the others
	FigReconCompare    = "recon_compare.png"
	FigPriorSamples    = "prior_samples.png" // a hierarchical model's (resnet-iaf) samples of its prior
)

// FigWeightsMatrixN names the weight-matrix figure of fully connected layer
// n (from 1): FigWeightsMatrix for the first, weights_matrix_<n>.png after.
func FigWeightsMatrixN(n int) string {
	if n <= 1 {
		return FigWeightsMatrix
	}
	return "weights_matrix_" + strconv.Itoa(n) + ".png"
}
