package printout

// Strings lists every text the document prints (bookmarks included), in
// document order, so that a report builder's tests can scan a model for
// raw codes such as score or band ids without rendering it.
func (d *Document) Strings() []string {
	out := []string{d.Title, d.Header, d.Marking, d.Footer}
	if c := d.Cover; c != nil {
		out = append(out, c.Title, c.Subtitle, c.Marking)
		out = appendKVs(out, c.Facts)
		if c.Notice != nil {
			out = append(out, c.Notice.Title, c.Notice.Text)
		}
	}
	for _, b := range d.Blocks {
		switch b := b.(type) {
		case *Heading:
			out = append(out, b.Text)
		case *Paragraph:
			out = append(out, b.Text)
		case *KVList:
			out = appendKVs(out, b.Items)
		case *Notice:
			out = append(out, b.Title, b.Text)
		case *Table:
			out = append(out, b.Caption)
			for _, c := range b.Columns {
				out = append(out, c.Title)
			}
			for _, row := range b.Rows {
				for _, c := range row {
					out = append(out, c.Text)
				}
			}
		case *BarChart:
			out = append(out, b.Title, b.ValueAxis, b.CategoryAxis, b.Unit)
			out = append(out, b.Categories...)
			for _, s := range b.Series {
				out = append(out, s.Name)
			}
		case *ProfileChart:
			out = append(out, b.Title, b.NormLabel)
			for _, p := range b.Dimensions {
				out = append(out, p.Label, p.Text)
			}
		}
	}
	kept := out[:0]
	for _, s := range out {
		if s != "" {
			kept = append(kept, s)
		}
	}
	return kept
}

func appendKVs(out []string, kvs []KV) []string {
	for _, kv := range kvs {
		out = append(out, kv.Label, kv.Value)
	}
	return out
}
