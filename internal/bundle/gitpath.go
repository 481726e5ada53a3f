package bundle

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// GitLocation is where a bundle folder sits in a Git work tree.
type GitLocation struct {
	// Top is the work tree's top level.
	Top string
	// Path is the folder's path from Top, slash-separated and clean: "."
	// for Top itself, "clusters/prod" for a folder two levels down. It is
	// the path a Flux GitRepository of the repository finds the folder at.
	Path string
	// Ignored is true when Git ignores the bundle's manifest in the
	// folder (a .gitignore rule such as /out/): the bundle there is not
	// meant to be committed.
	Ignored bool
}

// LocateGit returns where dir, a bundle folder that need not exist yet,
// sits in the Git work tree that contains it, or nil when no work tree
// contains it, git is not installed or a file stands where the folder
// would be. It looks from the nearest folder
// of dir that exists, as render creates the rest.
func LocateGit(dir string) (*GitLocation, error) {
	loc, err := locateGit(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("locate %s in Git: %w", dir, err)
	}
	return loc, nil
}

// locateGit is LocateGit with the environment of the git processes; nil
// means the environment of this process.
func locateGit(dir string, env []string) (*GitLocation, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	existing := nearestExisting(abs)
	if info, err := os.Stat(existing); err == nil && !info.IsDir() {
		// A file where the folder would be: no folder to locate; writing
		// the bundle there fails with its own error.
		return nil, nil
	}
	rest, err := filepath.Rel(existing, abs)
	if err != nil {
		return nil, err
	}
	if env == nil {
		env = os.Environ()
	}
	// Git's messages in English, to tell "not a git repository" apart.
	env = append(env[:len(env):len(env)], "LC_ALL=C")
	g, prefix, err := findWorkTree(existing, env)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return nil, nil
	case err != nil && strings.Contains(err.Error(), "not a git repository"):
		return nil, nil
	case err != nil:
		return nil, err
	}
	loc := &GitLocation{Top: g.top, Path: path.Join(".", prefix, filepath.ToSlash(rest))}
	// check-ignore takes no --literal-pathspecs; it matches the path
	// against the ignore rules, it does not expand it.
	_, err = runGit(g.top, g.env, nil, "check-ignore", "-q", "--", path.Join(loc.Path, ManifestPath))
	switch code, ok := exitCode(err); {
	case err == nil:
		loc.Ignored = true
	case ok && code == 1:
	default:
		return nil, err
	}
	return loc, nil
}

// nearestExisting returns dir, or its nearest parent that exists.
func nearestExisting(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// SamePath reports whether two slash-separated paths from a repository's
// root name the same folder: "./clusters/prod/" and "clusters/prod" do,
// and so do "" and ".".
func SamePath(a, b string) bool {
	return path.Clean("./"+a) == path.Clean("./"+b)
}
