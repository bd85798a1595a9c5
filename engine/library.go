package engine

import (
	"fmt"
	"io/fs"
	pathpkg "path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/semver"
)

// Library holds instruments by id and version. It is safe for concurrent
// use: readers take an immutable snapshot without locking, because every
// answer and submit looks instruments up, while versions are added rarely
// (at start, and when a custom version is published) by copying it.
type Library struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[map[string][]*Instrument]
}

// NewLibrary returns an empty library.
func NewLibrary() *Library {
	l := &Library{}
	empty := map[string][]*Instrument{}
	l.snap.Store(&empty)
	return l
}

func (l *Library) byID() map[string][]*Instrument { return *l.snap.Load() }

// Clone returns a library holding the same instruments, to which versions
// can be added without changing this one.
func (l *Library) Clone() *Library {
	c := &Library{}
	snap := l.byID()
	c.snap.Store(&snap)
	return c
}

// Add adds an instrument. A version can be added once: a published version
// never changes, so a second document with the same id and version is an error.
func (l *Library) Add(in *Instrument) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.byID()
	versions := cur[in.ID()]
	for _, v := range versions {
		if v.Version() == in.Version() {
			return fmt.Errorf("%s: %s version %s is already loaded from %s", in.File, in.ID(), in.Version(), v.File)
		}
	}
	versions = append(slices.Clone(versions), in)
	sort.Slice(versions, func(a, b int) bool {
		return semver.Compare("v"+versions[a].Version(), "v"+versions[b].Version()) < 0
	})
	next := make(map[string][]*Instrument, len(cur)+1)
	for id, vs := range cur {
		next[id] = vs
	}
	next[in.ID()] = versions
	l.snap.Store(&next)
	return nil
}

// Get returns an instrument by id and version; an empty version means the latest.
func (l *Library) Get(id, version string) (*Instrument, bool) {
	versions := l.byID()[id]
	if len(versions) == 0 {
		return nil, false
	}
	if version == "" {
		return versions[len(versions)-1], true
	}
	for _, v := range versions {
		if v.Version() == version {
			return v, true
		}
	}
	return nil, false
}

// Versions lists every version of id, oldest first.
func (l *Library) Versions(id string) []*Instrument {
	return slices.Clone(l.byID()[id])
}

// GetHash returns the version of id whose document has the given hash, so
// a stored result can be rescored with exactly the document that made it.
func (l *Library) GetHash(id, hash string) (*Instrument, bool) {
	for _, v := range l.byID()[id] {
		if v.Hash == hash {
			return v, true
		}
	}
	return nil, false
}

// Latest lists the latest version of every instrument, by id.
func (l *Library) Latest() []*Instrument {
	byID := l.byID()
	out := make([]*Instrument, 0, len(byID))
	for _, versions := range byID {
		out = append(out, versions[len(versions)-1])
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID() < out[b].ID() })
	return out
}

// CheckReferences reports follow-up instruments that the library lacks.
func (l *Library) CheckReferences() Problems {
	var ps Problems
	for _, versions := range l.byID() {
		for _, in := range versions {
			ps = append(ps, l.checkFollowUps(in)...)
		}
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].String() < ps[b].String() })
	return ps
}

// CheckFollowUps reports follow-up instruments of in that the library lacks.
func (l *Library) CheckFollowUps(in *Instrument) Problems { return l.checkFollowUps(in) }

func (l *Library) checkFollowUps(in *Instrument) Problems {
	var ps Problems
	for _, ref := range in.followUps {
		if _, ok := l.Get(ref.Message, ""); !ok {
			p := ref
			p.Message = fmt.Sprintf("follow_up names unknown instrument %q", ref.Message)
			ps = append(ps, p)
		}
	}
	return ps
}

// LoadFS loads every .yaml document in dir of fsys into a new library,
// reporting every problem of every document and every broken reference.
func LoadFS(fsys fs.FS, dir string) (*Library, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			names = append(names, pathpkg.Join(dir, e.Name()))
		}
	}
	// Documents load in parallel: each load scores thousands of patterns.
	type loaded struct {
		in  *Instrument
		err error
	}
	results := make([]loaded, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				results[i].err = err
				return
			}
			results[i].in, results[i].err = Load(name, data)
		}()
	}
	wg.Wait()
	lib := NewLibrary()
	var ps Problems
	for i, r := range results {
		if r.err != nil {
			if p, ok := AsProblems(r.err); ok {
				ps = append(ps, p...)
				continue
			}
			return nil, r.err
		}
		if err := lib.Add(r.in); err != nil {
			ps = append(ps, Problem{File: names[i], Line: 1, Col: 1, Message: err.Error()})
		}
	}
	ps = append(ps, lib.CheckReferences()...)
	if len(ps) > 0 {
		return lib, ps
	}
	return lib, nil
}
