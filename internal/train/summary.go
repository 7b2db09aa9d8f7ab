package train

import (
	"torchlab/internal/runrec"
	"torchlab/torch/memstat"
)

// CommonResults adds the keys every command's results carry: steps done,
// training time, step speed, and resident memory in MiB.
func CommonResults(res map[string]float64, r Result) {
	res[runrec.Steps] = float64(r.Done)
	res[runrec.TrainSeconds] = r.Seconds
	res[runrec.DivergedStepsSkipped] = float64(r.Skipped)
	if r.StepSeconds > 0 && len(r.Losses) > 0 {
		res[runrec.StepsPerSecond] = float64(len(r.Losses)) / r.StepSeconds
	}
	if rss, err := memstat.RSS(); err == nil {
		res[runrec.RSSMiB] = float64(rss) / (1 << 20)
	}
	if peak, err := memstat.PeakRSS(); err == nil {
		res[runrec.PeakRSSMiB] = float64(peak) / (1 << 20)
	}
}

// WriteSummary writes s to dir/summary.json (runrec.Write), with the git
// commit and the machine when s does not name them.
func WriteSummary(dir string, s runrec.Summary) error {
	if s.Commit == "" {
		s.Commit = GitCommit()
	}
	if s.Wall == 0 && !s.Started.IsZero() && !s.Finished.IsZero() {
		s.Wall = s.Finished.Sub(s.Started).Seconds()
	}
	if s.Machine == nil {
		m := ThisMachine()
		s.Machine = &m
	}
	return runrec.Write(dir, s)
}
