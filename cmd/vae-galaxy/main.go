// Command vae-galaxy trains variational autoencoders on Galaxy Zoo images
// and draws their figures.
//
//	vae-galaxy [train] --arch conv --epochs 200 --out out/vae-galaxy/conv
//	vae-galaxy plots --out out/vae-galaxy/conv [--class spiral]
//	vae-galaxy plots --compare out/vae-galaxy/mlp out/vae-galaxy/conv out/vae-galaxy/resnet --out out/vae-galaxy
//	vae-galaxy iwae --out out/vae-galaxy/conv [--k 100 --subset-size 100 --subset-k 1000]
//	vae-galaxy plots --out out/vae-galaxy/conv --judge out/galaxy-classifier
//	vae-galaxy export --format pt|safetensors --out conv.pt out/vae-galaxy/conv
//
// train writes metrics.csv, summary.json, the figures and a checkpoint/
// folder into --out; Ctrl-C saves a checkpoint that --resume continues from.
// plots redraws every figure from metrics.csv and the checkpoint without
// training; with --compare it draws the reconstruction curves of several
// runs in one figure. iwae scores the test images of a trained run with the
// importance-weighted bound on log p(x) and writes iwae.json. The galaxy
// CNN that judges the samples (plots --judge) is galaxy-classifier's.
package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/pflag"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/train"
	"torchlab/models/vae"
)

// Each libtorch call must come from one OS thread (see torch/torchrt).
func init() { runtime.LockOSThread() }

func main() {
	cli.Main("vae-galaxy", func(args []string) error {
		ctx, stop := cli.Interruptible()
		defer stop()
		return dispatch(ctx, args, os.Stdout, os.Stderr)
	})
}

// command is vae-galaxy's help: its subcommands, examples and the
// architectures (--help-long).
var command = cli.Command{
	Name:    "vae-galaxy",
	Summary: "trains variational autoencoders on Galaxy Zoo images and draws their figures",
	Subcommands: []cli.Subcommand{
		{Name: "train", Args: "[flags]", Summary: "train a VAE; Ctrl-C saves a checkpoint, --resume continues"},
		{Name: "plots", Args: "--out DIR [flags]", Summary: "redraw a run's figures; --compare DIR... draws several runs' curves together"},
		{Name: "iwae", Args: "--out DIR [flags]", Summary: "score a run's test images with the importance-weighted bound; writes iwae.json"},
		{Name: "export", Args: "--format pt|safetensors --out FILE RUN_DIR", Summary: "write a run's best (else last) weights as a PyTorch state_dict"},
	},
	Examples: []string{
		"vae-galaxy train --arch conv --epochs 2 --data-size 400 --out out/vae-try",
		"vae-galaxy train --arch conv --epochs 200 --out out/vae-galaxy/conv",
		"vae-galaxy plots --out out/vae-galaxy/conv --class spiral",
		"vae-galaxy plots --compare out/vae-galaxy/mlp out/vae-galaxy/conv --out out/vae-galaxy",
		"vae-galaxy iwae --out out/vae-galaxy/conv --k 100",
	},
}

func init() {
	command.Long = archHelp + "\n--resume continues <out>/checkpoint with its configuration; only " +
		train.MayChangeList(resumeMayChange) + " may change.\n"
}

// dispatch runs the subcommand that args name.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := command.Dispatch(args, stdout, stderr)
	if err != nil {
		return err
	}
	switch sub {
	case "export":
		return cli.Export("vae-galaxy", args, stderr, nil)
	case "iwae":
		cfg, err := parseIWAE(args, stdout, stderr)
		if err != nil {
			return err
		}
		return runIWAE(cfg)
	case "plots":
		cfg, err := parsePlots(args, stdout, stderr)
		if err != nil {
			return err
		}
		return runPlots(cfg)
	default:
		cfg, err := parseTrain(args, stdout, stderr)
		if err != nil {
			return err
		}
		return cfg.InOut(filepath.Join(cfg.Out, "checkpoint"), func() error { return runTrain(ctx, cfg, cli.Logger(stderr)) })
	}
}

// resumeMayChange are the train flags a resumed run may change (besides
// train.AlwaysMayChange): how long, when to evaluate and save, which class
// the figures show, where the image cache is, the weights' memory layout.
var resumeMayChange = []string{"epochs", "eval-every", "train-eval-every", "save-every", "class", "cache-dir", "workers", "channels-last",
	"patience"}

// parseTrain fills a Config from the train flags; with --resume it is the
// checkpoint's configuration (train.Resume).
func parseTrain(args []string, stdout, stderr io.Writer) (Config, error) {
	return cli.ParseTrain(&command, args, stdout, stderr, cli.TrainFlags[Config]{
		Defaults: func() Config { return Config{} },
		Register: registerTrainFlags,
		Common:   func(c *Config) *cli.Common { return &c.Common },
		Parsed: func(c *Config) {
			if c.Out == "" {
				c.Out = "out/vae-galaxy/" + c.Arch
			}
			if c.Arch != "resnet-iaf" {
				// resnet-iaf's settings: another arch's run does not record them.
				c.SpatialZ, c.IAFSteps = 0, 0
			}
		},
		MayChange: resumeMayChange,
		KeepOut:   true,
	})
}

// registerTrainFlags registers the train flags on fs, bound to c.
func registerTrainFlags(c *Config, fs *pflag.FlagSet) error {
	c.Common.AddFlags(fs, "")
	// OpenBLAS's default of one thread per core fights libtorch's threads
	// for the cores (docs/decisions.md).
	if err := cli.SetDefault(fs, "blas-threads", "1", "OpenBLAS threads (1: its default of one per core made the conv VAE's epochs 2x slower)"); err != nil {
		return err
	}
	fs.StringVar(&c.Arch, "arch", "conv", "encoder/decoder pair: mlp, conv, resnet, or resnet-iaf (the IAF paper's hierarchical ResNet VAE: a global and a spatial latent, top-down inference, IAF posteriors; --help-long)")
	fs.IntVar(&c.Epochs, "epochs", 30, "epochs to train (in total, counting resumed ones)")
	fs.IntVar(&c.BatchSize, "batch-size", 64, "images per step")
	fs.Float64Var(&c.LR, "lr", 1e-3, "Adam learning rate")
	fs.Int64Var(&c.ZDim, "z-dim", 32, "latent dimensions")
	fs.Float64Var(&c.Beta, "beta", 1, "weight of the KL term (1 = the ELBO)")
	fs.IntVar(&c.ImageSize, "image-size", 64, "side of the images after crop and resize (a multiple of 32 for conv and resnet)")
	fs.IntVar(&c.Crop, "crop", 212, "centre crop of the 424x424 originals, in pixels, before resizing")
	fs.IntVar(&c.EvalEvery, "eval-every", 0, "evaluate on the test split every this many steps (0: at the end of every epoch)")
	fs.IntVar(&c.TrainEvalEvery, "train-eval-every", 5, "evaluate the whole training split in eval mode every this many epochs and at the end (metrics.csv split train-full; 0: never)")
	fs.IntVar(&c.SaveEvery, "save-every", 5, "save a checkpoint every this many epochs (and at the end and on Ctrl-C)")
	fs.StringVar(&c.Class, "class", "spiral", "class to generate in the samples figure: "+classList())
	fs.Float64Var(&c.TestFraction, "test-fraction", 0.2, "fraction of the galaxies held out for testing")
	fs.Float64Var(&c.ValFraction, "val-fraction", 0.1, "fraction of the training galaxies held out for validation, stratified by class; the best validation -ELBO keeps its model in <out>/best (0: none)")
	fs.BoolVar(&c.SkipBad, "skip-bad", false, "skip missing or corrupt images (counted in the log) instead of failing")
	fs.StringVar(&c.CacheDir, "cache-dir", "", "where prepared images are cached (default: the user cache dir)")
	fs.IntVar(&c.Limit, "data-size", 0, "use only the first N galaxies of the CSV (0: all)")
	fs.IntVar(&c.Workers, "workers", runtime.NumCPU(), "JPEG decoding goroutines")
	fs.BoolVar(&c.Conditional, "conditional", false, "conditional VAE: encoder features and z also get the one-hot class (resnet-iaf: encoder features, and FiLM on every decoder stage)")
	fs.IntVar(&c.KLWarmup, "kl-warmup", 0, "raise beta linearly from 0 over this many epochs (0: no warm-up)")
	fs.Float64Var(&c.FreeBits, "free-bits", 0, "floor in nats on each latent dimension's KL in the loss (resnet-iaf: on each latent channel's, a spatial channel summed over its pixels; 0: none)")
	fs.StringVar(&c.Likelihood, "likelihood", string(vae.Bernoulli), "decoder likelihood p(x|z): bernoulli (the assignment's BCE on pixel values in [0,1]; its nats are not a likelihood of 8-bit images) or logistic (discretised logistic over the 256 values of each pixel and channel: a normalised likelihood, bits/dim as in the literature)")
	fs.Float64Var(&c.ClipGradNorm, "clip-grad-norm", 0, "scale the gradients to at most this 2-norm before each update (0: no clipping)")
	fs.Int64Var(&c.SpatialZ, "spatial-z", 4, "resnet-iaf: channels of the spatial latent group (at a side of --image-size/8)")
	fs.Int64Var(&c.IAFSteps, "iaf-steps", 2, "resnet-iaf: inverse autoregressive flow steps in each group's posterior")
	fs.IntVar(&c.Patience, "patience", 0, "stop when the validation -ELBO has not improved for this many epochs (0: train all --epochs)")
	if err := cli.Rename(fs, "limit", "data-size"); err != nil {
		return err
	}
	fs.BoolVar(&c.ChannelsLast, "channels-last", false, "train with the convolution weights laid out channels-last (speed only: the same numbers within float rounding)")
	return nil
}

// archHelp describes the four --arch choices for --help-long.
const archHelp = `Architectures (--arch; each decoder mirrors its encoder, z has --z-dim dimensions):
  mlp     flatten -> linear 512 -> ReLU -> linear 512 -> ReLU -> mu, logvar;
          decoder z -> 512 -> 512 -> 3*S*S logits.
  conv    five 4x4 stride-2 convolutions with 32, 64, 128, 256, 512 filters, each
          followed by BatchNorm and LeakyReLU(0.2); decoder: linear, four 4x4
          stride-2 transposed convolutions (512 -> 32) with BatchNorm and LeakyReLU,
          and one to 3 channels.
  resnet  five residual blocks, each halving the side: 3x3 stride-2 conv, BN,
          ReLU, 3x3 conv, BN, plus the shortcut, then ReLU; 32 ... 512 filters.
          Decoder: five blocks doubling the side (4x4 stride-2 transposed conv
          first), 512 -> 256 -> 128 -> 64 -> 32 -> 32, then a 3x3 conv to 3 channels.
          Shortcuts: every block's is a projection (1x1 stride-2 conv + BN down,
          2x2 stride-2 transposed conv + BN up), none is an identity: each of the
          ten blocks changes the side, and all but the last also the channels,
          so x itself has the wrong shape to add to the block's output.
  resnet-iaf  the IAF paper's ResNet VAE (Kingma et al. 2016) on the resnet's
          blocks, with two latent groups: a global z1 (--z-dim, prior N(0, I))
          from the encoder's last block, and a spatial z2 (--spatial-z channels
          at S/8 x S/8) whose prior comes from the top-down path (z1 -> linear
          -> two up blocks) and whose posterior adds a bottom-up part (from the
          encoder at S/8) to a top-down part: prior and posterior share the
          top-down path. Each posterior sample goes through --iaf-steps steps of
          inverse autoregressive flow (masked MADE layers, alternating orders);
          the KL is the one-sample estimate log q(z|x) - log p(z), reported per
          group (summary.json: <split>_kl_z1, <split>_kl_z2). Then a 3x3 conv
          merges z2 into the path and three up blocks (64, 32, 32) and a 3x3
          conv give the image. With --conditional the class joins the encoder's
          features and modulates every decoder stage (FiLM: h*(1+gamma)+beta per
          channel from the class). plots skips the figures that assume one
          Gaussian latent (latent views, class samples around class means) and
          draws prior_samples.png (per class when conditional).
`

// PlotsConfig is what the plots subcommand needs.
type PlotsConfig struct {
	Out      string
	Class    string
	Compare  []string
	DataDir  string
	CacheDir string
	Threads  int
	Judge    string
}

func parsePlots(args []string, stdout, stderr io.Writer) (PlotsConfig, error) {
	var c PlotsConfig
	fs := command.FlagSet("plots", stdout, stderr)
	fs.StringVar(&c.Out, "out", "", "run folder to redraw (or, with --compare, where the comparison goes)")
	fs.StringVar(&c.Class, "class", "", "class for the samples figure (default: the run's --class)")
	fs.StringSliceVar(&c.Compare, "compare", nil, "run folders whose reconstruction curves go into one figure")
	fs.StringVar(&c.DataDir, "data-dir", "", "data folder (default: the run's)")
	fs.StringVar(&c.CacheDir, "cache-dir", "", "image cache folder (default: the run's)")
	fs.IntVar(&c.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads")
	fs.StringVar(&c.Judge, "judge", "", "classifier run (galaxy-classifier --out DIR) that judges the samples instead of the 5-NN; the numbers go to <out>/samples.json")
	if err := command.Parse(fs, args, true); err != nil {
		return c, err
	}
	// Also accept the folders as positional arguments after --compare.
	c.Compare = append(c.Compare, fs.Args()...)
	if c.Out == "" {
		return c, cli.Usagef("plots: --out is required")
	}
	if len(fs.Args()) > 0 && len(c.Compare) == len(fs.Args()) {
		return c, cli.Usagef("plots: unexpected arguments %q (did you mean --compare?)", fs.Args())
	}
	return c, nil
}

func classList() string {
	s := ""
	for c := datasets.Class(0); c < datasets.NumClasses; c++ {
		if c > 0 {
			s += ", "
		}
		s += c.String()
	}
	return s
}
