package runrec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSplitLegend(t *testing.T) {
	s := &Split{Train: 55000, Val: 5000, Test: 10000, Unit: "images", TrainEval: Count(10000) + "-image sample, eval mode"}
	var none *Split
	for _, tt := range []struct {
		split *Split
		name  string
		want  string
	}{
		{s, Train, "train (10,000-image sample, eval mode)"},
		{s, Val, "validation (5,000 images)"},
		{s, Test, "test (10,000 images)"},
		{s, TrainFull, "train (all 55,000 images, eval mode)"},
		{none, Train, "train"},
		{none, Val, "validation"},
	} {
		if got := tt.split.Legend(tt.name); got != tt.want {
			t.Errorf("Legend(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMigrate has one row per old shape of the results.
func TestMigrate(t *testing.T) {
	const mb = 1e6 / (1 << 20)
	for _, tt := range []struct {
		name     string
		old, new map[string]float64
	}{
		{"current keys stay", map[string]float64{Steps: 10, Epochs: 2, PeakRSSMiB: 500}, map[string]float64{Steps: 10, Epochs: 2, PeakRSSMiB: 500}},
		{"vgg-mnist epoch and epoch_seconds", map[string]float64{"epoch": 5, "epoch_seconds": 300}, map[string]float64{Epochs: 5, LastEpochSeconds: 300}},
		{"lstm-tweets iterations beside steps", map[string]float64{"iterations": 100, Steps: 100}, map[string]float64{Steps: 100}},
		{"lstm-tweets iterations alone", map[string]float64{"iterations": 100}, map[string]float64{Steps: 100}},
		{"lstm-tweets iterations per second", map[string]float64{"train_iterations_per_second": 80}, map[string]float64{StepsPerSecond: 80}},
		{"memory in megabytes", map[string]float64{"peak_rss_mb": 1000, "rss_mb_first_eval": 100, "rss_mb_last_eval": 200, "rss_mb_epoch_3": 300},
			map[string]float64{PeakRSSMiB: 1000 * mb, RSSFirstEval: 100 * mb, RSSLastEval: 200 * mb, RSSAfterEpoch(3): 300 * mb}},
		{"a current key wins", map[string]float64{"peak_rss_mb": 1000, PeakRSSMiB: 900}, map[string]float64{PeakRSSMiB: 900}},
	} {
		s := &Summary{Results: tt.old}
		Migrate(s)
		if !reflect.DeepEqual(s.Results, tt.new) {
			t.Errorf("%s: %v, want %v", tt.name, s.Results, tt.new)
		}
	}
	Migrate(nil)
	Migrate(&Summary{})
}

func TestMetricsHeaderMigrates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, MetricsFile)
	old := "iteration,split,loss,accuracy,seconds\n1000,train,0.5,0.75,10\n2000,te" // a row cut short by a crash
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := MigrateMetricsFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "step,split,loss,accuracy,seconds\n1000,train,0.5,0.75,10\n2000,te"; string(raw) != want {
		t.Errorf("migrated file %q, want %q", raw, want)
	}
	if err := MigrateMetricsFile(path); err != nil { // current: left alone
		t.Fatal(err)
	}
	if err := MigrateMetricsFile(filepath.Join(dir, "none.csv")); err != nil {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("iteration,split,loss\n1,test,0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if x, _, err := tab.Series(ColStep, ColLoss, ColSplit, Test); err != nil || len(x) != 1 || x[0] != 1 {
		t.Errorf("old metrics.csv read by step: %v, %v", x, err)
	}
}

func TestReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	type config struct {
		Model struct {
			Hidden int `json:"hidden"`
		} `json:"model"`
		LR float64 `json:"lr"`
	}
	var cfg config
	cfg.Model.Hidden, cfg.LR = 128, 1e-3
	in := Summary{Command: "x train", Config: cfg, Results: map[string]float64{"epoch": 3}, Split: &Split{Train: 9}, Best: &Best{Metric: "val_loss", Found: true, Step: 4}}
	if err := Write(dir, in); err != nil {
		t.Fatal(err)
	}
	s, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Results[Epochs] != 3 || s.Split.Train != 9 || s.Best.Step != 4 {
		t.Errorf("read back %+v", s)
	}
	for _, c := range []map[string]any{s.ConfigMap(), in.ConfigMap()} {
		if c["model.hidden"] != 128.0 || c["lr"] != 1e-3 {
			t.Errorf("ConfigMap = %v", c)
		}
	}
	if sp, err := ReadSplit(dir); err != nil || sp.Train != 9 {
		t.Errorf("ReadSplit = %+v, %v", sp, err)
	}
	if sp, err := ReadSplit(t.TempDir()); err != nil || sp != nil {
		t.Errorf("ReadSplit without a summary = %+v, %v", sp, err)
	}
}

func TestFigWeightsMatrixN(t *testing.T) {
	if FigWeightsMatrixN(1) != FigWeightsMatrix || FigWeightsMatrixN(2) != "weights_matrix_2.png" {
		t.Error(FigWeightsMatrixN(1), FigWeightsMatrixN(2))
	}
}
