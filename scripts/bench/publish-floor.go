// Command publish-floor measures the durable-publish floor of a bench corpus on
// this filesystem: what publishing it costs with no download, no verification
// and no runtime overhead (the bench's F; see scripts/bench/legs.ts).
//
// Usage: publish-floor LIST OUT CONCURRENCY [nosync]
//
// LIST has one line per version: its three proxy paths (.info .mod .zip,
// relative to the proxy root) and their sizes, "path size path size path
// size". For every version, CONCURRENCY goroutines at once write each of its
// files and a 512-byte lookup file to a new temporary file, fsync it, close
// it and rename it into OUT (creating directories); at the end every distinct
// directory is fsynced once, the least a durable publish can do. With
// "nosync" nothing is fsynced (what the fsyncs cost is the difference).
// It prints the versions and seconds as JSON.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lookupBytes is the size of the lookup file written per version (a record and a signed tree head).
const lookupBytes = 512

type file struct {
	rel  string
	size int
}

type floor struct {
	out, tmp string
	durable  bool
	mu       sync.Mutex
	dirs     map[string]bool
	seq      int
}

func (f *floor) write(rel string, data []byte) error {
	target := filepath.Join(f.out, rel)
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f.mu.Lock()
	f.seq++
	tmp := filepath.Join(f.tmp, strconv.Itoa(f.seq))
	f.dirs[dir] = true
	f.mu.Unlock()
	h, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err = h.Write(data); err == nil && f.durable {
		err = h.Sync()
	}
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, target)
}

func (f *floor) version(files []file, zeros []byte) error {
	for _, x := range files {
		if err := f.write(x.rel, zeros[:x.size]); err != nil {
			return err
		}
	}
	mod := strings.TrimSuffix(files[0].rel, ".info")
	return f.write(filepath.Join("sumdb", "lookup", mod), zeros[:lookupBytes])
}

func (f *floor) syncDirs() error {
	if !f.durable {
		return nil
	}
	for d := range f.dirs {
		h, err := os.Open(d)
		if err != nil {
			return err
		}
		err = h.Sync()
		h.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func readList(name string) ([][]file, int, error) {
	h, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer h.Close()
	var versions [][]file
	largest := lookupBytes
	sc := bufio.NewScanner(h)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 6 {
			return nil, 0, fmt.Errorf("bad line %q", sc.Text())
		}
		var v []file
		for i := 0; i < 6; i += 2 {
			n, err := strconv.Atoi(fields[i+1])
			if err != nil {
				return nil, 0, err
			}
			if n > largest {
				largest = n
			}
			v = append(v, file{fields[i], n})
		}
		versions = append(versions, v)
	}
	return versions, largest, sc.Err()
}

func run() error {
	if len(os.Args) < 4 {
		return fmt.Errorf("usage: publish-floor LIST OUT CONCURRENCY [nosync]")
	}
	versions, largest, err := readList(os.Args[1])
	if err != nil {
		return err
	}
	conc, err := strconv.Atoi(os.Args[3])
	if err != nil || conc < 1 {
		return fmt.Errorf("bad concurrency %q", os.Args[3])
	}
	f := &floor{out: os.Args[2], tmp: filepath.Join(os.Args[2], ".tmp"), durable: len(os.Args) < 5, dirs: map[string]bool{}}
	if err := os.MkdirAll(f.tmp, 0o700); err != nil {
		return err
	}
	zeros := make([]byte, largest)
	start := time.Now()
	jobs := make(chan []file)
	var first error
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range jobs {
				// After a failure the rest are drained unwritten, so the sender never blocks.
				f.mu.Lock()
				failed := first != nil
				f.mu.Unlock()
				if failed {
					continue
				}
				if err := f.version(v, zeros); err != nil {
					f.mu.Lock()
					first = err
					f.mu.Unlock()
				}
			}
		}()
	}
	for _, v := range versions {
		jobs <- v
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	if err := f.syncDirs(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"versions": len(versions), "seconds": time.Since(start).Seconds()})
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "publish-floor:", err)
		os.Exit(1)
	}
}
