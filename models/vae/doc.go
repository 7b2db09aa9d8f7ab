// Package vae is a variational autoencoder for small RGB images (Galaxy Zoo)
// with three interchangeable encoder/decoder pairs: a multi-layer perceptron
// ("mlp"), a strided convolutional net with a mirrored transposed-conv
// decoder ("conv") and a residual net ("resnet"); and a fourth,
// "resnet-iaf", the IAF paper's hierarchical ResNet VAE: a global and a
// spatial latent group, top-down inference and inverse autoregressive flow
// in the posterior (arch_resnet_iaf.go, iaf.go).
//
// The encoder outputs the mean and the log-variance of a diagonal Gaussian
// q(z|x); the reparameterisation z = mu + exp(logvar/2)*eps happens inside
// the model; the decoder returns one Bernoulli logit per pixel and channel.
// The two terms of the loss are pure functions, KLDivergence and
// BernoulliNLL (docs/theory.md derives both).
//
// A conditional model (Config.Conditional) also sees a one-hot class: it is
// concatenated to the encoder's flattened features, before the mean and
// log-variance heads, and to z, before the decoder.
//
// Parameter names follow the module tree of scripts/reference/vae_galaxy.py,
// so a PyTorch state_dict and this model's variables match name for name.
package vae
