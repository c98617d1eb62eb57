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

// ErrPlanApplied is returned by CheckState for a saved plan the state
// says was applied already.
var ErrPlanApplied = errors.New("the saved plan was already applied")

// StateMovedError is returned by CheckState when the state is not the one
// the plan was made against: another run wrote it since, or it is another
// state altogether.
type StateMovedError struct {
	PlanLineage, StateLineage string
	PlanSerial, StateSerial   uint64
}

func (e *StateMovedError) Error() string {
	switch {
	case e.PlanLineage == "" && e.StateLineage != "":
		return fmt.Sprintf("the plan was made before there was a state; the state is now at serial %d", e.StateSerial)
	case e.PlanLineage != e.StateLineage && e.StateLineage == "":
		return fmt.Sprintf("the plan was made against state serial %d (lineage %s), and there is no state now", e.PlanSerial, e.PlanLineage)
	case e.PlanLineage != e.StateLineage:
		return fmt.Sprintf("the plan was made against another state (lineage %s, now %s)", e.PlanLineage, e.StateLineage)
	}
	return fmt.Sprintf("the plan was made against state serial %d; the state is now at serial %d", e.PlanSerial, e.StateSerial)
}

// CheckState reports whether the saved plan p may still be applied to
// the state with lineage and serial whose last run applied the plan with
// ID appliedPlan (empty lineage and serial 0: no state yet). A plan is an
// approval of what to run given what was known: once the state moved on,
// or once the plan was applied, it no longer is one (as in Terraform,
// hashicorp/terraform#4055).
func (p *Plan) CheckState(lineage string, serial uint64, appliedPlan string) error {
	if p.ID != "" && appliedPlan == p.ID {
		return ErrPlanApplied
	}
	if lineage != p.StateLineage || serial != p.StateSerial {
		return &StateMovedError{PlanLineage: p.StateLineage, StateLineage: lineage, PlanSerial: p.StateSerial, StateSerial: serial}
	}
	return nil
}

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
	if p.ID == "" {
		return nil, fmt.Errorf("plan file has no id")
	}
	for _, t := range p.Targets {
		if _, err := schema.ParseTargetAddr(t); err != nil {
			return nil, fmt.Errorf("plan file has an invalid target: %w", err)
		}
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

// SniffPlan reports whether the JSON file at path is a saved plan rather
// than a state (both are JSON objects): it reads top-level keys until one
// only a plan or only a state has, which for either comes within the
// first few keys, so a large state is not read through.
func SniffPlan(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case "reconform_version", "blocks", "predictions", "state_serial":
			return true
		case "lineage", "findings", "facts", "serial", "run":
			return false
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
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
