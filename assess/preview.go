package assess

import "xinling/engine"

// InstrumentPreview is a public instrument as a respondent would read it,
// without starting a session: the console shows it to staff choosing a
// battery, and nothing here is scored or stored.
type InstrumentPreview struct {
	ID           string            `json:"id"`
	Version      string            `json:"version"`
	Kind         string            `json:"kind"`
	Title        string            `json:"title"`
	Description  string            `json:"description,omitempty"`
	Instructions string            `json:"instructions"`
	Minutes      float64           `json:"minutes"`
	Items        []PreviewItemView `json:"items"`
}

// PreviewItemView is an item with whether it only appears after some
// answers, so a preview can say so instead of hiding it.
type PreviewItemView struct {
	ItemView
	Conditional bool `json:"conditional,omitempty"`
}

// Preview returns a public-catalogue instrument's latest version with every
// item. Instruments outside the public catalogue answer instrument_unknown,
// as POST /sessions does, so the endpoint reveals no more than the catalogue.
func (s *Sessions) Preview(id, locale string) (*InstrumentPreview, error) {
	in, ok := s.catalog.SelfTest(id)
	if !ok {
		return nil, errorf(CodeInstrumentUnknown, "instrument", "no self-test instrument %q", id)
	}
	return previewOf(in, locale), nil
}

// previewOf is an instrument's items as a respondent reads them.
func previewOf(in *engine.Instrument, locale string) *InstrumentPreview {
	d := in.Doc
	p := &InstrumentPreview{ID: d.ID, Version: d.Version, Kind: d.Kind, Title: d.Title.Get(locale),
		Description: d.Description.Get(locale), Instructions: d.Instructions.Get(locale), Minutes: d.Minutes,
		Items: make([]PreviewItemView, 0, len(d.Items))}
	for _, it := range d.Items {
		p.Items = append(p.Items, PreviewItemView{ItemView: itemView(in, it.ID, d.ID+"."+it.ID, locale), Conditional: it.When != ""})
	}
	return p
}
