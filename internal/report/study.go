package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// likelihoodStudy is the part of the Galaxy VAE study's results.json
// (written by its summarize.py) that the main part quotes. A standard
// error is null where one seed gives none.
type likelihoodStudy struct {
	Table []struct {
		Arch   string   `json:"arch"`
		Seeds  int      `json:"seeds"`
		Bits   *float64 `json:"test_bits_k100"`
		BitsSE *float64 `json:"test_bits_k100_se"`
	} `json:"table"`
	Paired []struct {
		A        string   `json:"a"`
		B        string   `json:"b"`
		K        int      `json:"k"`
		Images   int      `json:"images"`
		Seeds    int      `json:"seeds"`
		DiffNats float64  `json:"diff_nats"`
		DiffBits float64  `json:"diff_bits_per_dim"`
		SEImages *float64 `json:"se_images_nats"`
		SESeeds  *float64 `json:"se_seeds_nats"`
		Verdict  string   `json:"verdict"`
	} `json:"paired"`
}

// modelName is what an architecture name in a study file may look like;
// anything else is not quoted into the report.
var modelName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// likelihoodLead says the likelihood study's result in two sentences for
// the main part: each model's test bound in bits/dim over its seeds, and
// each paired difference on the whole test split with its standard errors
// and verdict. It returns "" when the study has no results.json yet, and
// an error naming the file when it cannot be read or holds a model name
// or verdict that is not plain words.
func likelihoodLead(path, appendixLink string) (string, error) {
	var st likelihoodStudy
	if found, err := readOptionalJSON(path, &st); !found || err != nil {
		return "", err
	}
	sort.SliceStable(st.Table, func(i, j int) bool { return lessBits(st.Table[i].Bits, st.Table[j].Bits) })
	var models []string
	for i, t := range st.Table {
		if !modelName.MatchString(t.Arch) {
			return "", fmt.Errorf("read %s: table row %d: model name %q is not lower-case words", path, i+1, t.Arch)
		}
		if t.Bits == nil {
			continue
		}
		if t.BitsSE == nil {
			models = append(models, fmt.Sprintf("%s %s (%s, no standard error)", t.Arch, fixedN(*t.Bits, 3), count(t.Seeds, "seed", "seeds")))
			continue
		}
		models = append(models, fmt.Sprintf("%s %s ± %s (%s)", t.Arch, fixedN(*t.Bits, 3), fixedN(*t.BitsSE, 3), count(t.Seeds, "seed", "seeds")))
	}
	if len(models) == 0 {
		return "", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**With a likelihood of 8-bit images** (a discretised logistic decoder; one data split, several init seeds; %s): "+
		"the test bound, k=100, is %s bits/dim, mean ± standard error over seeds.", appendixLink, strings.Join(models, ", "))
	for i, p := range st.Paired {
		if p.K != 100 {
			continue
		}
		if !modelName.MatchString(p.A) || !modelName.MatchString(p.B) || !plainWords.MatchString(p.Verdict) {
			return "", fmt.Errorf("read %s: paired row %d: model names or verdict are not plain words", path, i+1)
		}
		ses := []string{}
		if p.SEImages != nil {
			ses = append(ses, "SE "+thousands(*p.SEImages)+" over images")
		}
		if p.SESeeds != nil {
			ses = append(ses, thousands(*p.SESeeds)+" over seeds")
		}
		fmt.Fprintf(&b, " Paired on the same %s test galaxies, %s − %s is %s nats/image (%s bits/dim; %s): %s.",
			thousands(p.Images), p.A, p.B, thousands(p.DiffNats), fixedN(p.DiffBits, 3), strings.Join(ses, ", "), p.Verdict)
	}
	return b.String(), nil
}

var plainWords = regexp.MustCompile(`^[A-Za-z0-9 ().,-]{1,120}$`)

// lessBits orders known bounds before unknown ones, smaller first.
func lessBits(a, b *float64) bool {
	if a == nil || b == nil {
		return a != nil
	}
	return *a < *b
}

func fixedN(f float64, decimals int) string { return strconv.FormatFloat(f, 'f', decimals, 64) }

// seedSummary is a seeds.json of scripts/seed_table.py: one recipe's
// accuracies over init seeds on one data split. A standard error is null
// for one seed.
type seedSummary struct {
	Seeds     []int64 `json:"seeds"`
	SplitSeed int64   `json:"split_seed"`
	Val       meanSE  `json:"val"`
	Test      meanSE  `json:"test"`
}

type meanSE struct {
	Mean *float64 `json:"mean"`
	SE   *float64 `json:"se"`
}

func (m meanSE) percent() string {
	if m.SE == nil {
		return percent(*m.Mean, 2) + " (one seed)"
	}
	return fixedN(100**m.Mean, 2) + " ± " + fixedN(100**m.SE, 2) + " %"
}

// seedsLead says in one sentence what the chosen recipe gives over its
// init seeds, from its seeds.json at path, linking to the table at
// tableLink; "" when there is no seeds.json or it holds one seed.
func seedsLead(path, tableLink string) (string, error) {
	var s seedSummary
	if found, err := readOptionalJSON(path, &s); !found || err != nil {
		return "", err
	}
	if s.Val.Mean == nil || s.Test.Mean == nil {
		return "", fmt.Errorf("read %s: no mean validation or test accuracy", path)
	}
	if len(s.Seeds) < 2 {
		return "", nil
	}
	return fmt.Sprintf("**The chosen recipe over %d init seeds** (one data split, split seed %d; [table](%s)): the best-validation "+
		"checkpoint's test accuracy is **%s** (mean ± standard error over seeds), its validation accuracy %s.",
		len(s.Seeds), s.SplitSeed, tableLink, s.Test.percent(), s.Val.percent()), nil
}

// readOptionalJSON decodes the JSON file at path into v; found is false,
// with no error, when there is no such file.
func readOptionalJSON(path string, v any) (found bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return true, nil
}

// studyResultsPath is the results.json of a part's study folder.
func (w *writer) studyResultsPath(spec *partSpec) string {
	return filepath.Join(w.cfg.ResultsDir, spec.command, spec.study, "results.json")
}
