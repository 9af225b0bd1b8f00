package serve

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher turns file system events under the served paths into one
// "changed" message per burst: editors write a file in several steps
// (truncate, write, rename over), and a `git checkout` touches many files;
// compiling once the paths have been quiet for the debounce interval sees
// the finished state once.
type watcher struct {
	fs      *fsnotify.Watcher
	changes chan string
	done    chan struct{}
	logf    func(string, ...any)
	// files are the served regular files; dirs the watched directories
	// (directories named on the command line, their subdirectories, and the
	// directories of named files: watching a file's directory survives
	// editors that replace the file).
	files map[string]bool
	dirs  map[string]bool
	roots []string
}

func newWatcher(paths []string, debounce time.Duration, logf func(string, ...any)) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{fs: fw, changes: make(chan string, 1), done: make(chan struct{}), logf: logf,
		files: map[string]bool{}, dirs: map[string]bool{}}
	for _, p := range paths {
		if p == "-" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			fw.Close()
			return nil, err
		}
		w.roots = append(w.roots, abs)
		info, err := os.Stat(abs)
		switch {
		case err != nil:
			// Not there yet: watch its directory so its creation is seen.
			w.addDir(filepath.Dir(abs))
			w.files[abs] = true
		case info.IsDir():
			w.addTree(abs)
		default:
			w.files[abs] = true
			w.addDir(filepath.Dir(abs))
		}
	}
	go w.loop(debounce)
	return w, nil
}

func (w *watcher) addDir(d string) {
	if w.dirs[d] {
		return
	}
	if err := w.fs.Add(d); err != nil {
		w.logf("watch: cannot watch %s: %v", d, err)
		return
	}
	w.dirs[d] = true
}

// addTree watches d and every directory below it.
func (w *watcher) addTree(d string) {
	_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if e.IsDir() {
			w.addDir(p)
		}
		return nil
	})
}

// relevant reports whether an event on path can change the input: a served
// file, or a manifest (or directory) under a served directory.
func (w *watcher) relevant(path string) bool {
	if w.files[path] {
		return true
	}
	for _, r := range w.roots {
		if path == r || strings.HasPrefix(path, r+string(filepath.Separator)) {
			if w.dirs[path] {
				return true
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				return true
			}
		}
	}
	return false
}

func (w *watcher) loop(debounce time.Duration) {
	var timer *time.Timer
	var fire <-chan time.Time
	changed := map[string]bool{}
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() && w.underRoot(ev.Name) {
					w.addTree(ev.Name)
				}
			}
			if !w.relevant(ev.Name) || ev.Op == fsnotify.Chmod {
				continue
			}
			changed[ev.Name] = true
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				if !timer.Stop() {
					select {
					case <-timer.C:
					default:
					}
				}
				timer.Reset(debounce)
			}
			fire = timer.C
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.logf("watch: %v", err)
		case <-fire:
			fire = nil
			names := make([]string, 0, len(changed))
			for n := range changed {
				names = append(names, filepath.Base(n))
			}
			sort.Strings(names)
			clear(changed)
			what := "changed: " + strings.Join(names, ", ")
			if len(names) > 5 {
				what = "changed: " + strings.Join(names[:5], ", ") + ", …"
			}
			select {
			case w.changes <- what:
			default:
				// A compile is already pending; it will see this change too.
			}
		}
	}
}

func (w *watcher) underRoot(p string) bool {
	for _, r := range w.roots {
		if p == r || strings.HasPrefix(p, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func (w *watcher) close() {
	close(w.done)
	w.fs.Close()
}
