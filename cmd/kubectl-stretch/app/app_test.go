package app

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/bundle"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

const example = "../../../testdata/topology.yaml"

// kubectlInstall says how to install kubectl, for testenv.Tool.
const kubectlInstall = "kubectl from https://kubernetes.io/docs/tasks/tools/"

// run runs the command line and returns the exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	code := Run(context.Background(), streams, args)
	return code, out.String(), errOut.String()
}

// runStdin runs the command line with stdin as its standard input and
// returns the exit code, stdout and stderr.
func runStdin(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	code := Run(context.Background(), streams, args)
	return code, out.String(), errOut.String()
}

// spreadPolicyList wraps one manifest in a ResourceList whose
// functionConfig is a SpreadPolicy over sto1 and sto2, as kustomize
// hands it to fn.
func spreadPolicyList(manifest string) string {
	return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " +
		strings.ReplaceAll(strings.TrimSuffix(manifest, "\n"), "\n", "\n  ") +
		"\nfunctionConfig: {apiVersion: stretch.dev/v1alpha1, kind: SpreadPolicy, metadata: {name: p}, spec: {dataZones: [sto1, sto2]}}\n"
}

func genericTestStreams() (genericiooptions.IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	return genericiooptions.NewTestIOStreams()
}

// tree returns every file under dir with its content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rttWarning is validate's warning about the example's 12 ms RTT.
func rttWarning(errOut string) bool {
	return strings.HasPrefix(errOut, "warning: "+example+":16:23: spec.network.interRegionRTTms: 12 ms is above the 10 ms") &&
		strings.Count(errOut, "\n") == 1
}

func TestValidate(t *testing.T) {
	t.Setenv(TopologyEnv, "") // the "no -f" case must not find one
	code, out, errOut := run(t, "validate", "-f", example)
	if code != 0 || out != example+": topology demo-eu is valid (3 regions, 11 nodes)\n" || !rttWarning(errOut) {
		t.Errorf("valid: code %d, out %q, err %q", code, out, errOut)
	}
	// A topology of the invalid corpus, next to the workloads its source
	// names, so that only the rules fail.
	corpus := "../../../testdata/topologies/invalid/etcd-even"
	want, err := os.ReadFile(corpus + ".err")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(corpus + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	workdir := t.TempDir()
	bad := filepath.Join(workdir, "etcd-even.yaml")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(workdir, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(workdir, "apps", "shop.yaml"), topology.ExampleWorkloads(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The corpus names files by their base name.
	want = bytes.ReplaceAll(want, []byte("etcd-even.yaml:"), []byte(bad+":"))
	code, out, errOut = run(t, "validate", "-f", bad)
	lines := strings.Count(strings.TrimSpace(string(want)), "\n") + 1
	if code != ExitFailed || out != "" || !strings.HasPrefix(errOut, string(want)) || !strings.HasSuffix(errOut, ": "+strconv.Itoa(lines)+" error(s); nothing was written\n") {
		t.Errorf("invalid: code %d, out %q, stderr:\n%s\nwant it to start with:\n%s", code, out, errOut, want)
	}
	code, _, errOut = run(t, "validate")
	if code != ExitError || errOut != "error: -f TOPOLOGY (or STRETCH_TOPOLOGY) is required\n" {
		t.Errorf("no -f: code %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, "validate", "-f", "does-not-exist.yaml")
	if code != ExitFailed || !strings.Contains(errOut, "does-not-exist.yaml") {
		t.Errorf("missing file: code %d, stderr %q", code, errOut)
	}

	// A workload source that does not exist is a field error of the
	// topology, for validate and render alike, and nothing is written.
	dir := t.TempDir()
	data, err = os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(topo, data, 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(data[:bytes.Index(data, []byte("- path: apps"))]), "\n") + 1
	want = []byte(topo + ":" + strconv.Itoa(line) + ":13: spec.workloads.sources[0].path: workloads folder " +
		filepath.Join(dir, "apps") + " does not exist (paths are relative to the topology file's folder)\n" +
		topo + ": 1 error(s); nothing was written\n")
	for _, args := range [][]string{{"validate", "-f", topo}, {"render", "-f", topo, "-o", filepath.Join(dir, "out")}} {
		code, out, errOut = run(t, args...)
		if code != ExitFailed || out != "" || errOut != string(want) {
			t.Errorf("%s with a missing source: code %d, out %q, stderr:\n%s\nwant:\n%s", args[0], code, out, errOut, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("render wrote %s: %v", filepath.Join(dir, "out"), err)
	}
}

// Every command that takes -f TOPOLOGY falls back to STRETCH_TOPOLOGY,
// and -f wins over it.
func TestTopologyEnv(t *testing.T) {
	t.Setenv(TopologyEnv, example)
	code, out, errOut := run(t, "validate")
	if code != 0 || out != example+": topology demo-eu is valid (3 regions, 11 nodes)\n" || !rttWarning(errOut) {
		t.Errorf("validate with %s: code %d, out %q, err %q", TopologyEnv, code, out, errOut)
	}
	code, out, errOut = run(t, "render", "-o", filepath.Join(t.TempDir(), "bundle"))
	if code != 0 || !strings.HasSuffix(out, ": 45 added, 0 changed, 0 removed, 0 unchanged\n") {
		t.Errorf("render with %s: code %d\n%s%s", TopologyEnv, code, out, errOut)
	}
	t.Setenv(TopologyEnv, "does-not-exist.yaml")
	code, out, errOut = run(t, "validate", "-f", example)
	if code != 0 || out != example+": topology demo-eu is valid (3 regions, 11 nodes)\n" || !rttWarning(errOut) {
		t.Errorf("-f over %s: code %d, out %q, err %q", TopologyEnv, code, out, errOut)
	}
}

func TestRenderTwiceCheckAndUserFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bundle")
	code, out, errOut := run(t, "render", "-f", example, "-o", dir)
	if code != 0 {
		t.Fatalf("render: code %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "added    "+filepath.ToSlash(dir)+"/storage/rook/cluster/cephcluster.yaml\n") ||
		!strings.HasSuffix(out, dir+": 45 added, 0 changed, 0 removed, 0 unchanged\n") {
		t.Errorf("render output:\n%s", out)
	}
	first := tree(t, dir)
	if _, ok := first[".stretch/manifest"]; !ok {
		t.Fatal("no .stretch/manifest")
	}

	// A file of the user's, next to the bundle and inside its folders.
	userFiles := map[string]string{"README.md": "mine\n", "storage/rook/cluster/extra.yaml": "kind: Mine\n"}
	for p, c := range userFiles {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = run(t, "render", "-f", example, "-o", dir)
	if code != 0 || out != dir+": 0 added, 0 changed, 0 removed, 45 unchanged\n" {
		t.Errorf("second render: code %d\n%s", code, out)
	}
	second := tree(t, dir)
	for p, c := range first {
		if second[p] != c {
			t.Errorf("%s changed between two renders", p)
		}
	}
	for p, c := range userFiles {
		if second[p] != c {
			t.Errorf("user file %s: %q after render", p, second[p])
		}
	}

	code, out, _ = run(t, "render", "-f", example, "-o", dir, "--check")
	if code != 0 || out != dir+" is up to date (45 files)\n" {
		t.Errorf("check on a fresh bundle: code %d, out %q", code, out)
	}
	etcd := filepath.Join(dir, "kubespray", "group_vars", "all", "etcd.yml")
	if err := os.WriteFile(etcd, []byte(strings.Replace(first["kubespray/group_vars/all/etcd.yml"], `"5000"`, `"1000"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "render", "-f", example, "-o", dir, "--check")
	if code != ExitFailed || !strings.Contains(out, "-etcd_election_timeout: \"1000\"\n+etcd_election_timeout: \"5000\"\n") || !strings.Contains(errOut, "is not what render would write") {
		t.Errorf("check on a stale bundle: code %d\nout:\n%s\nerr:\n%s", code, out, errOut)
	}
	// --check wrote nothing.
	if data, _ := os.ReadFile(etcd); !strings.Contains(string(data), `"1000"`) {
		t.Error("--check rewrote a file")
	}
	// The hint repeats the flags that shape the bundle.
	mixin := "../../../testdata/mixins/mgr-three.jsonnet"
	code, _, errOut = run(t, "render", "-f", example, "-o", dir, "--check", "--mixin", mixin)
	if want := "run kubectl stretch render -f " + example + " -o " + dir + " --mixin " + mixin + "\n"; code != ExitFailed || !strings.HasSuffix(errOut, want) {
		t.Errorf("check with a mixin: code %d, stderr:\n%s\nwant it to end with %q", code, errOut, want)
	}
}

func TestRenderInvalidWritesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bundle")
	code, out, errOut := run(t, "render", "-f", "../../../testdata/topologies/invalid/etcd-2-1-0.yaml", "-o", dir)
	if code != ExitFailed || out != "" || !strings.Contains(errOut, "nothing was written") {
		t.Errorf("code %d\nout %q\nerr %s", code, out, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("render of an invalid topology created %s", dir)
	}
	code, _, errOut = run(t, "render", "-f", example, "-o", dir, "--mixin", "../../../testdata/mixins/pool-size-3.jsonnet")
	if code != ExitFailed || !strings.Contains(errOut, "[rook-pools]") {
		t.Errorf("broken mixin: code %d, err %s", code, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused render created %s", dir)
	}
}

func TestRenderCommit(t *testing.T) {
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q")
	git("config", "user.name", "Test")
	git("config", "user.email", "test@example.invalid")
	if err := os.WriteFile(filepath.Join(repo, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(repo, "clusters", "demo")
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	// A render without --commit first: the later --commit still commits
	// what it wrote.
	if code, out, errOut := run(t, "render", "-f", example, "-o", dir); code != 0 {
		t.Fatalf("render: code %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := run(t, "render", "-f", example, "-o", dir, "--commit")
	if code != 0 || !strings.HasSuffix(out, "committed: stretch: render demo-eu\n") {
		t.Fatalf("render --commit: code %d\n%s%s", code, out, errOut)
	}
	files := git("show", "--name-only", "--format=", "HEAD")
	if strings.Contains(files, "notes.txt") || !strings.Contains(files, "clusters/demo/.stretch/manifest\n") || strings.Count(files, "\n") != 46 {
		t.Errorf("committed files:\n%s", files)
	}
	if st := git("status", "--porcelain"); st != "?? notes.txt\n" {
		t.Errorf("status after commit: %q", st)
	}
	code, out, _ = run(t, "render", "-f", example, "-o", dir, "--commit")
	if code != 0 || !strings.HasSuffix(out, "nothing to commit\n") {
		t.Errorf("second render --commit: code %d\n%s", code, out)
	}
}

func TestInit(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "topology.yaml")
	if code, _, errOut := run(t, "init", "-o", p); code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	if code, out, errOut := run(t, "validate", "-f", p); code != 0 {
		t.Errorf("the example init writes is invalid: %s%s", out, errOut)
	}
	if code, _, errOut := run(t, "init", "-o", p); code != ExitError || !strings.Contains(errOut, "pass --force") {
		t.Errorf("init over an existing file: %d %s", code, errOut)
	}
	code, out, _ := run(t, "init")
	data, _ := os.ReadFile(p)
	if code != 0 || out != string(data) {
		t.Error("init to stdout differs from init -o")
	}
	apps := filepath.Join(filepath.Dir(p), "apps", "shop.yaml")
	if got, err := os.ReadFile(apps); err != nil || !bytes.Equal(got, topology.ExampleWorkloads()) {
		t.Errorf("init did not write the example workloads to %s: %v", apps, err)
	}
	// A second init with --force rewrites the topology, never the user's
	// workloads.
	if err := os.WriteFile(apps, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "init", "-o", p, "--force"); code != 0 {
		t.Fatalf("init --force: %d %s", code, errOut)
	}
	if got, _ := os.ReadFile(apps); string(got) != "mine\n" {
		t.Errorf("init --force changed %s: %q", apps, got)
	}
}

// TestKubectlPluginDiscovery installs the binary on PATH as kubectl-stretch
// and runs it through the real kubectl's plugin discovery.
func TestKubectlPluginDiscovery(t *testing.T) {
	kubectl := testenv.Tool(t, "kubectl", kubectlInstall)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-stretch"), "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+filepath.Join(bin, "none"))
	kc := func(args ...string) (string, error) {
		cmd := exec.Command(kubectl, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := kc("plugin", "list", "--name-only")
	if err != nil || !strings.Contains(out, "kubectl-stretch\n") {
		t.Errorf("kubectl plugin list: %v\n%s", err, out)
	}
	out, err = kc("stretch", "version")
	if err != nil || !strings.HasPrefix(out, "kubectl-stretch ") {
		t.Errorf("kubectl stretch version: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "out")
	out, err = kc("stretch", "render", "-f", example, "-o", dir)
	if err != nil || !strings.Contains(out, "45 added") {
		t.Errorf("kubectl stretch render: %v\n%s", err, out)
	}
	out, err = kc("stretch", "validate", "-f", "../../../testdata/topologies/invalid/etcd-even.yaml")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitFailed {
		t.Errorf("kubectl stretch validate on an invalid file: %v\n%s", err, out)
	}
	out, _ = kc("stretch", "--help")
	if !strings.Contains(out, "kubectl stretch [command]") {
		t.Errorf("help should say kubectl stretch:\n%s", out)
	}
}

// TestRenderCommitRefusesMergeInProgress refuses render --commit, before
// writing, with staged changes, during a merge and on a detached HEAD.
func TestRenderCommitRefusesMergeInProgress(t *testing.T) {
	repo := t.TempDir()
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("config", "user.name", "Test")
	git("config", "user.email", "test@example.invalid")
	git("commit", "-q", "--allow-empty", "-m", "one")
	dir := filepath.Join(repo, "clusters", "demo")
	// Changes the user staged would go into render's commit: refused
	// before anything is written.
	if err := os.WriteFile(filepath.Join(repo, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "notes.txt")
	code, out, errOut := run(t, "render", "-f", example, "-o", dir, "--commit")
	if code != ExitError || out != "" || !strings.Contains(errOut, "the git index already holds staged changes") {
		t.Errorf("render --commit with staged changes: code %d\nout %q\nerr %s", code, out, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused render --commit created %s", dir)
	}
	git("commit", "-q", "-m", "notes")
	git("switch", "-q", "-c", "side")
	git("commit", "-q", "--allow-empty", "-m", "two")
	git("switch", "-q", "main")
	git("merge", "-q", "--no-ff", "--no-commit", "side")
	code, out, errOut = run(t, "render", "-f", example, "-o", dir, "--commit")
	if code != ExitError || out != "" || !strings.Contains(errOut, "a merge is in progress in "+repo) {
		t.Errorf("render --commit during a merge: code %d\nout %q\nerr %s", code, out, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused render --commit created %s", dir)
	}
	git("merge", "--abort")
	git("switch", "-q", "--detach")
	code, _, errOut = run(t, "render", "-f", example, "-o", dir, "--commit")
	if code != ExitError || !strings.Contains(errOut, "HEAD is detached in "+repo) {
		t.Errorf("render --commit on a detached HEAD: code %d\nerr %s", code, errOut)
	}
	code, out, errOut = run(t, "render", "-f", example, "-o", dir, "--commit", "--allow-detached-head")
	if code != 0 || !strings.HasSuffix(out, "committed: stretch: render demo-eu\n") {
		t.Errorf("render --commit --allow-detached-head: code %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "render", "-f", example, "-o", dir, "--allow-detached-head"); code != ExitError || !strings.Contains(errOut, "--allow-detached-head needs --commit") {
		t.Errorf("--allow-detached-head without --commit: code %d, err %s", code, errOut)
	}
}

func TestRenderLockedFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bundle")
	lock, err := bundle.LockDir(context.Background(), dir, bundle.LockOptions{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	want := dir + " is locked by pid " + strconv.Itoa(os.Getpid()) + " (another kubectl stretch render or check); gave up after 200ms"
	for _, args := range [][]string{{}, {"--check"}} {
		code, out, errOut := run(t, append([]string{"render", "-f", example, "-o", dir, "--lock-timeout", "200ms"}, args...)...)
		if code != ExitError || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("render %v into a locked folder: code %d\nout %q\nerr %s", args, code, out, errOut)
		}
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "render", "-f", example, "-o", dir, "--lock-timeout", "200ms"); code != 0 {
		t.Errorf("render after the lock was released: code %d\n%s%s", code, out, errOut)
	}
}

func TestRenderCheckReportsInterruptedRender(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bundle")
	if code, out, errOut := run(t, "render", "-f", example, "-o", dir); code != 0 {
		t.Fatalf("render: code %d\n%s%s", code, out, errOut)
	}
	// What a render killed after writing its journal leaves: the journal
	// (here with the old manifest as both its old and its new one) and a
	// temporary file.
	manifest, err := os.ReadFile(filepath.Join(dir, bundle.ManifestPath))
	if err != nil {
		t.Fatal(err)
	}
	var journal strings.Builder
	journal.WriteString(bundle.JournalHeader + "\n")
	lines := strings.Split(strings.TrimSuffix(string(manifest), "\n"), "\n")[1:]
	for _, tag := range []string{"old", "new"} {
		for _, l := range lines {
			journal.WriteString(tag + "  " + l + "\n")
		}
	}
	for name, content := range map[string]string{bundle.JournalPath: journal.String(), "storage/.stretch-tmp-0123456789ab": "half"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ := run(t, "render", "-f", example, "-o", dir, "--check")
	want := "interrupted  a render was interrupted (.stretch/journal exists): the folder may mix two bundles; render recovers it\n" +
		"leftover  storage/.stretch-tmp-0123456789ab (temporary file of an interrupted render; render removes it)\n" +
		"manifest  .stretch/manifest is out of date\n"
	if code != ExitFailed || out != want {
		t.Errorf("--check after an interrupted render: code %d\n got:\n%s\nwant:\n%s", code, out, want)
	}
	if code, out, errOut := run(t, "render", "-f", example, "-o", dir); code != 0 {
		t.Fatalf("recovering render: code %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := run(t, "render", "-f", example, "-o", dir, "--check"); code != 0 || out != dir+" is up to date (45 files)\n" {
		t.Errorf("--check after the recovering render: code %d, out %q", code, out)
	}
	for _, name := range []string{bundle.JournalPath, "storage/.stretch-tmp-0123456789ab"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", name, err)
		}
	}
}
