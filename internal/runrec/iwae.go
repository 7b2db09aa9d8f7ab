package runrec

// Bound is one importance-weighted score of a set of images.
type Bound struct {
	Images   int     `json:"images"`
	K        int     `json:"k"`
	NLL      float64 `json:"nll_nats"`         // -(importance-weighted bound), mean over images
	NLLBits  float64 `json:"nll_bits_per_dim"` // the same in bits per dimension
	ELBO     float64 `json:"neg_elbo_nats"`    // -(mean log-weight): the K-sample ELBO estimate
	ELBOBits float64 `json:"neg_elbo_bits_per_dim"`
	Seconds  float64 `json:"seconds"`
}

// IWAE is iwae.json (IWAEFile), written by vae-galaxy iwae.
type IWAE struct {
	Run   string `json:"run"`
	Model string `json:"model"` // the checkpoint folder scored
	Step  int    `json:"step"`
	Split string `json:"split"`
	Dims  int64  `json:"dims"` // values per image (channels x side x side)
	// Likelihood is the decoder's p(x|z) (vae.Likelihood); bounds under
	// different likelihoods are different quantities and never compared.
	Likelihood string `json:"likelihood"`
	Note       string `json:"note"`
	Ranks      int    `json:"ranks"` // processes that shared the images (torchlab-run)
	Test       Bound  `json:"test"`
	Subset     *Bound `json:"subset,omitempty"`      // the first images at SubsetK
	SubsetAt   *Bound `json:"subset_at_k,omitempty"` // the same images at K, from the test pass
	Command    string `json:"command"`
}
