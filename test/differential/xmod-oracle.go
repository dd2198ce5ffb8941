// Command xmod-oracle answers questions about module paths, versions,
// patterns and module zips with the Go team's own code (golang.org/x/mod, as
// Debian's golang-golang-x-mod-dev installs it), one JSON request per line on
// stdin, one JSON answer per line on stdout. gomirror's differential test
// (differential.e2e.test.ts) compares its own answers with these.
//
// Build in GOPATH mode against Debian's sources:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o xmod-oracle xmod-oracle.go
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// request is one question; which fields matter depends on Op.
type request struct {
	Op      string `json:"op"`
	S       string `json:"s"`
	T       string `json:"t"`
	Path    string `json:"path"`
	Version string `json:"version"`
	File    string `json:"file"`
}

// answer is the reply: OK false with Err when Go reports an error, Out for
// string results (an h1 for CreateZip), N for Compare.
type answer struct {
	OK  bool   `json:"ok"`
	Out string `json:"out,omitempty"`
	N   int    `json:"n"`
	Err string `json:"err,omitempty"`
}

func fromErr(err error) answer {
	if err != nil {
		return answer{OK: false, Err: err.Error()}
	}
	return answer{OK: true}
}

func fromString(s string, err error) answer {
	if err != nil {
		return answer{OK: false, Err: err.Error()}
	}
	return answer{OK: true, Out: s}
}

func respond(r request) answer {
	switch r.Op {
	case "CheckPath":
		return fromErr(module.CheckPath(r.S))
	case "CheckImportPath":
		return fromErr(module.CheckImportPath(r.S))
	case "CheckFilePath":
		return fromErr(module.CheckFilePath(r.S))
	case "Check":
		return fromErr(module.Check(r.Path, r.Version))
	case "CanonicalVersion":
		return answer{OK: true, Out: module.CanonicalVersion(r.S)}
	case "IsPseudoVersion":
		return answer{OK: module.IsPseudoVersion(r.S)}
	case "EscapePath":
		return fromString(module.EscapePath(r.S))
	case "EscapeVersion":
		return fromString(module.EscapeVersion(r.S))
	case "UnescapePath":
		return fromString(module.UnescapePath(r.S))
	case "UnescapeVersion":
		return fromString(module.UnescapeVersion(r.S))
	case "MatchPrefixPatterns":
		return answer{OK: module.MatchPrefixPatterns(r.S, r.T)}
	case "SemverIsValid":
		return answer{OK: semver.IsValid(r.S)}
	case "SemverCompare":
		return answer{OK: true, N: semver.Compare(r.S, r.T)}
	case "SemverMajor":
		return answer{OK: true, Out: semver.Major(r.S)}
	case "SemverPrerelease":
		return answer{OK: true, Out: semver.Prerelease(r.S)}
	case "SemverBuild":
		return answer{OK: true, Out: semver.Build(r.S)}
	case "CheckZip":
		_, err := zip.CheckZip(module.Version{Path: r.Path, Version: r.Version}, r.File)
		return fromErr(err)
	case "CreateZip":
		return createZip(r)
	}
	return answer{OK: false, Err: fmt.Sprintf("unknown op %q", r.Op)}
}

// createZip writes the module zip of directory r.S for r.Path@r.Version to
// r.File exactly as the go command would, and answers its dirhash h1.
func createZip(r request) answer {
	f, err := os.Create(r.File)
	if err != nil {
		return fromErr(err)
	}
	err = zip.CreateFromDir(f, module.Version{Path: r.Path, Version: r.Version}, r.S)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fromErr(err)
	}
	return fromString(dirhash.HashZip(r.File, dirhash.Hash1))
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "xmod-oracle: bad request: %v\n", err)
			os.Exit(2)
		}
		if err := enc.Encode(respond(r)); err != nil {
			fmt.Fprintf(os.Stderr, "xmod-oracle: %v\n", err)
			os.Exit(2)
		}
		out.Flush()
	}
	out.Flush()
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "xmod-oracle: %v\n", err)
		os.Exit(2)
	}
}
