package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reconform/reconform/schema"
)

// ErrPlanStale is returned when a saved plan was made for another version
// of the configuration.
var ErrPlanStale = errors.New("the configuration changed since the plan was saved")

// WritePlan writes p as indented JSON. A plan holds no secret: provider
// attributes are never part of it.
func WritePlan(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

// maxPlanNesting bounds how deep a plan file nests: a plan written by
// WritePlan nests five levels.
const maxPlanNesting = 32

// ReadPlan reads a saved plan, refusing formats it does not know and
// instances whose keys do not match their queries.
func ReadPlan(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	if off, deep := schema.JSONTooDeep(data, maxPlanNesting); deep {
		// encoding/json recurses per level (up to 10,000): an edited file
		// must not get that far.
		return nil, fmt.Errorf("plan file is damaged: it nests more than %d levels deep (at byte %d); make the plan again", maxPlanNesting, off)
	}
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.FormatVersion == nil {
		return nil, fmt.Errorf("not a reconform plan file (expected JSON with a format_version)")
	}
	if *head.FormatVersion != PlanFormatVersion {
		return nil, fmt.Errorf("plan format version %d is not supported (this reconform reads version %d); make the plan again with this reconform", *head.FormatVersion, PlanFormatVersion)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	if p.ConfigHash == "" {
		return nil, fmt.Errorf("plan file has no config_hash")
	}
	for _, in := range p.Instances {
		if in.Key != in.Query.Key() {
			return nil, fmt.Errorf("plan file is damaged: instance %q does not match its query", in.Key)
		}
	}
	if _, err := p.Scope.schemaScope(); err != nil {
		return nil, err
	}
	p.FromFile = true
	return &p, nil
}

// WritePlanFile saves p at path atomically (temporary file, then rename),
// readable only by the owner since it describes the engagement.
func WritePlanFile(path string, p *Plan) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := WritePlan(tmp, p); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	return nil
}

// ReadPlanFile reads a plan saved by WritePlanFile.
func ReadPlanFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening plan: %w", err)
	}
	defer f.Close()
	p, err := ReadPlan(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// IsPlanFile reports whether path looks like a saved plan (a regular file
// that starts as a JSON object), so `apply PATH` can tell a plan from an
// engagement folder.
func IsPlanFile(path string) bool {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	for _, c := range buf[:n] {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
