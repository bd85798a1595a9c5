package printout

// Color is an RGB colour. The zero value means "not set": a series without
// a colour takes the next one of the default palette.
type Color struct{ R, G, B uint8 }

func (c Color) isZero() bool { return c == Color{} }

// The warning-level colours, as on the console's queue.
var (
	Red    = Color{211, 47, 47}
	Orange = Color{245, 124, 0}
	Yellow = Color{251, 192, 45}
)

// LevelColor is the colour of a warning level: 1 red, 2 orange, 3 yellow;
// any other level has the zero Color.
func LevelColor(l Level) Color {
	switch l {
	case 1:
		return Red
	case 2:
		return Orange
	case 3:
		return Yellow
	}
	return Color{}
}

// bandStops run from the mildest band to the most severe.
var bandStops = []Color{{67, 160, 71}, {156, 204, 101}, {253, 216, 53}, {251, 140, 0}, {229, 57, 53}}

// BandColors gives n colours for an instrument's bands ordered from the
// mildest (green) to the most severe (red), spread evenly along
// green, light green, yellow, orange and red.
func BandColors(n int) []Color {
	out := make([]Color, n)
	for i := range out {
		if n == 1 {
			out[i] = bandStops[0]
			continue
		}
		pos := float64(i) / float64(n-1) * float64(len(bandStops)-1)
		k := int(pos)
		if k >= len(bandStops)-1 {
			out[i] = bandStops[len(bandStops)-1]
			continue
		}
		out[i] = mix(bandStops[k], bandStops[k+1], pos-float64(k))
	}
	return out
}

// palette colours series that bring none: distinct in print and to readers
// with red-green colour blindness, and clear of the level colours.
var palette = []Color{{30, 100, 170}, {90, 170, 210}, {120, 90, 160}, {70, 140, 120}, {150, 150, 150}, {190, 140, 90}}

func mix(a, b Color, t float64) Color {
	f := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t + 0.5) }
	return Color{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B)}
}

// tint lightens c towards white, for cell backgrounds.
func tint(c Color, t float64) Color { return mix(c, Color{255, 255, 255}, t) }
