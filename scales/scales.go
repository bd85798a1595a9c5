// Package scales embeds the built-in instrument documents.
package scales

import "embed"

// FS holds the built-in documents, one YAML file per instrument.
//
//go:embed *.yaml
var FS embed.FS
