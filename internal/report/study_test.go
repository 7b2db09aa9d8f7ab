package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeStudy(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLikelihoodLead(t *testing.T) {
	path := writeStudy(t, `{"table": [
		{"arch": "mlp", "seeds": 3, "test_bits_k100": 4.753, "test_bits_k100_se": 0.0269},
		{"arch": "conv", "seeds": 3, "test_bits_k100": 4.4387, "test_bits_k100_se": 0.0082},
		{"arch": "resnet", "seeds": 1, "test_bits_k100": 4.5, "test_bits_k100_se": null}],
	"paired": [
		{"a": "conv", "b": "mlp", "k": 100, "images": 813, "seeds": 3, "diff_nats": 2677.03, "diff_bits_per_dim": 0.3143,
		 "se_images_nats": 88.1, "se_seeds_nats": 178.4, "verdict": "conv better"},
		{"a": "conv", "b": "mlp", "k": 1000, "images": 200, "seeds": 3, "diff_nats": 3139.7, "diff_bits_per_dim": 0.3686,
		 "se_images_nats": 188.5, "se_seeds_nats": 236.6, "verdict": "conv better"}]}`)
	got, err := likelihoodLead(path, "[Appendix D](#d)")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		// Best bound first; one seed has no standard error.
		"is conv 4.439 ± 0.008 (3 seeds), resnet 4.500 (1 seed, no standard error), mlp 4.753 ± 0.027 (3 seeds) bits/dim",
		"Paired on the same 813 test galaxies, conv − mlp is 2,677 nats/image (0.314 bits/dim; SE 88 over images, 178 over seeds): conv better.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lead lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "3,140") {
		t.Errorf("lead quotes the k=1000 subset, want only the whole test split:\n%s", got)
	}
}

func TestLikelihoodLeadMissingIsEmpty(t *testing.T) {
	got, err := likelihoodLead(filepath.Join(t.TempDir(), "results.json"), "x")
	if err != nil || got != "" {
		t.Fatalf("no results.json: got %q, %v; want nothing and no error", got, err)
	}
}

func TestLikelihoodLeadRejectsBadFiles(t *testing.T) {
	for name, body := range map[string]string{
		"markup in a model name": `{"table": [{"arch": "<img src=x onerror=alert(1)>", "seeds": 1, "test_bits_k100": 4}]}`,
		"markup in a verdict": `{"table": [{"arch": "conv", "seeds": 1, "test_bits_k100": 4}],
			"paired": [{"a": "conv", "b": "mlp", "k": 100, "verdict": "<script>x</script>"}]}`,
		"NaN":       `{"table": [{"arch": "conv", "seeds": 1, "test_bits_k100": NaN}]}`,
		"truncated": `{"table": [`,
	} {
		path := writeStudy(t, body)
		got, err := likelihoodLead(path, "x")
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %q, error %v; want an error naming %s", name, got, err, path)
		}
	}
}

func TestSeedsLead(t *testing.T) {
	path := writeStudy(t, `{"seeds": [1, 2, 3], "split_seed": 1,
		"val": {"mean": 0.8068, "se": 0.0012}, "test": {"mean": 0.80153, "se": 0.00071}, "last": {"mean": 0.8, "se": 0.001}}`)
	got, err := seedsLead(path, "seeds.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "**The chosen recipe over 3 init seeds** (one data split, split seed 1; [table](seeds.md)): the best-validation " +
		"checkpoint's test accuracy is **80.15 ± 0.07 %** (mean ± standard error over seeds), its validation accuracy 80.68 ± 0.12 %."
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	one := writeStudy(t, `{"seeds": [1], "split_seed": 1, "val": {"mean": 0.8, "se": null}, "test": {"mean": 0.8, "se": null}}`)
	if got, err := seedsLead(one, "x"); got != "" || err != nil {
		t.Errorf("one seed: got %q, %v; want nothing (the headline already says it)", got, err)
	}
	for name, body := range map[string]string{
		"no test mean": `{"seeds": [1, 2], "val": {"mean": 0.8}}`,
		"NaN":          `{"seeds": [1, 2], "val": {"mean": NaN}, "test": {"mean": 0.8}}`,
	} {
		bad := writeStudy(t, body)
		if _, err := seedsLead(bad, "x"); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: error %v, want one naming %s", name, err, bad)
		}
	}
}
