// Package bundle writes the output of `kubectl stretch render` into a
// directory, checks a directory against it and commits it with Git.
//
// A Bundle is a set of rendered files, each with a slash-separated path
// relative to the output directory and the layer (kubespray, network,
// storage, ...) that produced it. The output directory is often a Git
// repository that Flux reads, and it may hold the user's own files next to
// the rendered ones. The package therefore follows strict ownership rules:
//
//   - Render owns exactly the files listed in the manifest,
//     .stretch/manifest, which records the SHA-256 of each file as render
//     wrote it. Every other file in the directory belongs to the user.
//   - Write never modifies or removes a file it does not own. If a file that
//     render wants to write already exists, is not owned and differs from the
//     rendered content, Write refuses and lists every such path. If its
//     content is identical, Write adopts it: it becomes owned without being
//     rewritten.
//   - Write plans first and writes later: every conflict (and every name
//     too long for the file system) is found before the first change, so a
//     refused Write leaves the directory as it was, apart from the
//     temporary files of an interrupted Write, which it always removes.
//   - Each file is written atomically (temporary file in the same directory,
//     fsync, rename). A file whose content is already right is not touched,
//     so its modification time is kept. New files and directories get the
//     modes the umask allows; a changed file keeps the mode of the file it
//     replaces.
//   - An owned file that is no longer rendered (stale) is removed, together
//     with the directories that became empty because of it. A stale file
//     that the user modified since render wrote it (its hash differs from
//     the manifest) is kept, reported, and no longer owned.
//   - Before changing anything, Write records the old and the new manifest
//     in a journal, .stretch/journal, and removes it once the new manifest
//     is in place. If a Write is interrupted at any point, the next Write
//     (or Check) finds the journal, works out from it which files render
//     owns, removes the leftover temporary files and proceeds; Check
//     reports the interruption until then.
//   - LockDir serialises renders and checks of one directory with flock(2)
//     on .stretch/lock; Write and Check themselves do not lock.
//
// Check compares a directory with what Write would produce without writing
// anything, for `render --check` in CI. Commit stages exactly the files a
// Write changed, plus the manifest, and commits them with the git binary;
// it never stages the user's files, and it refuses a repository in the
// middle of a merge, rebase, cherry-pick, revert or bisect, and a detached
// HEAD unless allowed (CheckGitState checks that before a render writes).
//
// Everything this package returns is sorted by path (or by layer), so its
// output is deterministic.
package bundle
